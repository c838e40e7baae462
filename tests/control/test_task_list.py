"""The task list, ``GET /v1/tasks``, over the emulated platform.

Covers: pages in ascending task id that together hold every task once, each page's
``next_cursor`` leading to the next and the last one's null; the default and the
bounds of ``limit``; a cursor that was edited, cut, forged without its checksum, or
used with another filter → 400 (one used without its filters keeps them); filters by
repository (case-insensitive) and by stage, each validated (400), and an unknown
parameter → 400; the stage read from the play workflow (null without one, ``pending``
without a label, the newest unfinished of several); the newest head by the push
order, the cancellation counts by status, ``cancellation_requested`` only for the
current epoch, ``last_change`` the newest history entry; a page costs one list of
states and one of play workflows, whatever its size; agents and operators may list,
nobody else (401); a real remediation shows up as it happened.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client
from werkzeug.test import Client

from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.control import seeding, support

ALICE = support.auth("operator:alice")
IDS = (3, 1, 12, 40, 7, 100, 25)


def _list(control: Client, query: str = "", headers: dict[str, str] = ALICE) -> Any:
    return control.get(f"/v1/tasks{'?' + query if query else ''}", headers=headers)


def _ok(control: Client, query: str = "") -> dict[str, Any]:
    response = _list(control, query)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def _ids(page: dict[str, Any]) -> list[int]:
    return [item["task_id"] for item in page["tasks"]]


@pytest.fixture
def many(control_env: dict[str, str], api: client.ApiClient) -> None:
    seeding.save(api, *(seeding.state(task_id) for task_id in IDS))


def test_pages_hold_every_task_once_in_task_id_order(control: Client, many: None) -> None:
    pages, query = [], "limit=3"
    while True:
        page = _ok(control, query)
        pages.append(_ids(page))
        if page["next_cursor"] is None:
            break
        query = f"limit=3&cursor={page['next_cursor']}"
    assert pages == [[1, 3, 7], [12, 25, 40], [100]]


def test_a_page_that_ends_exactly_at_the_last_task_has_no_cursor(
    control: Client, many: None
) -> None:
    assert _ok(control, "limit=7")["next_cursor"] is None
    assert _ok(control, "limit=6")["next_cursor"] is not None


def test_a_task_added_between_pages_appears_once_in_its_place(
    control: Client, many: None, api: client.ApiClient
) -> None:
    first = _ok(control, "limit=3")
    seeding.save(api, seeding.state(2), seeding.state(13))  # before and after the cursor
    second = _ok(control, f"limit=3&cursor={first['next_cursor']}")
    assert _ids(first) == [1, 3, 7]
    assert _ids(second) == [12, 13, 25]


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("limit=0", "limit='0'"),
        ("limit=201", "limit='201'"),
        ("limit=-1", "limit='-1'"),
        ("limit=ten", "limit='ten'"),
        ("limit=", "limit=''"),
        ("stage=reviewing", "'reviewing' is not a play workflow stage"),
        ("repository=no-slash", "'no-slash' is not a GitHub 'owner/name'"),
        ("repository=a/b/c", "'a/b/c' is not a GitHub"),
        ("repo=5dlabs/cto", "unknown parameter 'repo'"),
        ("cursor=", "the cursor is not one this API issued"),
        ("cursor=abc", "the cursor is not one this API issued"),
    ],
)
def test_bad_parameters_are_400(control: Client, many: None, query: str, complaint: str) -> None:
    response = _list(control, query)
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    assert complaint in response.json["message"]


def test_the_default_limit_is_50_and_200_is_allowed(
    control: Client, control_env: dict[str, str], api: client.ApiClient
) -> None:
    seeding.save(api, *(seeding.state(task_id) for task_id in range(1, 52)))
    page = _ok(control)
    assert _ids(page) == list(range(1, 51))
    assert page["next_cursor"] is not None
    assert _ids(_ok(control, "limit=200")) == list(range(1, 52))


def _cursor(control: Client) -> str:
    cursor: str = _ok(control, "limit=3")["next_cursor"]
    return cursor


def _forged(cursor: str, **changes: Any) -> str:
    """The cursor's payload changed and re-encoded, its checksum kept."""
    body, _, check = cursor.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = json.dumps({**payload, **changes}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(forged).decode().rstrip("=") + "." + check


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: _forged(c, after=1), id="position changed"),
        pytest.param(lambda c: _forged(c, repository="other/repo"), id="filter changed"),
        pytest.param(lambda c: c[:-2], id="cut short"),
        pytest.param(lambda c: c.split(".")[0], id="no checksum"),
        pytest.param(lambda c: ("B" if c[0] != "B" else "C") + c[1:], id="one character"),
        pytest.param(lambda c: c + "=", id="padding added"),
        pytest.param(lambda c: c.replace(".", ".."), id="two dots"),
    ],
)
def test_a_tampered_cursor_is_400(control: Client, many: None, tamper: Any) -> None:
    cursor = _cursor(control)
    assert _list(control, f"limit=3&cursor={cursor}").status_code == 200
    response = _list(control, f"limit=3&cursor={tamper(cursor)}")
    assert response.status_code == 400
    assert "the cursor is not one this API issued" in response.json["message"]


def _two_repositories(api: client.ApiClient) -> None:
    seeding.save(
        api,
        *(seeding.state(t, repository="5dlabs/cto") for t in (1, 2, 3)),
        *(seeding.state(t, repository="5dlabs/other") for t in (4, 5, 6)),
    )


