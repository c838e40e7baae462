"""The local platform's emulators: the Kubernetes API, the GitHub REST API, the agents.

They are product, not test scaffolding: users run remedy locally and in their own CI
on them. Each keeps its in-memory model and its HTTP server as one piece of code, and
the real, unmodified clients (kubernetes, kubectl, PyGithub) talk to it over HTTP.
"""
