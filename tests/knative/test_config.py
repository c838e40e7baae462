"""knative/config.yaml lists exactly the settings the deployed code reads, at its defaults.

The code is scanned (tests/knative/source_scan.py): every ``REMEDY_*`` name held as a
string constant by a module a deployed function can run, and the default passed next to
it where it is read. So a variable added to the code without a ConfigMap entry, an entry
the code no longer reads, or a default changed on one side only fails here.

Covers:
- every ``REMEDY_*`` name the deployed code reads is in remedy-config, or is one of the
  Secret keys (which must never be in the ConfigMap); every key of remedy-config is read
  by the deployed code (``REMEDY_*`` or not);
- each ``REMEDY_*`` value in remedy-config equals the code's default wherever the code
  reads it (numbers compared as numbers), but for the deliberate deployment choices in
  ``DEPLOYED`` (JSON logs; text stays the default locally), which must hold the value
  named there and differ from the code's default; GITHUB_API_URL equals the adapter's
  default, and REDIS_URLS names the three masters of redis.yaml;
- the scan itself: it follows the functions' imports and not local-only tooling, finds
  names and defaults it must find, and the comparison flags a missing entry, an entry
  nobody reads and a changed default (so these tests can fail).
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.adapters.github.settings import DEFAULT_API_URL
from tests.knative import source_scan
from tests.knative.support import ROOT, of_kind

SECRET_KEYS = frozenset({"WEBHOOK_SECRET", "GITHUB_TOKEN", "REMEDY_API_TOKENS"})
"""Kept in the Secret remedy-secrets and handed out per key (see test_services.py)."""
REDIS = ("redis-0", "redis-1", "redis-2")
DEPLOYED = {"REMEDY_LOG_FORMAT": "json"}
"""Settings the deployment sets away from the code's default on purpose, and to what."""


def config_data() -> dict[str, str]:
    (config,) = [c for c in of_kind("ConfigMap", "v1") if c["metadata"]["name"] == "remedy-config"]
    data: dict[str, str] = config["data"]
    return data


def problems(
    data: dict[str, str], *, read: set[str], reads: list[source_scan.Read], constants: set[str]
) -> list[str]:
    """Every disagreement between a ConfigMap's ``data`` and what the code reads."""
    found = [f"{name} is read by the code but not in remedy-config" for name in
             sorted(read - set(data) - SECRET_KEYS)]  # fmt: skip
    found += [f"{key} is in remedy-config but no deployed code reads it" for key in
              sorted(set(data) - constants)]  # fmt: skip
    found += [f"{key} is a Secret key; it must not be in the ConfigMap" for key in
              sorted(SECRET_KEYS & set(data))]  # fmt: skip
    for each in reads:
        if each.name in SECRET_KEYS or each.name not in data:
            continue
        if each.name in DEPLOYED:
            if data[each.name] != DEPLOYED[each.name] or source_scan.same_value(
                data[each.name], each.default
            ):
                found.append(
                    f"{each.name}: remedy-config says {data[each.name]!r}, the deployment's "
                    f"choice is {DEPLOYED[each.name]!r} (the code's default: {each.default!r})"
                )
            continue
        if not source_scan.same_value(data[each.name], each.default):
            where = f"{each.file.relative_to(ROOT)}:{each.line}"
            found.append(
                f"{each.name}: remedy-config says {data[each.name]!r}, the code's default "
                f"at {where} is {each.default!r}"
            )
    return found


def scanned() -> dict[str, Any]:
    files = source_scan.deployed_files()
    return {
        "read": source_scan.remedy_names(files),
        "reads": source_scan.reads(files),
        "constants": set().union(*(source_scan.constants(f) for f in files)),
    }


def test_config_map_and_code_agree() -> None:
    assert problems(config_data(), **scanned()) == []


def test_every_remedy_name_read_is_read_through_a_call_with_its_default() -> None:
    found = scanned()
    through_calls = {each.name for each in found["reads"]}
    assert found["read"] <= through_calls, "a REMEDY_* name is read some other way"


def test_connections() -> None:
    data = config_data()
    urls = [part.strip() for part in data["REDIS_URLS"].split(",")]
    assert urls == [f"redis://{name}.remedy.svc.cluster.local:6379/0" for name in REDIS]
    deployments = {d["metadata"]["name"] for d in of_kind("Deployment", "apps/v1")}
    assert deployments == set(REDIS)
    assert data["GITHUB_API_URL"] == DEFAULT_API_URL
    assert all(isinstance(value, str) for value in data.values())


def test_scan_follows_the_functions_and_nothing_else() -> None:
    files = {str(p.relative_to(ROOT)) for p in source_scan.deployed_files()}
    assert "functions/reconciler/main.py" in files
    assert "shared/remedy/wiring.py" in files
    assert "shared/remedy/adapters/github/settings.py" in files  # through wiring's imports
    assert not any(part in f for f in files for part in ("/emulators/", "/platform/", "/broker/"))


def test_scan_finds_known_reads_and_their_defaults() -> None:
    found = {(r.name, r.file.name): r.default for r in scanned()["reads"]}
    assert found[("REMEDY_MAX_ITERATIONS", "config.py")] == "10"
    assert found[("REMEDY_FORCE_GRACE_SECONDS", "reconciler.py")] == 10
    # a default named by a constant is resolved in the module that reads it
    assert found[("REMEDY_QA_AGENTS", "wiring.py")] == "5DLabs-Tess,5DLabs-Tess[bot]"
    assert found[("REMEDY_API_TOKENS", "wiring.py")] == ""


def _drop(data: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: _drop(d, "REMEDY_MAX_REDRIVES"),
            "REMEDY_MAX_REDRIVES is read by the code but not in remedy-config",
            id="missing",
        ),
        pytest.param(
            lambda d: {**d, "REMEDY_NOBODY_READS_THIS": "1"},
            "REMEDY_NOBODY_READS_THIS is in remedy-config but no deployed code reads it",
            id="unread",
        ),
        pytest.param(
            lambda d: {**d, "REMEDY_CANCEL_GRACE_SECONDS": "45"},
            "REMEDY_CANCEL_GRACE_SECONDS: remedy-config says '45'",
            id="default-changed",
        ),
        pytest.param(
            lambda d: {**d, "REMEDY_LOG_FORMAT": "text"},
            "REMEDY_LOG_FORMAT: remedy-config says 'text', the deployment's choice is 'json'",
            id="deployment-choice-lost",
        ),
        pytest.param(
            lambda d: {**d, "GITHUB_TOKEN": "x"},
            "GITHUB_TOKEN is a Secret key; it must not be in the ConfigMap",
            id="secret",
        ),
    ],
)
def test_disagreements_are_reported(change: Any, expected: str) -> None:
    found = problems(change(dict(config_data())), **scanned())
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize(
    ("configured", "default", "same"),
    [
        ("30", "30", True),
        ("30.0", 30, True),
        ("30", 30.0, True),
        ("31", 30, False),
        ("", "", True),
        ("x", source_scan.REQUIRED, False),
        ("ten", 10, False),
    ],
)
def test_values_compare_as_the_code_parses_them(configured: str, default: Any, same: bool) -> None:
    assert source_scan.same_value(configured, default) is same
