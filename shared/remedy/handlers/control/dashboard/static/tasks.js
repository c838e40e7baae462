// All tasks: GET /v1/tasks, filtered by repository and stage, a page at a time.
//
// Filters, the page size and the page cursor live in the fragment
// (#/tasks?repository=…&stage=…&limit=…&cursor=…), so the browser's Back button returns
// to the previous page and a view can be bookmarked.

import { call } from "./api.js";
import { badge, fill, h, sha, table, when } from "./dom.js";

const PAGE_SIZE = 25;
const STATUSES = ["requested", "acknowledged", "forced", "gone", "deleted"];
// The play workflow's stages (remedy.domain.stages.Stage; tests/dashboard checks they match).
const STAGES = ["pending", "waiting-pr-created", "waiting-ready-for-qa", "waiting-pr-approved", "waiting-pr-merged", "completed"];

export function renderTasks(context, params) {
  const controller = new AbortController();
  const repository = params.get("repository") || "";
  const stage = params.get("stage") || "";
  const cursor = params.get("cursor") || "";
  const limit = params.get("limit") || "";
  context.title("Tasks");

  const repositoryInput = h("input", { id: "filter-repository", value: repository, placeholder: "owner/name", autocomplete: "off" });
  const stageInput = h("select", { id: "filter-stage" },
    h("option", { value: "" }, "Any stage"),
    STAGES.map((name) => h("option", { value: name, selected: name === stage }, name)));
  const filters = h("form", { id: "filters", class: "filters", role: "search", "aria-label": "Filter tasks", onsubmit: apply },
    h("div", {}, h("label", { for: "filter-repository" }, "Repository"), repositoryInput),
    h("div", {}, h("label", { for: "filter-stage" }, "Stage"), stageInput),
    h("div", {}, h("button", { type: "submit", id: "filter-apply" }, "Filter")),
    h("div", {}, h("button", { type: "button", class: "secondary", id: "filter-clear", onclick: clear }, "Clear filters")));
  const status = h("p", { id: "tasks-status", class: "live", role: "status" }, "Loading tasks…");
  const results = h("div", { id: "tasks-results" });
  const pages = h("nav", { class: "pages", "aria-label": "Pages of tasks" });
  fill(context.main, h("h1", { tabindex: "-1" }, "Tasks"), filters, status, results, pages);
  load();

  function go(query) {
    const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value));
    const text = search.toString();
    location.hash = `#/tasks${text ? `?${text}` : ""}`;
  }

  function apply(event) {
    event.preventDefault();
    go({ repository: repositoryInput.value.trim(), stage: stageInput.value, limit });
  }

  function clear() {
    go({ limit });
  }

  async function load() {
    let answer;
    try {
      answer = await call("v1/tasks", {
        query: { repository, stage, cursor, limit: limit || PAGE_SIZE },
        signal: controller.signal,
      });
    } catch (error) {
      if (error.name === "AbortError") return;
      fill(status, "The tasks could not be loaded.");
      context.showError(error);
      return;
    }
    const tasks = answer.tasks || [];
    const filtered = repository || stage ? " matching the filters" : "";
    fill(status, `${tasks.length} task${tasks.length === 1 ? "" : "s"}${filtered} on this page.`);
    fill(results, table({
      id: "tasks",
      caption: "Tasks remedy keeps a remediation state for",
      columns: ["Task", "Repository", "Stage", "Epoch", "Current head", "Cancellations", "Last change"],
      rows: tasks.map(row),
      empty: "No tasks" + filtered + ".",
    }));
    const links = [];
    if (cursor) links.push(h("a", { href: pageHash({ repository, stage, limit }), id: "page-first" }, "First page"));
    if (answer.next_cursor) {
      const next = pageHash({ repository, stage, limit, cursor: answer.next_cursor });
      links.push(h("a", { href: next, id: "page-next" }, "Next page"));
    }
    fill(pages, links);
  }

  return { stop: () => controller.abort() };
}

function pageHash(query) {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value)).toString();
  return `#/tasks${search ? `?${search}` : ""}`;
}

function row(task) {
  return [
    h("a", { href: `#/tasks/${task.task_id}`, "data-task": task.task_id }, `Task ${task.task_id}`),
    task.repository,
    task.stage || h("span", { class: "empty" }, "unknown"),
    String(task.epoch),
    sha(task.head),
    cancellations(task),
    when(task.last_change),
  ];
}

function cancellations(task) {
  const counts = task.cancellations || {};
  const parts = STATUSES.filter((status) => counts[status]).map((status) => badge(`${counts[status]} ${status}`, status));
  if (task.cancellation_requested) parts.unshift(badge("cancellation requested", "requested"));
  return parts.length ? parts : h("span", { class: "empty" }, "none");
}
