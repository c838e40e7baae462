"""Redis, over independent masters: the parallel fan-out, Redlock with fencing tokens,
the idempotency ledger (and its port adapter) and the per-task push logs."""
