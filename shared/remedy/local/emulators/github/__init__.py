"""The GitHub REST API emulator: enough of api.github.com v3 for unmodified PyGithub.

``GitHubEmulator`` (in :mod:`.server`) starts it in-process; ``remedy emulate
github`` runs it standalone. The in-memory model (:mod:`.model`) is the same object
the HTTP API (:mod:`.api`) serves, so tests seed and inspect either way.
"""
