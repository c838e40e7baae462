"""The typed core of each function; ``functions/<name>/main.py`` is a thin entry over one.

Grouped by what each handler is part of: ``chain/`` (the remediation chain a push
starts), ``feedback/`` (QA feedback → a Rex run), ``control/`` (control-api),
``reconciler/`` (the periodic repair pass), ``gateway`` (webhooks in), and ``common/``
(what several of them share). Handlers see ``remedy.ports``, ``remedy.domain`` and
``remedy.events`` — never an adapter, a client library or the local platform.
"""
