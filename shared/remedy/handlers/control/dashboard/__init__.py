"""The operator dashboard: static pages control-api serves under ``/dashboard/``.

The page holds no data: it asks for an operator token, keeps it in the browser's
session storage and sends it only as the ``Authorization: Bearer`` header of the same
REST calls everyone else makes (see docs/control-api.md). So the files are served
without a token, and every answer forbids what could leak the token or run foreign
code: scripts and connections to this origin only, no framing, no referrer, no form
submission (the sign-in form is handled by script; its field has no ``name``, so even
a submission that got through could not put the token in a URL).
"""
