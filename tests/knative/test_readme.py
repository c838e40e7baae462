"""knative/README.md's tables say what the manifests and the catalogue say.

The README is what an operator reads before applying the manifests, so its tables are
parsed and compared with the applied objects rather than trusted.

Covers:
- the Functions table: one row per function; its Kubernetes permissions equal what
  the Roles grant the function's ServiceAccount (resource, verbs, namespace); its
  Secret keys equal the Service's secretKeyRefs; Redis says whether the pods carry
  the Redis client label; "Emits by" is K_SINK exactly for SinkBinding subjects;
- the Routing table: one row per catalogued type; the producers it names are the
  catalogue's; the Triggers it names route that type to those functions, and terminal
  types say so;
- the parsers reject a cell they do not understand (so a reworded table fails loudly).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from remedy.events.catalogue import CATALOGUE, GITHUB_SOURCE, PING_SOURCE
from tests.knative.support import (
    FUNCTIONS,
    KNATIVE,
    Permissions,
    account,
    env,
    ksvc,
    of_kind,
    permissions_of,
)

README = KNATIVE / "README.md"
HOMES = {
    "coderuns": "agents.platform",
    "workflows": "argoproj.io",
    "configmaps": "",
    "events": "events.k8s.io",
}
GRANT = re.compile(
    r"^(?P<resource>[a-z]+) (?P<verbs>[a-z]+(?:/[a-z]+)*) \((?P<namespace>[a-z-]+)\)$"
)
TRIGGER = re.compile(r"`(?P<trigger>[a-z0-9-]+)`(?: \([^)]*\))? → (?P<function>[a-z-]+)")


def table(header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with ``header``."""
    lines = README.read_text().splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith(header)]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def parse_permissions(cell: str) -> Permissions:
    if cell.startswith("none"):
        return {}
    granted: Permissions = {}
    for part in cell.split("; "):
        found = GRANT.match(part)
        if found is None:
            raise ValueError(f"cannot read the grant {part!r}")
        resource = found["resource"]
        key = (found["namespace"], HOMES[resource], resource)
        granted[key] = frozenset(found["verbs"].split("/"))
    return granted


def parse_keys(cell: str) -> set[str]:
    if cell == "—":
        return set()
    keys = {key.strip() for key in cell.split(",")}
    if not all(re.fullmatch(r"[A-Z][A-Z0-9_]*", key) for key in keys):
        raise ValueError(f"cannot read the Secret keys {cell!r}")
    return keys


def functions_table() -> dict[str, list[str]]:
    rows = table("| Function | Kubernetes permissions")
    by_function = {row[0]: row[1:] for row in rows}
    assert len(by_function) == len(rows), "a function appears twice"
    return by_function


def test_functions_table_covers_every_function() -> None:
    assert set(functions_table()) == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_table_row(function: str) -> None:
    permissions, keys, redis, emits = functions_table()[function]
    assert parse_permissions(permissions) == permissions_of(account(function))
    secret_refs = {name for name, value in env(ksvc(function)).items() if isinstance(value, dict)}
    assert parse_keys(keys) == secret_refs
    labels = ksvc(function)["spec"]["template"]["metadata"]["labels"]
    assert redis == ("yes" if labels.get("remedy.dev/redis-client") == "true" else "no")
    bound = {b["spec"]["subject"]["name"] for b in of_kind("SinkBinding")}
    assert emits == ("K_SINK" if function in bound else "reply")


def test_routing_table_matches_catalogue_and_triggers() -> None:
    rows = {row[0].strip("`"): row[1:] for row in table("| Event type | Produced by")}
    assert set(rows) == {entry.type for entry in CATALOGUE}
    names = (*FUNCTIONS, GITHUB_SOURCE, PING_SOURCE)
    routes = {}
    for trigger in of_kind("Trigger"):
        spec = trigger["spec"]
        key = (spec["filter"]["attributes"]["type"], trigger["metadata"]["name"])
        routes[key] = spec["subscriber"]["ref"]["name"]
    for entry in CATALOGUE:
        produced, routed = rows[entry.type]
        named = {n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", produced)}
        assert named == set(entry.producers), entry.type
        if entry.terminal:
            assert routed == "terminal", entry.type
            continue
        listed = {(entry.type, m["trigger"]): m["function"] for m in TRIGGER.finditer(routed)}
        assert listed == {k: v for k, v in routes.items() if k[0] == entry.type}, entry.type


@pytest.mark.parametrize(
    ("parse", "cell"),
    [
        (parse_permissions, "coderuns get, list (agent-platform)"),
        (parse_permissions, "coderuns get/list"),
        (parse_keys, "GITHUB_TOKEN and more"),
    ],
)
def test_unreadable_cells_are_errors(parse: Callable[[str], object], cell: str) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        parse(cell)


def test_permissions_parse() -> None:
    parsed = parse_permissions("coderuns get/delete (agent-platform); configmaps get (remedy)")
    assert parsed == {
        ("agent-platform", "agents.platform", "coderuns"): frozenset({"get", "delete"}),
        ("remedy", "", "configmaps"): frozenset({"get"}),
    }
