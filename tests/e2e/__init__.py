"""End-to-end tests through ``remedy up``: real processes, ports and signals.

A package (not only a folder) so that the platform the test_up_workflow* modules share
is package-scoped: pytest ties package scope to an ``__init__.py`` and would otherwise
keep it running for the rest of the session.
"""
