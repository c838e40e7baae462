"""One adapter per outside system: Redis, the broker over HTTP, Kubernetes, GitHub."""
