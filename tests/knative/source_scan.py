"""What the deployed code needs, read from the source, for the deployment tests.

The manifests must follow the code, not a table someone remembered to update, so these
helpers read the code itself (with :mod:`ast`, never by importing it for side effects):

- which modules a deployed function can run: the import closure of
  ``functions/*/main.py`` (imports inside functions included), so local-only tooling
  (emulators, the local broker, the CLI) does not count;
- which environment variables that code reads, and with which default: every string
  constant that is exactly a ``REMEDY_*`` name, and the argument after it in the call
  that reads it (``_get(env, "REMEDY_X", "30")``, ``_number(env, "REMEDY_Y", 10)``);
- what each function's factory in ``shared/remedy/wiring.py`` builds: the calls it
  reaches, followed through wiring's own helpers (``_tasks`` → ``_redis`` → ...), from
  which Kubernetes, Redis, GitHub, K_SINK, Secret and Kubernetes Event use follow.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.knative.support import FUNCTIONS, ROOT

SRC = ROOT / "shared"
PACKAGE = SRC / "remedy"
WIRING = PACKAGE / "wiring.py"
REMEDY_NAME = re.compile(r"^REMEDY_[A-Z0-9_]+$")
REQUIRED = object()
"""The default of a variable read without one."""


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def module_file(name: str) -> Path | None:
    """The file of module ``remedy.x.y``, or None when it is not one of remedy's."""
    if name != "remedy" and not name.startswith("remedy."):
        return None
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> set[Path]:
    found: set[Path] = set()
    for node in ast.walk(_tree(path)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            # a package's __init__ runs too when a submodule is imported
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                file = module_file(".".join(parts[:end]))
                if file is not None:
                    found.add(file)
    return found


@functools.cache
def deployed_files() -> tuple[Path, ...]:
    """Every file a deployed function can execute: the mains and their import closure."""
    mains = [ROOT / "functions" / name / "main.py" for name in FUNCTIONS]
    seen: set[Path] = set(mains)
    todo = list(mains)
    while todo:
        for file in _imported(todo.pop()) - seen:
            seen.add(file)
            todo.append(file)
    return tuple(sorted(seen))


@dataclass(frozen=True)
class Read:
    """One place the code reads an environment variable."""

    name: str
    file: Path
    line: int
    default: Any
    """The default's value, :data:`REQUIRED` when there is none."""


def _value(node: ast.expr, path: Path) -> Any:
    """A default as the code would see it: a literal, or a name resolved in its module."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name | ast.Attribute):
        first, *rest = ast.unparse(node).split(".")
        value: Any = importlib.import_module(module_name(path))
        value = getattr(value, first) if hasattr(value, first) else _locally_imported(first, path)
        for part in rest:
            value = getattr(value, part)
        return value
    raise AssertionError(f"{path}:{node.lineno}: cannot evaluate the default {ast.unparse(node)}")


def _locally_imported(name: str, path: Path) -> Any:
    """``name`` as a function of ``path`` imports it (wiring imports inside factories)."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return getattr(importlib.import_module(node.module), alias.name)
    raise AssertionError(f"{path}: {name} is neither defined nor imported")


def constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def remedy_names(files: tuple[Path, ...]) -> set[str]:
    """Every ``REMEDY_*`` name the files hold as a string constant of its own."""
    return {value for path in files for value in constants(path) if REMEDY_NAME.match(value)}


def reads(files: tuple[Path, ...]) -> list[Read]:
    """Every call that passes a ``REMEDY_*`` name, with the argument after it as default."""
    found: list[Read] = []
    for path in files:
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            for index, arg in enumerate(node.args):
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    continue
                if not REMEDY_NAME.match(arg.value):
                    continue
                rest = node.args[index + 1 :]
                default = _value(rest[0], path) if rest else REQUIRED
                found.append(Read(arg.value, path, node.lineno, default))
    return found


def same_value(configured: str, default: Any) -> bool:
    """Whether a ConfigMap string means the code's default (numbers compared as numbers)."""
    if isinstance(default, bool) or default is REQUIRED:
        return False
    if isinstance(default, int | float):
        try:
            return float(configured) == float(default)
        except ValueError:
            return False
    return bool(configured == str(default))


# -- wiring.py --------------------------------------------------------------------------


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


@functools.cache
def _wiring_defs() -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in _tree(WIRING).body if isinstance(n, ast.FunctionDef)}


@functools.cache
def github_clients() -> frozenset[str]:
    """Names wiring imports from remedy's GitHub adapters (``remedy.adapters.github``),
    at the top or inside the factories that use them."""
    return frozenset(
        alias.asname or alias.name
        for node in ast.walk(_tree(WIRING))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("remedy.adapters.github")
        for alias in node.names
    )


@dataclass(frozen=True)
class Reach:
    calls: frozenset[str]
    """Dotted names called, e.g. ``config.sink_url``, ``PullRequestsClient.from_env``."""
    strings: frozenset[str]


@functools.cache
def reach(factory: str) -> Reach:
    """What wiring's ``factory`` calls, following wiring's own helper functions."""
    defs = _wiring_defs()
    assert factory in defs, f"wiring has no factory {factory}"
    calls: set[str] = set()
    strings: set[str] = set()
    todo, seen = [factory], {factory}
    while todo:
        body = defs[todo.pop()]
        for node in ast.walk(body):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            if isinstance(node, ast.Call) and (name := _dotted(node.func)):
                calls.add(name)
                if name in defs and name not in seen:
                    seen.add(name)
                    todo.append(name)
    return Reach(frozenset(calls), frozenset(strings))


def factory_of(function: str) -> str:
    """The wiring factory ``functions/<function>/main.py`` hands to its entry point."""
    source = (ROOT / "functions" / function / "main.py").read_text()
    (factory,) = set(re.findall(r"\bwiring\.([a-z_]+)\b", source))
    return factory


@dataclass(frozen=True)
class Needs:
    kubernetes: bool
    redis: bool
    github: bool
    sink: bool
    secrets: frozenset[str]
    events: bool = False
    """Whether it records Kubernetes Events (wiring gives its steps ``_audit(...)``)."""


def needs(function: str) -> Needs:
    found = reach(factory_of(function))
    github = any(call.split(".")[0] in github_clients() for call in found.calls)
    secrets = {
        "GITHUB_TOKEN": github,
        "WEBHOOK_SECRET": "config.webhook_secrets" in found.calls,
        "REMEDY_API_TOKENS": "REMEDY_API_TOKENS" in found.strings,
    }
    return Needs(
        kubernetes="_kube" in found.calls,
        redis=bool({"_redis", "_redis_for", "_ledger_for"} & found.calls),
        github=github,
        sink="config.sink_url" in found.calls,
        secrets=frozenset(name for name, used in secrets.items() if used),
        events="_audit" in found.calls,
    )
