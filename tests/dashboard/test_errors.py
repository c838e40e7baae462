"""What the person sees when control-api says no, in a real headless Chromium.

Covers: an unknown token is refused at sign-in with control-api's own message, and is
not stored; a token that stops working mid-session (401) signs the person out, saying
why; a task without a remediation state shows control-api's 404 message; Cancel on a
task remedy has seen no push for shows the 409 message; when the broker does not take
the request (503), the message is shown, and sending the same reason again reuses the
Idempotency-Key — the same request, retried — while a new reason gets a fresh key.
"""

from __future__ import annotations

from selenium.webdriver.common.keys import Keys

from remedy.local.http_server import ServedApp
from tests.dashboard import states
from tests.dashboard.browser import Page
from tests.intake.conftest import RecordingSink
from tests.support.platform import OPERATOR_TOKEN, Platform

WRONG = "not-a-token-remedy-knows-0123456789"
TOKEN_KEY = "remedy.dashboard.token"


def _sign_in(page: Page, platform: Platform, token: str = OPERATOR_TOKEN) -> None:
    page.driver.get(platform.dashboard_url)
    page.wait(lambda d: page.focused() == "input#token", "the sign-in form")
    page.press(token, Keys.ENTER)


def _alert(page: Page, text: str) -> None:
    page.wait(lambda d: text in page.text("#alert"), f"the alert saying {text!r}")


def _open(page: Page, route: str) -> None:
    page.driver.execute_script("location.hash = arguments[0]", route)


def test_a_wrong_token_is_refused_with_control_apis_message(
    page: Page, control_only: Platform
) -> None:
    _sign_in(page, control_only, WRONG)
    _alert(page, "control-api refused the token: send Authorization: Bearer <token> with a "
                 "token remedy knows")  # fmt: skip
    assert page.driver.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert page.focused() == "input#token"
    assert page.all("#tasks") == []


def test_a_token_refused_mid_session_signs_out(page: Page, control_only: Platform) -> None:
    _sign_in(page, control_only)
    page.wait(lambda d: page.all("#tasks"), "the task list")
    page.driver.execute_script(f"sessionStorage.setItem('{TOKEN_KEY}', arguments[0])", WRONG)
    _open(page, "#/tasks?repository=5dlabs/cto")
    _alert(page, "control-api refused the token")
    page.wait(lambda d: page.focused() == "input#token", "the sign-in form again")
    assert page.driver.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_a_task_without_state_shows_the_404(page: Page, control_only: Platform) -> None:
    _sign_in(page, control_only)
    page.wait(lambda d: page.all("#tasks"), "the task list")
    _open(page, "#/tasks/77")
    _alert(page, "control-api answered 404: task 77 has no remediation state")
    assert "no remediation state for this task yet" in page.text("#facts")


def _cancel(page: Page, reason: str) -> None:
    page.find("#cancel-reason").clear()
    page.find("#cancel-reason").send_keys(reason)
    page.find("#cancel-submit").click()


def test_cancel_errors_are_shown_and_a_retry_keeps_its_key(
    page: Page, control_only: Platform, sink: tuple[RecordingSink, ServedApp]
) -> None:
    recorder, _ = sink
    states.save_states(control_only.api, [states.a_state(12, epoch=5), states.a_state(13)])
    _sign_in(page, control_only)
    page.wait(lambda d: page.all("#tasks a[data-task='13']"), "the task list")

    _open(page, "#/tasks/13")
    page.wait(lambda d: page.all("#cancel-form"), "task 13")
    _cancel(page, "no push yet")
    _alert(page, "control-api answered 409: task 13 has no remediation yet (no push seen)")
    assert page.text("#cancel-result").startswith("Not requested: task 13 has no remediation")

    _open(page, "#/tasks/12")
    page.wait(lambda d: page.text("h1") == "Task 12", "task 12")
    recorder.status = 503
    _cancel(page, "broker down")
    _alert(page, "control-api answered 503: the broker did not take the request; retry")
    recorder.status = 202
    page.find("#cancel-submit").click()  # the same reason, sent again
    page.wait(lambda d: page.text("#cancel-result").startswith("Requested: event "), "a 202")
    assert page.find("#alert").is_displayed() is False
    _cancel(page, "another reason")
    page.wait(lambda d: len(_keys(control_only)) == 3, "the third request")

    first, retried, other = _keys(control_only)
    assert first == retried != other


def _keys(platform: Platform) -> list[str]:
    path = "/v1/tasks/12/cancellations"
    return [r.idempotency_key for r in platform.control.requests()
            if r.method == "POST" and r.path == path]  # fmt: skip
