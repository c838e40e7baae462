"""``remedy tasks|task|cancel|watch``, run as a person runs them: ``python -m remedy.cli``
in a subprocess, against control-api served over real HTTP.

Covers: each command's table and its ``--json``; the exit codes scripts rely on — 0
done, 2 usage (a bad flag, a refused filter, nothing configured), 3 not found (404), 4
unauthorized (401) and forbidden, 5 conflict (409), 6 unavailable (503, control-api
unreachable), 7 a watch that timed out — with the reason on stderr and, with
``--json``, control-api's error on stdout; ``tasks`` pointing at the next page and
following every page with ``--all``; ``cancel`` sending the same
``cancellation.requested`` event the REST call sends (an idempotency key making a
retry the same event); ``watch`` printing changes as agents acknowledge and exiting 0
once all stopped; URL and token from flags, the environment or ``remedy up``'s state
file; the token printed nowhere, even in errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from remedy.local.http_server import ServedApp
from tests.chain import seed
from tests.control import seeding, support
from tests.intake.conftest import RecordingSink

ALICE = support.TOKENS["operator:alice"]


CONFIGURATION = ("REMEDY_CONTROL_API_URL", "REMEDY_API_TOKEN")


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without control-api's configuration, plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k not in CONFIGURATION}, **extra}


def remedy(
    *args: str, url: str | None, token: str | None = ALICE, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """``remedy ARGS`` with control-api's URL and token in the environment (when given)."""
    given = {"REMEDY_CONTROL_API_URL": url or "", "REMEDY_API_TOKEN": token or ""}
    result = subprocess.run(
        [sys.executable, "-m", "remedy.cli", *args],
        env=_env(**{k: v for k, v in given.items() if v}, **env),
        cwd=cwd,  # never a real .remedy/state.json
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for known in support.TOKENS.values():
        assert known not in result.stdout + result.stderr, "a token was printed"
    return result


@pytest.fixture
def url(served_control: ServedApp) -> str:
    return served_control.url


def test_tasks_table_and_json(url: str, cancelling: support.Cancelled, tmp_path: Path) -> None:
    shown = remedy("tasks", url=url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.splitlines()
    assert header.split() == ["TASK", "REPOSITORY", "STAGE", "EPOCH", "HEAD", "CANCELLING",
                              "CANCELLATIONS", "LAST", "CHANGE"]  # fmt: skip
    assert row.split()[:7] == [str(support.TASK), seed.REPO, "waiting-ready-for-qa",
                               str(cancelling.epoch), support.NEW[:12], "yes", "2"]  # fmt: skip
    assert header.index("REPOSITORY") == row.index(seed.REPO), "columns aligned"
    assert "2 requested" in row
    as_json = json.loads(remedy("tasks", "--json", url=url, cwd=tmp_path).stdout)
    assert as_json["tasks"][0]["cancellations"]["requested"] == 2
    assert as_json["next_cursor"] is None
    none = remedy("tasks", "--stage", "completed", url=url, cwd=tmp_path)
    assert (none.returncode, none.stdout.strip()) == (0, "no tasks")


def test_tasks_pages(url: str, control_env: dict[str, str], api: Any, tmp_path: Path) -> None:
    seeding.save(api, *(seeding.state(t) for t in (5, 6, 7)))
    first = remedy("tasks", "--limit", "2", url=url, cwd=tmp_path)
    assert [line.split()[0] for line in first.stdout.splitlines()[1:]] == ["5", "6"]
    assert "more tasks: add --cursor " in first.stderr
    cursor = first.stderr.split("--cursor ")[1].split()[0]
    rest = remedy("tasks", "--limit", "2", "--cursor", cursor, url=url, cwd=tmp_path)
    assert [line.split()[0] for line in rest.stdout.splitlines()[1:]] == ["7"]
    every = json.loads(remedy("tasks", "--limit", "1", "--all", "--json", url=url,
                              cwd=tmp_path).stdout)  # fmt: skip
    assert [t["task_id"] for t in every["tasks"]] == [5, 6, 7]


def test_task_shows_stage_timeline_and_cancellations(
    url: str, cancelling: support.Cancelled, tmp_path: Path
) -> None:
    shown = remedy("task", str(support.TASK), url=url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "waiting-ready-for-qa" in out
    assert "cancellation requested: yes (2 of epoch" in out
    assert f"epoch {cancelling.epoch}: {support.OLD[:12]} → {support.NEW[:12]}" in out
    assert "agent-cancel" in out and "2 cancelled, 1 kept" in out and "label-update" in out
    cleo = next(line for line in out.splitlines() if "agent-platform/cleo-12" in line)
    assert "requested" in cleo and "remedy/agent-cancel" in cleo
    assert f"remediation push {support.NEW[:12]}" in cleo
    detail = json.loads(remedy("task", str(support.TASK), "--json", url=url, cwd=tmp_path).stdout)
    assert detail["timeline"][0]["epoch"] == cancelling.epoch


def test_cancel_sends_the_rest_event(
    url: str, cancelling: support.Cancelled, recorder: RecordingSink, tmp_path: Path
) -> None:
    args = ("cancel", str(support.TASK), "--reason", "spec changed", "--idempotency-key", "k1")
    done = remedy(*args, "--repository", seed.REPO, url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    again = json.loads(remedy(*args, "--json", url=url, cwd=tmp_path).stdout)
    first, second = support.sent(recorder)
    assert first["id"] == second["id"] == again["event_id"]
    assert again["event_id"] in done.stdout
    assert first.get_data()["reason"] == "spec changed"
    assert first.get_data()["requested_by"] == "operator:alice"
    assert first.get_data()["origin"] == "api"


def test_exit_codes_for_refusals(
    url: str, cancelling: support.Cancelled, recorder: RecordingSink, tmp_path: Path
) -> None:
    def code(*args: str, token: str = ALICE, where: str = url) -> tuple[int, str]:
        result = remedy(*args, url=where, token=token, cwd=tmp_path)
        return result.returncode, result.stderr

    assert code("task", "77") == (
        3,
        "remedy task: 404 not_found: task 77 has no remediation state\n",
    )
    status, said = code("tasks", token="not-a-token-of-anyone-0123")
    assert (status, said.split(":")[1].strip()) == (4, "401 unauthorized")
    status, said = code("cancel", "12", "--reason", "r", "--repository", "some/other")
    assert status == 5 and "409 wrong_state" in said and "belongs to 5dlabs/cto" in said
    assert code("tasks", "--stage", "reviewing")[0] == 2
    assert code("tasks", "--limit", "0")[0] == 2
    assert code("cancel", "12")[0] == 2, "argparse: --reason is required"
    assert code("tasks", where="http://127.0.0.1:9")[0] == 6
    recorder.status = 500
    status, said = code("cancel", "12", "--reason", "r")
    assert status == 6 and "503 broker_unavailable" in said
    refused = remedy("task", "77", "--json", url=url, cwd=tmp_path)
    assert json.loads(refused.stdout) == {
        "error": "not_found", "message": "task 77 has no remediation state", "status": 404,
    }  # fmt: skip


def test_watch_follows_acknowledgements_and_exits_0(
    url: str, control: Client, cancelling: support.Cancelled, tmp_path: Path
) -> None:
    watching = subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "watch", str(support.TASK), "--timeout", "60"],
        env=_env(REMEDY_CONTROL_API_URL=url, REMEDY_API_TOKEN=ALICE),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert watching.stdout is not None
    try:
        seen = [watching.stdout.readline() for _ in range(4)]  # heading, table header, 2 runs
        assert seen[0].startswith(f"task {support.TASK}, epoch {cancelling.epoch}")
        for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
            acked = control.post(support.ack_path(name), headers=support.auth(agent))
            assert acked.status_code == 200
        out, err = watching.communicate(timeout=30)
    finally:
        watching.kill()
    assert watching.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "all stopped"
    assert any(line.startswith("agent-platform/cleo-12: requested → gone") for line in lines)
    assert any(line.startswith("agent-platform/tess-12: requested → gone") for line in lines)


def test_watch_exit_codes(url: str, cancelling: support.Cancelled, tmp_path: Path) -> None:
    timed_out = remedy("watch", str(support.TASK), "--timeout", "0.3", url=url, cwd=tmp_path)
    assert timed_out.returncode == 7
    assert timed_out.stdout.splitlines()[-1].startswith("timed out after 0.3 s")
    as_json = remedy("watch", "12", "--timeout", "0.3", "--json", url=url, cwd=tmp_path)
    assert [json.loads(line)["type"] for line in as_json.stdout.splitlines()] == [
        "snapshot", "end",
    ]  # fmt: skip
    assert as_json.returncode == 7
    assert remedy("watch", "77", url=url, cwd=tmp_path).returncode == 3
    assert remedy("watch", "12", "--timeout", "301", url=url, cwd=tmp_path).returncode == 2


def test_where_control_api_is(url: str, cancelling: support.Cancelled, tmp_path: Path) -> None:
    nothing = remedy("tasks", url=None, token=None, cwd=tmp_path)
    assert nothing.returncode == 2
    assert "no control-api URL" in nothing.stderr
    flags = remedy("tasks", "--url", url, "--token", ALICE, url=None, token=None, cwd=tmp_path)
    assert flags.returncode == 0, flags.stderr

    state = {"control_api_url": url, "api_tokens": {"operator:alice": ALICE}}
    (tmp_path / ".remedy").mkdir()
    (tmp_path / ".remedy" / "state.json").write_text(json.dumps(state))
    local = remedy("tasks", url=None, token=None, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({**state, "control_api_url": "http://127.0.0.1:9"}))
    moved = remedy("tasks", "--state-file", str(elsewhere), url=None, token=None, cwd=tmp_path)
    assert moved.returncode == 6, "it used the given state file, whose control-api is down"
    other = remedy("tasks", url="http://127.0.0.1:9", token=None, cwd=tmp_path)
    assert other.returncode == 2 and "no control-api token" in other.stderr
