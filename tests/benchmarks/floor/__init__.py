"""Empty functions: the cost of one hop (``main.py``, for bench_floor) and the floor under
cold starts and the cold chain (``empty.py``, for bench_coldstart)."""
