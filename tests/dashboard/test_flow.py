"""A person cancels a task's review agents from the dashboard, in a real headless Chromium.

Covers, against remedy over real HTTP (functions, local broker, simulated agents):
- sign in with the operator token from the keyboard (the field is focused, Enter
  submits); the token is then in session storage only;
- the task list shows the seeded task: repository, stage, epoch, current head,
  cancellations by status, last change; its link opens the task (#/tasks/12);
- the task page shows the remediation timeline (push → agents cancelled → labels reset →
  workflow resumed, with times and delivery ids), the cancellations and the history;
- Cancel, reached and pressed from the keyboard with a reason, POSTs with a fresh
  UUID Idempotency-Key; the "cancellation requested" indicator and the cancellations
  table turn to requested (grace time ticking down), then to gone as each simulated
  agent acknowledges, without reloading the page (the watch stream re-opened after it
  ended); the history then holds agent-cancel's entry for that key and the acks;
- a screenshot of each page (sign-in, tasks, task, after the cancel), none blank;
- the token is in no URL the browser requested, in no request control-api received
  other than as ``Authorization: Bearer``, and in no log line.
"""

from __future__ import annotations

import re
from typing import Any

from selenium.webdriver.common.keys import Keys

from tests.dashboard.browser import Page
from tests.support import platform as platforms
from tests.support.platform import NEW, OPERATOR_TOKEN, TASK, Platform

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REASON = "the spec changed under the review"


def _sign_in(page: Page, platform: Platform) -> None:
    page.driver.get(platform.dashboard_url)
    page.wait(lambda d: page.focused() == "input#token", "the token field focused")
    page.screenshot("sign-in")
    page.press(OPERATOR_TOKEN, Keys.ENTER)
    page.wait(lambda d: page.all(f"#tasks a[data-task='{TASK}']"), "the seeded task listed")


def _statuses(page: Page) -> dict[str, str]:
    return page.attributes("#cancellations tbody tr[data-run]", "data-run", "data-status")


def _grace_left(page: Page, run: str) -> int:
    text = page.text(f"#cancellations tr[data-run='{run}'] .grace")
    found = re.match(r"^(\d+) s left$", text)
    assert found, f"no time left shown for {run}: {text!r}"
    return int(found.group(1))


