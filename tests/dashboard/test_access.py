"""Accessibility basics of every page, in a real headless Chromium, from the keyboard only.

Covers, on the sign-in page, the task list and a task's page:
- every input and textarea has a <label> (``element.labels``), every button and link a
  name; one <h1> per page, the task page's sections under <h2>s;
- Tab and Shift+Tab move through the controls in reading order: the token field and
  Sign in; the filters, Filter, Clear filters and the task's link; the reason and the
  Cancel button, and back up to the header's links and Sign out — each showing a
  visible focus outline;
- the indicator is a polite live region; the alert for errors is role=alert;
- Enter follows the task's link, and Enter on Sign out signs out (the token leaves
  session storage, the sign-in form is back); the token field has no ``name``, so no
  form submission could ever carry it.
"""

from __future__ import annotations

from selenium.webdriver.common.keys import Keys

from tests.chain import seed
from tests.dashboard import states
from tests.dashboard.browser import Page
from tests.support.platform import OPERATOR_TOKEN, Platform

UNLABELLED = """
const controls = [...document.querySelectorAll('input, textarea, select')];
const named = (e) => (e.getAttribute('aria-label') || e.textContent || '').trim();
return {
  unlabelled: controls.filter((e) => !e.labels.length || !e.labels[0].textContent.trim())
    .map((e) => e.id || e.outerHTML),
  nameless: [...document.querySelectorAll('button, a[href]')].filter((e) => !named(e))
    .map((e) => e.outerHTML),
  h1: document.querySelectorAll('h1').length,
};
"""


def _labelled(page: Page) -> None:
    found = page.driver.execute_script(UNLABELLED)
    assert found == {"unlabelled": [], "nameless": [], "h1": 1}


def _tabs(page: Page, count: int, *, back: bool = False) -> list[str]:
    order = []
    for _ in range(count):
        order.append(page.tab(back=back))
        assert page.focus_outline() == "solid 3px", f"no visible focus on {order[-1]}"
    return order


def test_pages_are_labelled_and_work_from_the_keyboard(page: Page, control_only: Platform) -> None:
    states.save_states(control_only.api, [states.a_state(12, epoch=5, statuses=["requested"])])
    seed.play_workflow(control_only.custom, task=12, stage="waiting-pr-created")

    page.driver.get(control_only.dashboard_url)
    page.wait(lambda d: page.focused() == "input#token", "the token field focused")
    _labelled(page)
    assert page.find("#token").get_dom_attribute("name") is None
    assert page.find("#alert").get_attribute("role") == "alert"
    assert _tabs(page, 1) == ["button#sign-in-submit"]
    assert _tabs(page, 1, back=True) == ["input#token"]
    page.press(OPERATOR_TOKEN, Keys.ENTER)

    page.wait(lambda d: page.all("#tasks a[data-task='12']"), "the task list")
    _labelled(page)
    page.find("h1").click()
    assert _tabs(page, 5) == [
        "input#filter-repository",
        "select#filter-stage",
        "button#filter-apply",
        "button#filter-clear",
        "a:Task 12",
    ]
    page.press(Keys.ENTER)

    page.wait(lambda d: page.text("h1") == "Task 12" and page.all("#cancellations"), "the task")
    _labelled(page)
    assert page.texts("main h2") == [
        "Cancel the review agents", "Cancellations", "Remediation timeline", "History (audit log)",
    ]  # fmt: skip
    indicator = page.find("#indicator")
    assert (indicator.get_attribute("role"), indicator.get_attribute("aria-live")) == (
        "status",
        "polite",
    )
    assert indicator.get_attribute("data-state") == "requested"
    page.find("h1").click()
    assert _tabs(page, 2) == ["textarea#cancel-reason", "button#cancel-submit"]
    page.find("h1").click()
    assert _tabs(page, 4, back=True) == [
        "a:← All tasks", "button#sign-out", "a:All tasks", "a:remedy",
    ]  # fmt: skip

    page.find("#sign-out").send_keys(Keys.ENTER)
    page.wait(lambda d: page.focused() == "input#token", "the sign-in form again")
    stored = page.driver.execute_script("return sessionStorage.length")
    assert stored == 0
