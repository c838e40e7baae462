"""push-intake, driven as functions-framework serves it, on real Redis masters.

Covers: which pushes are remediation pushes (the real reference payloads, rewritten
per case: implementation-agent pusher or sender compared case-insensitively, both
branch naming schemes, tags, the reference tag deletion, branch deletions, other
pushers, branches naming no task or an absurd id) — everything else is a 202 with an
empty body; the reply CloudEvent in binary mode (type, source, deterministic id,
subject, extensions, data, trace continuity); binary and structured input; GitHubSource's
re-serialised data (false fields omitted, unknown fields dropped); duplicates in
sequence and concurrently give the identical reply and allocate one epoch; a new
delivery for the same task gets a newer epoch; bad input (not a CloudEvent, wrong
type, unreadable data, malformed SHAs, the same delivery with a different payload,
other methods) is refused with a reason and changes nothing.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent, from_http

from remedy.events.codec import encode_binary
from remedy.events.schemas import schema_file
from remedy.events.tracing import trace_id
from tests.conftest import REFERENCE
from tests.intake.conftest import function_app, load_payload

DELIVERY = "0f7d3a90-1c2b-11ef-8a5e-6a9b1c2d3e4f"
REX_SHA_BEFORE = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
REX_SHA_AFTER = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"


@pytest.fixture
def client(redis_urls: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REDIS_URLS", ",".join(redis_urls))
    return function_app("push-intake").test_client()


def rex_push(reference_dir: Path, **changes: Any) -> dict[str, Any]:
    """A real push payload turned into a Rex push to task 12 (then ``changes`` applied)."""
    payload = copy.deepcopy(load_payload(reference_dir, "push__with-organization.payload.json"))
    payload.update(
        ref="refs/heads/task-12-fix-login",
        before=REX_SHA_BEFORE,
        after=REX_SHA_AFTER,
        created=False,
        deleted=False,
        pusher={"name": "5DLabs-Rex", "email": "rex@example.com"},
    )
    for path, value in changes.items():
        node = payload
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return payload


def push_event(payload: dict[str, Any], *, delivery: str = DELIVERY) -> CloudEvent:
    full_name = payload["repository"]["full_name"]
    return CloudEvent(
        {
            "type": "dev.knative.source.github.push",
            "source": f"https://github.com/{full_name}",
            "id": delivery,
            "datacontenttype": "application/json",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
        payload,
    )


def post_binary(client: Any, event: CloudEvent) -> Any:
    headers, body = encode_binary(event)
    return client.post("/", data=body, headers=headers)


def reply_of(response: Any) -> CloudEvent:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ce-specversion"] == "1.0", "the reply must be binary mode"
    return from_http(dict(response.headers), response.get_data())


Change = Callable[[Path], dict[str, Any]]


@pytest.mark.parametrize(
    ("make", "task_id"),
    [
        pytest.param(rex_push, 12, id="rex-task-branch"),
        pytest.param(lambda r: rex_push(r, ref="refs/heads/feature/task-7-api"), 7, id="feature"),
        pytest.param(lambda r: rex_push(r, ref="refs/heads/task-3"), 3, id="no-slug"),
        pytest.param(
            lambda r: rex_push(r, pusher__name="5dlabs-rex[BOT]"), 12, id="bot-login-any-case"
        ),
        pytest.param(
            lambda r: rex_push(r, pusher__name="someone", sender__login="5DLabs-Rex[bot]"),
            12,
            id="sender-is-rex",
        ),
        pytest.param(lambda r: rex_push(r, forced=True), 12, id="force-push"),
    ],
)
def test_remediation_pushes_reply_remediation_requested(
    client: Any, reference_dir: Path, make: Change, task_id: int
) -> None:
    payload = make(reference_dir)
    reply = reply_of(post_binary(client, push_event(payload)))
    assert reply["type"] == "dev.remedy.remediation.requested"
    assert reply["source"] == "/remedy/push-intake"
    assert reply["id"] == f"{DELIVERY}:remediation.requested"
    full_name = payload["repository"]["full_name"]
    assert reply["subject"] == f"{full_name}/tasks/{task_id}"
    data = reply.get_data()
    assert data["task_id"] == task_id
    assert data["repository"] == full_name
    assert data["branch"] == payload["ref"].removeprefix("refs/heads/")
    assert (data["before_sha"], data["after_sha"]) == (REX_SHA_BEFORE, REX_SHA_AFTER)
    assert data["head_sha"] == REX_SHA_AFTER
    assert data["delivery_id"] == data["correlation_id"] == DELIVERY
    assert data["pr_number"] is None
    assert data["epoch"] >= 1
    attributes = reply.get_attributes()
    assert attributes["taskid"] == str(task_id)
    assert attributes["epoch"] == str(data["epoch"])
    assert attributes["correlationid"] == DELIVERY
    assert trace_id(attributes["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda r: load_payload(r, "push__payload.json"),
            "not an implementation agent",
            id="reference-tag-deletion",
        ),
        pytest.param(
            lambda r: {**load_payload(r, "push__payload.json"), "pusher": {"name": "5DLabs-Rex"}},
            "is a tag",
            id="reference-tag-deletion-by-rex",
        ),
        pytest.param(lambda r: rex_push(r, ref="refs/tags/task-12-v1"), "is a tag", id="tag"),
        pytest.param(
            lambda r: rex_push(r, deleted=True, after="0" * 40), "was deleted", id="deletion"
        ),
        pytest.param(
            lambda r: rex_push(r, pusher__name="octocat", sender__login="octocat"),
            "not an implementation agent",
            id="other-pusher",
        ),
        pytest.param(
            lambda r: rex_push(r, pusher__name="5DLabs-Rex-evil", sender__login="x"),
            "not an implementation agent",
            id="lookalike-login",
        ),
        pytest.param(
            lambda r: rex_push(r, ref="refs/heads/main"), "does not name a task", id="main"
        ),
        pytest.param(
            lambda r: rex_push(r, ref="refs/heads/task-0-x"), "does not name a task", id="task-0"
        ),
        pytest.param(
            lambda r: rex_push(r, ref="refs/heads/task-99999999-x"),
            "does not name a task",
            id="absurd-id",
        ),
        pytest.param(
            lambda r: rex_push(r, ref="refs/heads/feature/other/task-5"),
            "does not name a task",
            id="nested",
        ),
    ],
)
def test_other_pushes_are_acknowledged_with_an_empty_202(
    client: Any, reference_dir: Path, make: Change, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = post_binary(client, push_event(make(reference_dir)))
    assert response.status_code == 202
    assert response.get_data() == b""
    assert reason in caplog.text


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (REFERENCE / "github-webhooks").glob("push__*.json"))
)
def test_every_reference_push_is_read(client: Any, reference_dir: Path, name: str) -> None:
    """Unchanged, none is a Rex push; made Rex's on a task branch, each one is."""
    payload = load_payload(reference_dir, name)
    assert post_binary(client, push_event(payload, delivery=f"d-{name}")).status_code == 202
    payload.update(
        ref="refs/heads/task-4-x",
        pusher={"name": "5DLabs-Rex"},
        deleted=False,
        before=REX_SHA_BEFORE,
        after=REX_SHA_AFTER,
    )
    reply = reply_of(post_binary(client, push_event(payload, delivery=f"r-{name}")))
    assert reply.get_data()["task_id"] == 4