def test_cancel_from_the_dashboard_and_watch_it_complete(
    page: Page, platform: Platform, github: Any, log_lines: list[str]
) -> None:
    before = platforms.remediated(platform, github, runs=[("cleo-12", "5DLabs-Cleo")])
    _sign_in(page, platform)
    storage = page.driver.execute_script(
        "return [sessionStorage.getItem('remedy.dashboard.token'), localStorage.length,"
        " document.cookie]"
    )
    assert storage == [OPERATOR_TOKEN, 0, ""]

    row = page.texts(f"#tasks tbody tr:has(a[data-task='{TASK}']) td")
    assert row[:5] == [f"Task {TASK}", "5dlabs/cto", "waiting-pr-created", str(before.epoch),
                       NEW[:10]]  # fmt: skip
    assert row[5] == "1 gone"
    assert row[6].startswith(before.history[-1].at[:4])
    page.screenshot("tasks")

    page.find(f"#tasks a[data-task='{TASK}']").send_keys(Keys.ENTER)
    page.wait(lambda d: page.text("#timeline li") and page.all("#history tbody tr"), "the task")
    assert page.driver.current_url.endswith(f"/dashboard/#/tasks/{TASK}")
    push = page.text("#timeline > li")
    assert NEW[:10] in push and "delivery d-1" in push
    for step in ("agents cancelled", "labels reset", "workflow resumed"):
        assert step in push, push
    assert page.find("#indicator").get_attribute("data-state") == "stopped"
    assert _statuses(page) == {"agent-platform/cleo-12": "gone"}
    page.screenshot("task")

    # new review runs, whose agents take a few seconds to acknowledge
    platform.review_run("cleo-12-b", "5DLabs-Cleo", ack_delay="6")
    platform.review_run("tess-12-b", "5DLabs-Tess", ack_delay="6.5")
    page.driver.execute_script("window.notReloaded = true")
    page.find("h1").click()
    assert page.tab() == "textarea#cancel-reason"
    page.press(REASON)
    assert page.tab() == "button#cancel-submit"
    page.press(Keys.ENTER)

    page.wait(lambda d: page.find("#indicator").get_attribute("data-state") == "requested",
              "the indicator saying a cancellation was requested", timeout=5)  # fmt: skip
    assert page.text("#indicator").startswith("Cancellation requested")
    asked = {"agent-platform/cleo-12-b": "requested", "agent-platform/tess-12-b": "requested"}
    page.wait(lambda d: _statuses(page).items() >= asked.items(), "both runs asked to stop")
    cleo = "#cancellations tr[data-run='agent-platform/cleo-12-b'] td"
    cells = page.texts(cleo)
    assert cells[:3] == ["cleo-12-b", "5DLabs-Cleo", "current"]
    assert cells[4:7] == ["operator:alice", REASON, NEW[:10]]
    first = _grace_left(page, "agent-platform/cleo-12-b")
    assert 20 <= first <= 30
    page.wait(lambda d: _grace_left(page, "agent-platform/cleo-12-b") < first, "the grace ticking")

    done = {"agent-platform/cleo-12-b": "gone", "agent-platform/tess-12-b": "gone"}
    page.wait(lambda d: _statuses(page).items() >= done.items(), "both runs gone", timeout=30)
    page.wait(lambda d: page.find("#indicator").get_attribute("data-state") == "stopped",
              "the indicator back to stopped")  # fmt: skip
    assert page.driver.execute_script("return window.notReloaded") is True

    path = f"/v1/tasks/{TASK}/cancellations"
    [post] = [r for r in platform.control.requests() if r.method == "POST" and r.path == path]
    assert UUID4.match(post.idempotency_key), post.idempotency_key
    page.wait(lambda d: f"api:{TASK}:{post.idempotency_key}" in page.text("#history"),
              "agent-cancel's entry for the request in the history")  # fmt: skip
    page.wait(lambda d: "acknowledged by 5DLabs-Tess" in page.text("#history"), "Tess's ack")
    assert page.text("#cancel-result").startswith("Requested: event ")
    page.screenshot("task-after-cancel")

    _assert_idle_page_only_watches(page, platform)
    _assert_token_only_in_headers(page, platform, log_lines)
    assert page.console_errors() == []


def _assert_idle_page_only_watches(page: Page, platform: Platform) -> None:
    """Once everything stopped, the page re-opens the watch every few seconds, and reads
    the task again only when the stream shows a change."""

    def count(watch: bool) -> int:
        return sum(
            1 for r in platform.control.requests()
            if r.path == (f"/v1/tasks/{TASK}/cancellations" if watch else f"/v1/tasks/{TASK}")
        )  # fmt: skip

    reads, watches = count(False), count(True)
    page.wait(lambda d: count(True) >= watches + 2, "two more watches", timeout=10)
    assert count(False) == reads


def _assert_token_only_in_headers(page: Page, platform: Platform, log_lines: list[str]) -> None:
    urls = page.requested_urls()
    assert any("/v1/tasks" in url for url in urls), urls
    assert [url for url in urls if OPERATOR_TOKEN in url] == []

    seen = platform.control.requests()
    api_calls = [r for r in seen if r.path.startswith("/v1/tasks")]  # the agents' acks aside
    watches = [
        r for r in api_calls if r.path.endswith("/cancellations") and "watch=true" in r.query
    ]
    assert len(watches) >= 2, "the watch stream is opened again after it ends"
    assert {r.authorization for r in api_calls} == {f"Bearer {OPERATOR_TOKEN}"}
    assert all(OPERATOR_TOKEN not in r.path + r.query for r in seen)
    files = [r for r in seen if r.path.startswith("/dashboard/")]
    assert files and all(r.authorization == "" for r in files), "the files are loaded without it"
    assert log_lines, "nothing was logged at all: the check below would be vacuous"
    assert [line for line in log_lines if OPERATOR_TOKEN in line] == []
