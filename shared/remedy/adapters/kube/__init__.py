"""Kubernetes through the official client: CodeRuns, play workflows, the remediation
state ConfigMaps, remediation runs, and the client's throttled credential refresh."""
