"""A CloudEvent function that does nothing: the cost of one hop, for bench_floor."""
