"""GitHub through PyGithub: one transport (rate limits, retries, a circuit breaker) under
the pull-request label writes and pull-request head reads."""
