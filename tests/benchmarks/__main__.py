"""Run every benchmark module and print one JSON document.

Usage: ``python -m tests.benchmarks [NAME ...] [--output FILE]``; with names, only the
``bench_<NAME>`` modules run. The exit code is 1 when a reported target was missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import Any

import tests.benchmarks as package


def _modules(selected: list[str]) -> list[str]:
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("bench_")
    )
    unknown = set(selected) - set(names)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have {names}")
    return [name for name in names if not selected or name in selected]


def _missed(results: Any) -> list[str]:
    """Paths of every ``{"met": false}`` inside the results."""
    missed: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("met") is False:
                missed.append(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

    walk(results, "")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "benchmarks": {},
    }
    for name in _modules(args.names):
        module = importlib.import_module(f"tests.benchmarks.bench_{name}")
        started = time.perf_counter()
        report["benchmarks"][name] = module.run()
        print(f"bench {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    report["missed_targets"] = _missed(report["benchmarks"])
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 1 if report["missed_targets"] else 0


if __name__ == "__main__":
    sys.exit(main())