def test_structured_mode_input(client: Any, reference_dir: Path) -> None:
    headers, body = to_structured(push_event(rex_push(reference_dir)))
    reply = reply_of(client.post("/", data=body, headers=headers))
    assert reply.get_data()["task_id"] == 12


def github_source_form(payload: dict[str, Any]) -> dict[str, Any]:
    """What GitHubSource's re-serialised struct looks like: no false fields, fewer keys."""
    keep = {
        "ref",
        "before",
        "after",
        "created",
        "deleted",
        "forced",
        "compare",
        "pusher",
        "sender",
        "repository",
    }
    slim = {k: v for k, v in payload.items() if k in keep and v not in (False, None)}
    slim["repository"] = {
        k: payload["repository"][k] for k in ("id", "name", "full_name", "owner", "html_url")
    }
    slim["sender"] = {"login": payload["sender"]["login"], "id": payload["sender"]["id"]}
    return slim


def test_github_source_reserialised_data_is_accepted(client: Any, reference_dir: Path) -> None:
    payload = github_source_form(rex_push(reference_dir))
    assert "deleted" not in payload
    event = push_event(payload)
    event["source"] = "https://github.com/" + payload["repository"]["full_name"]
    event["pusher"] = "5DLabs-Rex"
    event["ref"] = payload["ref"]
    reply = reply_of(post_binary(client, event))
    assert reply.get_data()["task_id"] == 12


