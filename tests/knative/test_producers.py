"""The catalogue's producers of remedy's own events are the functions whose code builds them.

Read from the handlers' source (with ast): a handler module names its function in a
``PRODUCER`` constant and builds an event's data model (``AgentsStopped(...)``) before
wrapping it into the event; a helper module without a ``PRODUCER`` of its own (the
``agents.stopped`` builder in stopping.py, feedback-intake's effects) builds for every
function module that imports it, directly or through other such helpers. A re-drive
by the reconciler re-sends a recorded event unchanged (its source stays the original
producer's), so it builds nothing and does not count.

Covers:
- for every ``dev.remedy.*`` type, the catalogue's producers are exactly the functions
  whose code builds it (so feedback-intake, which cancels through the shared canceller,
  does not produce ``cancellation.requested``; the reconciler produces
  ``workflow.resumed`` for a kept resume it applied and ``agents.stopped``;
  agent-cancel does not produce ``agents.stopped``);
- every ``PRODUCER`` constant names a deployed function, and every data model is built
  somewhere (so the scan cannot silently find nothing).
"""

from __future__ import annotations

import ast
from pathlib import Path

from remedy.events import models
from remedy.events.catalogue import CATALOGUE
from tests.knative.source_scan import PACKAGE
from tests.knative.support import FUNCTIONS

HANDLERS = PACKAGE / "handlers"
MODEL_TYPES = {model.__name__: model.event_type for model in models.MODELS}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def producer_constant(tree: ast.Module) -> str | None:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [ast.unparse(t) for t in node.targets] == ["PRODUCER"]
            and isinstance(node.value, ast.Constant)
        ):
            return str(node.value.value)
    return None


def built_types(tree: ast.Module) -> set[str]:
    """Event types whose data model the module constructs (``Model(...)``, not parsing)."""
    return {
        MODEL_TYPES[node.func.id]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in MODEL_TYPES
    }


def imported_handlers(tree: ast.Module) -> set[str]:
    """Handler modules (dotted, below ``remedy.handlers``) the module imports, or imports
    names from."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module != "remedy.handlers" and not node.module.startswith("remedy.handlers."):
                continue
            base = node.module.removeprefix("remedy.handlers").lstrip(".")
            if base:
                found.add(base)
            found |= {f"{base}.{alias.name}" if base else alias.name for alias in node.names}
    return found


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(HANDLERS).with_suffix("").parts)


def produced_by_code() -> dict[str, set[str]]:
    """function -> the dev.remedy.* types its handler code builds."""
    trees = {
        _dotted(path): _tree(path) for path in HANDLERS.rglob("*.py") if path.stem != "__init__"
    }
    owners = {name: producer_constant(tree) for name, tree in trees.items()}
    produced: dict[str, set[str]] = {}
    for name in trees:
        producer = owners[name]
        if producer is None:
            continue
        types = produced.setdefault(producer, set())
        # the module itself, and the PRODUCER-less helpers it reaches through imports
        todo, seen = [name], {name}
        while todo:
            current = todo.pop()
            types |= built_types(trees[current])
            for helper in imported_handlers(trees[current]) - seen:
                if helper in trees and owners[helper] is None:
                    seen.add(helper)
                    todo.append(helper)
    return {function: types for function, types in produced.items() if types}


def produced_by_catalogue() -> dict[str, set[str]]:
    produced: dict[str, set[str]] = {}
    for entry in CATALOGUE:
        if not entry.type.startswith("dev.remedy."):
            continue
        for producer in entry.producers:
            produced.setdefault(producer, set()).add(entry.type)
    return produced


def test_catalogue_producers_are_the_functions_whose_code_builds_the_event() -> None:
    assert produced_by_catalogue() == produced_by_code()


def test_the_scan_sees_every_producer_and_every_model() -> None:
    code = produced_by_code()
    assert set(code) <= set(FUNCTIONS)
    assert set().union(*code.values()) == set(MODEL_TYPES.values())
    # helpers are attributed through their importers
    assert "dev.remedy.agents.stopped" in code["control-api"]
    assert "dev.remedy.remediation.started" in code["feedback-intake"]


def test_built_types_counts_construction_not_parsing() -> None:
    tree = ast.parse("a = AgentsStopped(task_id=1)\nb = CancellationRequested.model_validate({})\n")
    assert built_types(tree) == {"dev.remedy.agents.stopped"}
