"""The task list: ``GET /v1/tasks``, paginated by an opaque cursor, filtered by repository
and stage.

Tasks come in ascending task id, so a page ends at a task id and the next one starts
after it: a task created or removed between two pages never makes another one appear
twice or go missing. The cursor says exactly that — the last task id served — together
with the filters it was served under, so a cursor cannot be carried over to another
query: a request may repeat the cursor's filters or leave them out (the cursor's then
apply), never change them (400).

The cursor is base64url JSON plus a checksum, so a cursor that was edited or cut short
is refused (400) rather than silently read as another position. It is not a secret and
needs no key: it only says where to continue, and any caller may list every task anyway
(a key would also have to be shared by every control-api instance and outlive its
rotation). Clients treat it as opaque.

What a page costs: one list of the remediation-state ConfigMaps and one of the play
workflows (label ``workflow-type=play-orchestration``), whatever the page size or the
filters — never a read per task. The repository is inside each state and the stage on
each workflow, so neither filter can be applied by the Kubernetes API: both lists are
read whole and filtered here. States are bounded documents (see
:mod:`remedy.domain.remediation`), one per task remedy has seen a push for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remedy.domain.identifiers import MAX_TASK_ID, InvalidIdentifier, Repository
from remedy.domain.remediation import RemediationState
from remedy.domain.stages import Stage
from remedy.domain.workflows import Workflow
from remedy.handlers.control import views
from remedy.handlers.control.results import ApiError, bad_request

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PARAMETERS = frozenset({"repository", "stage", "limit", "cursor"})
_CURSOR_VERSION = 1
_CHECK = b"remedy/v1/tasks cursor\0"
_CHECK_BYTES = 12
MAX_CURSOR_LENGTH = 400
_WHOLE = re.compile(r"^[0-9]{1,4}$")


@dataclass(frozen=True)
class Filters:
    repository: str | None = None
    """owner/name as given; compared case-insensitively, as GitHub names are."""
    stage: str | None = None

    def keeps(self, state: RemediationState, stage: str | None) -> bool:
        if self.repository is not None and state.repository.lower() != self.repository.lower():
            return False
        return self.stage is None or stage == self.stage


@dataclass(frozen=True)
class ListQuery:
    filters: Filters
    limit: int
    after: int
    """The last task id already served (0: start from the first)."""


def parse_query(query: Mapping[str, str]) -> ListQuery:
    """The validated query of ``GET /v1/tasks``; 400 naming what is wrong."""
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        named = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise bad_request(f"unknown parameter {named}: use {', '.join(sorted(PARAMETERS))}")
    given = Filters(
        repository=_repository(query.get("repository")), stage=_stage(query.get("stage"))
    )
    limit = _limit(query.get("limit"))
    if "cursor" not in query:
        return ListQuery(given, limit, after=0)
    after, issued = decode_cursor(query["cursor"])
    if (
        given.repository is not None
        and given.repository.lower() != (issued.repository or "").lower()
    ):
        raise _other_filter("repository", issued.repository, given.repository)
    if given.stage is not None and given.stage != issued.stage:
        raise _other_filter("stage", issued.stage, given.stage)
    return ListQuery(issued, limit, after)


def _other_filter(name: str, issued: str | None, given: str) -> ApiError:
    return bad_request(
        f"the cursor continues a list with {name}={issued!r}, not {given!r}: "
        "start again without the cursor to list another filter"
    )


def page(
    states: list[RemediationState], workflows: Mapping[int, Workflow], query: ListQuery
) -> dict[str, Any]:
    """One page of the task list: ``{"tasks": [...], "next_cursor": ... | None}``."""
    items: list[dict[str, Any]] = []
    for state in sorted(states, key=lambda s: s.task_id):
        if state.task_id <= query.after:
            continue
        workflow = workflows.get(state.task_id)
        if not query.filters.keeps(state, views.stage_of(workflow)):
            continue
        if len(items) == query.limit:  # one more exists: the page is full, and not the last
            last = items[-1]["task_id"]
            return {"tasks": items, "next_cursor": encode_cursor(last, query.filters)}
        items.append(views.summary(state, workflow))
    return {"tasks": items, "next_cursor": None}


def encode_cursor(after: int, filters: Filters) -> str:
    payload = json.dumps(
        {
            "v": _CURSOR_VERSION,
            "after": after,
            "repository": filters.repository,
            "stage": filters.stage,
        },
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_check(payload))}"


def decode_cursor(cursor: str) -> tuple[int, Filters]:
    """Where ``cursor`` continues, and the filters it was issued for; 400 if it is not one."""
    refused = bad_request("the cursor is not one this API issued: use next_cursor as given")
    body, dot, check = cursor.partition(".")
    if not dot or len(cursor) > MAX_CURSOR_LENGTH:
        raise refused
    try:
        payload, offered = _unb64(body), _unb64(check)
    except (ValueError, binascii.Error):
        raise refused from None
    if not hmac.compare_digest(offered, _check(payload)):
        raise refused
    try:
        raw = json.loads(payload)
        after, repository, stage = raw["after"], raw["repository"], raw["stage"]
        valid = (
            raw["v"] == _CURSOR_VERSION
            and type(after) is int
            and 0 < after <= MAX_TASK_ID
            and (repository is None or isinstance(repository, str))
            and (stage is None or isinstance(stage, str))
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise refused
    return after, Filters(repository=repository, stage=stage)


def _check(payload: bytes) -> bytes:
    return hashlib.sha256(_CHECK + payload).digest()[:_CHECK_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """The bytes ``text`` encodes, only when it is exactly how :func:`_b64` writes them."""
    data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _repository(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        Repository.parse(value)
    except InvalidIdentifier:
        raise bad_request(f"repository={value[:100]!r} is not a GitHub 'owner/name'") from None
    return value


def _stage(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in {str(stage) for stage in Stage}:
        raise bad_request(
            f"stage={value[:40]!r} is not a play workflow stage: use one of "
            + ", ".join(str(stage) for stage in Stage)
        )
    return value


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not _WHOLE.match(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise bad_request(f"limit={value[:20]!r}: a whole number in 1..{MAX_LIMIT}")
    return int(value)
