"""Benchmarks (``make bench``): speed and memory targets, checked by numbers, not tests.

Each ``bench_<name>.py`` module exposes ``run() -> dict`` returning JSON-able results,
including the target it is checked against and whether it was met.
"""
