"""The task list in a real headless Chromium: columns, filters, pages.

Covers: each task's row shows its repository, its workflow's stage (or "unknown"
without a workflow), its epoch, current head, its cancellations counted by status with
a "cancellation requested" badge while any of the current epoch is requested, and when
it last changed; a page size in the fragment pages through the tasks (Next page, First
page, and the browser's Back button), the filters narrow the list by repository and by
stage (a choice of the play workflow's stages, kept equal to remedy's) and say when
nothing matches; Clear filters shows every task again; a malformed repository shows
control-api's 400 message.
"""

from __future__ import annotations

import json
import re

from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from remedy.domain.stages import Stage
from tests.chain import seed
from tests.dashboard import STATIC, states
from tests.dashboard.browser import Page
from tests.support.platform import NEW, OPERATOR_TOKEN, Platform


def _listed(page: Page) -> list[str]:
    return [a.removeprefix("Task ") for a in page.texts("#tasks tbody a[data-task]")]


def _shows(page: Page, tasks: list[str], what: str) -> None:
    page.wait(lambda d: _listed(page) == tasks, f"{what}: tasks {tasks}")


def test_columns_filters_and_pages(page: Page, control_only: Platform) -> None:
    states.save_states(control_only.api, [
        states.a_state(3, epoch=7, statuses=["requested", "gone", "forced"]),
        states.a_state(12, epoch=9, statuses=["gone"]),
        states.a_state(40, "acme/app", epoch=2),
    ])  # fmt: skip
    seed.play_workflow(control_only.custom, task=3, stage="waiting-pr-created")
    seed.play_workflow(control_only.custom, task=12, stage="waiting-ready-for-qa")

    page.driver.get(control_only.dashboard_url + "#/tasks?limit=2")
    page.wait(lambda d: page.focused() == "input#token", "the sign-in form")
    page.press(OPERATOR_TOKEN, Keys.ENTER)
    _shows(page, ["3", "12"], "the first page")
    first = page.texts("#tasks tbody tr:first-child td")
    assert first[:5] == ["Task 3", "5dlabs/cto", "waiting-pr-created", "7", NEW[:10]]
    assert page.texts("#tasks tbody tr:first-child .badge") == [
        "cancellation requested", "1 requested", "1 forced", "1 gone",
    ]  # fmt: skip
    assert "(just now)" in first[6]
    assert page.all("#page-first") == []

    page.find("#page-next").click()
    _shows(page, ["40"], "the second page")
    last = page.texts("#tasks tbody tr:first-child td")
    assert last[1:3] == ["acme/app", "unknown"]
    assert last[5] == "none"
    assert page.all("#page-next") == []
    page.driver.back()
    _shows(page, ["3", "12"], "the first page again, by Back")
    page.find("#page-next").click()
    _shows(page, ["40"], "the second page again")
    page.find("#page-first").click()
    _shows(page, ["3", "12"], "the first page, by its link")

    page.find("#filter-repository").send_keys("acme/app", Keys.ENTER)
    _shows(page, ["40"], "acme/app's tasks")
    page.find("#filter-clear").click()
    _shows(page, ["3", "12"], "every task again")
    Select(page.find("#filter-stage")).select_by_visible_text("waiting-ready-for-qa")
    page.find("#filter-apply").click()
    _shows(page, ["12"], "the tasks waiting for QA")
    assert "limit=2" in page.driver.current_url
    Select(page.find("#filter-stage")).select_by_visible_text("completed")
    page.find("#filter-apply").click()
    page.wait(lambda d: "No tasks matching the filters." in page.text("#tasks"), "no match")

    page.find("#filter-clear").click()
    page.find("#filter-repository").send_keys("not a repository", Keys.ENTER)
    page.wait(lambda d: page.text("#alert").startswith("control-api answered 400: "), "a 400")
    assert "repository" in page.text("#alert")


def test_the_stage_filter_offers_the_workflows_stages() -> None:
    script = (STATIC / "tasks.js").read_text()
    found = re.search(r"^const STAGES = (\[.*\]);$", script, re.MULTILINE)
    assert found is not None
    assert json.loads(found.group(1)) == [str(stage) for stage in Stage]