def test_pushed_at_comes_from_github_in_either_form(client: Any, reference_dir: Path) -> None:
    """Raw bodies carry unix seconds; GitHubSource's struct an RFC 3339 string."""
    raw = rex_push(reference_dir)
    reply = reply_of(post_binary(client, push_event(raw, delivery="raw-1")))
    assert reply.get_data()["pushed_at"] == "2019-05-15T15:20:57Z"
    reserialised = github_source_form(raw)
    reserialised["repository"]["pushed_at"] = "2019-05-15T15:20:57Z"
    again = reply_of(post_binary(client, push_event(reserialised, delivery="raw-1")))
    assert again.get_data() == reply.get_data(), (
        "the same delivery from GitHubSource is a duplicate"
    )


def test_duplicate_delivery_replays_the_identical_reply(client: Any, reference_dir: Path) -> None:
    event = push_event(rex_push(reference_dir))
    first, second = post_binary(client, event), post_binary(client, event)
    assert reply_of(first).get_attributes() == reply_of(second).get_attributes()
    assert first.get_data() == second.get_data()


def test_concurrent_duplicates_allocate_one_epoch(
    redis_urls: list[str], monkeypatch: pytest.MonkeyPatch, reference_dir: Path
) -> None:
    monkeypatch.setenv("REDIS_URLS", ",".join(redis_urls))
    app = function_app("push-intake")
    event = push_event(rex_push(reference_dir))
    start = threading.Barrier(8)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def deliver() -> None:
        client = app.test_client()
        start.wait()
        response = post_binary(client, event)
        with lock:
            answers.append((response.status_code, response.get_data()))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replies = {body for status, body in answers if status == 200}
    assert {status for status, _ in answers} <= {200, 409}
    assert len(replies) == 1, "every reply to the same delivery must be identical"
    # a later redelivery still replays that same reply
    assert post_binary(app.test_client(), event).get_data() in replies


def test_new_delivery_for_the_same_task_gets_a_newer_epoch(
    client: Any, reference_dir: Path
) -> None:
    first = reply_of(post_binary(client, push_event(rex_push(reference_dir), delivery="d-1")))
    second = reply_of(
        post_binary(client, push_event(rex_push(reference_dir, after="1" * 40), delivery="d-2"))
    )
    assert second.get_data()["epoch"] > first.get_data()["epoch"]


def test_same_delivery_with_a_different_payload_is_refused(
    client: Any, reference_dir: Path
) -> None:
    reply_of(post_binary(client, push_event(rex_push(reference_dir))))
    response = post_binary(client, push_event(rex_push(reference_dir, after="2" * 40)))
    assert 400 <= response.status_code < 500
    assert "different" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        pytest.param({"Content-Type": "application/json"}, b"{}", 400, id="not-a-cloudevent"),
        pytest.param(
            {
                "ce-specversion": "1.0",
                "ce-type": "dev.knative.source.github.push",
                "ce-source": "https://github.com/o/r",
                "ce-id": "x1",
                "Content-Type": "application/json",
            },
            b"[1]",
            400,
            id="data-not-an-object",
        ),
        pytest.param(
            {
                "ce-specversion": "1.0",
                "ce-type": "dev.knative.source.github.issues",
                "ce-source": "https://github.com/o/r",
                "ce-id": "x2",
                "Content-Type": "application/json",
            },
            b"{}",
            400,
            id="wrong-type",
        ),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    client: Any, headers: dict[str, str], body: bytes, status: int
) -> None:
    response = client.post("/", data=body, headers=headers)
    assert response.status_code == status
    assert response.get_json()["message"]


def test_rex_push_with_malformed_shas_is_refused(client: Any, reference_dir: Path) -> None:
    response = post_binary(client, push_event(rex_push(reference_dir, after="not-a-sha")))
    assert response.status_code == 400
    assert "SHA" in response.get_json()["message"]


def test_get_is_405(client: Any) -> None:
    assert client.get("/").status_code == 405


def test_reply_data_matches_its_json_schema(client: Any, reference_dir: Path) -> None:
    reply = reply_of(post_binary(client, push_event(rex_push(reference_dir))))
    schema = json.loads(schema_file(reply["type"]).read_text())
    jsonschema.validate(reply.get_data(), schema)