def test_repository_filter_case_insensitive_and_kept_by_the_cursor(
    control: Client, control_env: dict[str, str], api: client.ApiClient
) -> None:
    _two_repositories(api)
    assert _ids(_ok(control, "repository=5DLabs/Other")) == [4, 5, 6]
    first = _ok(control, "repository=5dlabs/other&limit=2")
    assert _ids(first) == [4, 5]
    cursor = first["next_cursor"]
    assert _ids(_ok(control, f"cursor={cursor}")) == [6], "the cursor keeps its filter"
    assert _ids(_ok(control, f"repository=5dlabs/OTHER&cursor={cursor}")) == [6]
    response = _list(control, f"repository=5dlabs/cto&cursor={cursor}")
    assert response.status_code == 400
    assert "repository='5dlabs/other', not '5dlabs/cto'" in response.json["message"]
    assert _list(control, f"stage=completed&cursor={cursor}").status_code == 400


def test_stage_comes_from_the_play_workflow_and_filters(
    control: Client, control_env: dict[str, str], api: client.ApiClient, custom: Any
) -> None:
    seeding.save(api, *(seeding.state(t) for t in (1, 2, 3, 4)))
    seeding.workflow(custom, task=1, stage="waiting-pr-approved")
    seeding.workflow(custom, task=2, stage=None)  # no label yet: pending
    seeding.workflow(custom, task=4, stage="completed", name="play-4-old", phase="Succeeded")
    seeding.workflow(custom, task=4, stage="waiting-ready-for-qa", name="play-4-new")
    seeding.workflow(custom, task=9, stage="waiting-pr-approved")  # a task without state
    stages = {item["task_id"]: item["stage"] for item in _ok(control)["tasks"]}
    assert stages == {1: "waiting-pr-approved", 2: "pending", 3: None, 4: "waiting-ready-for-qa"}
    assert _ids(_ok(control, "stage=waiting-pr-approved")) == [1]
    assert _ids(_ok(control, "stage=pending")) == [2]
    assert _ids(_ok(control, "stage=completed")) == []


def test_each_item_summarises_the_task(
    control: Client, control_env: dict[str, str], api: client.ApiClient
) -> None:
    old, new = 1_900_000_000_000_001, 1_900_000_005_000_002
    seeding.save(
        api,
        seeding.state(
            5,
            epoch=new,
            heads=[seeding.head(new, "b" * 40, before="a" * 40), seeding.head(old, "a" * 40)],
            cancellations=[
                seeding.cancellation("cleo-1", "gone", epoch=old),
                seeding.cancellation("tess-1", "forced", epoch=old),
                seeding.cancellation("cleo-2", "requested", epoch=new),
                seeding.cancellation("tess-2", "acknowledged", epoch=new),
                seeding.cancellation("tess-3", "deleted", epoch=new),
            ],
            history=[
                seeding.event("2030-01-02T03:04:05.000000Z", epoch=old),
                seeding.event("2030-01-02T03:09:00.500000Z", epoch=new),
                seeding.event("2030-01-02T03:06:00.000000Z", epoch=new),
            ],
        ),
        seeding.state(6, epoch=old, cancellations=[
            seeding.cancellation("cleo-9", "requested", epoch=old - 1),
        ]),
    )  # fmt: skip
    five, six = _ok(control)["tasks"]
    assert five == {
        "task_id": 5,
        "repository": seed.REPO,
        "stage": None,
        "epoch": new,
        "head": "b" * 40,
        "cancellations": {"requested": 1, "acknowledged": 1, "deleted": 1, "forced": 1, "gone": 1},
        "cancellation_requested": True,
        "last_change": "2030-01-02T03:09:00.500000Z",
    }
    assert six["head"] is None and six["last_change"] is None
    assert six["cancellations"]["requested"] == 1
    assert six["cancellation_requested"] is False, "the requested one is of an older epoch"


def test_a_page_costs_one_list_of_states_and_one_of_workflows(
    control: Client,
    control_env: dict[str, str],
    api: client.ApiClient,
    custom: Any,
    kube: KubeEmulator,
) -> None:
    seeding.save(api, *(seeding.state(t) for t in range(1, 31)))
    for task_id in range(1, 31, 3):
        seeding.workflow(custom, task=task_id, stage="waiting-pr-created")
    for query in ("", "limit=5", "stage=waiting-pr-created&limit=2", "repository=5dlabs/cto"):
        kube.stats.reset()
        assert _list(control, query).status_code == 200
        assert kube.stats.snapshot() == {
            "list configmaps": 1,
            "list workflows": 1,
            "total": 2,
        }, query


@pytest.mark.parametrize("principal", ["operator:alice", "5DLabs-Cleo", "5DLabs-Rex"])
def test_agents_and_operators_may_list(control: Client, many: None, principal: str) -> None:
    assert _list(control, headers=support.auth(principal)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-known-token-at-all"}, {"Authorization": "Basic eA=="}],
)
def test_no_usable_token_is_401(control: Client, many: None, headers: dict[str, str]) -> None:
    response = _list(control, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert "tasks" not in response.json


def test_a_remediation_shows_as_it_happened(control: Client, cancelling: support.Cancelled) -> None:
    [item] = _ok(control)["tasks"]
    assert item["task_id"] == support.TASK
    assert item["stage"] == "waiting-ready-for-qa"
    assert item["epoch"] == cancelling.epoch
    assert item["head"] == support.NEW
    assert item["cancellations"]["requested"] == 2
    assert item["cancellation_requested"] is True
    assert item["last_change"] is not None
    for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
        assert control.post(support.ack_path(name), headers=support.auth(agent)).status_code == 200
    [after] = _ok(control)["tasks"]
    assert after["cancellations"] == {
        "requested": 0, "acknowledged": 0, "deleted": 0, "forced": 0, "gone": 2,
    }  # fmt: skip
    assert after["cancellation_requested"] is False
    assert after["last_change"] > item["last_change"]
