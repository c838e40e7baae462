// One task (#/tasks/12): its facts, the live cancellations, the Cancel form, the
// remediation timeline and the history as an audit log.
//
// The state is read with GET /v1/tasks/{id}; the cancellations also follow the watch
// stream (cancellations.js), and each change the stream reports re-reads the state, so
// the timeline and the history follow too, without reloading the page.

import { call, newIdempotencyKey } from "./api.js";
import { LiveCancellations } from "./cancellations.js";
import { fill, h, sha, table, when } from "./dom.js";

const RETRYABLE = new Set([0, 503]);
const STEPS = {
  "push-intake": "push admitted",
  "agent-cancel": "agents cancelled",
  "label-update": "labels reset",
  "workflow-resume": "workflow resumed",
  "control-api": "acknowledged through control-api",
  reconciler: "reconciler",
  "dead-letter": "dead letter",
};

export function renderTask(context, taskId) {
  const controller = new AbortController();
  let state = null;
  let reloading = null;
  context.title(`Task ${taskId}`);

  const live = new LiveCancellations({ taskId, context, onChange: () => scheduleReload() });
  const facts = h("dl", { class: "facts", id: "facts" }, h("dt", {}, "State"), h("dd", {}, "Loading…"));
  const timeline = h("div", { id: "timeline-holder" });
  const history = h("div", { id: "history-holder" });
  const form = cancelForm(taskId, context, () => state, (accepted) => {
    live.requested(accepted);
    scheduleReload();
  });

  fill(context.main,
    h("p", {}, h("a", { href: "#/tasks" }, "← All tasks")),
    h("h1", { tabindex: "-1" }, `Task ${taskId}`),
    facts,
    live.indicator,
    section("cancel", "Cancel the review agents", form),
    section("cancellations", "Cancellations", live.streamStatus, live.holder),
    section("timeline", "Remediation timeline", timeline),
    section("history", "History (audit log)", history));
  load();
  live.run();

  function scheduleReload() {
    clearTimeout(reloading);
    reloading = setTimeout(load, 150);
  }

  async function load() {
    try {
      state = await call(`v1/tasks/${taskId}`, { signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      fill(facts, h("dt", {}, "State"), h("dd", {}, error.status === 404 ? "remedy has no remediation state for this task yet." : "Could not be read."));
      context.showError(error);
      return;
    }
    const cancellations = Object.values(state.cancellations || {});
    live.show({ epoch: state.epoch, cancellations });
    live.sawHistory(state.history || []);
    fill(facts, describe(state));
    fill(timeline, renderTimeline(state.timeline || []));
    fill(history, renderHistory(state.history || []));
  }

  return {
    stop() {
      controller.abort();
      clearTimeout(reloading);
      live.stop();
    },
  };
}

function section(id, title, ...content) {
  return h("section", { "aria-labelledby": `${id}-heading` }, h("h2", { id: `${id}-heading` }, title), content);
}

function describe(state) {
  const newest = [...(state.heads || [])].sort((a, b) => b.epoch - a.epoch)[0];
  const fact = (name, value) => [h("dt", {}, name), h("dd", {}, value ?? h("span", { class: "empty" }, "unknown"))];
  return [
    fact("Repository", state.repository),
    fact("Branch", state.branch && h("code", {}, state.branch)),
    fact("Pull request", state.pr_number ? `#${state.pr_number}` : null),
    fact("Stage", state.stage),
    fact("Epoch", String(state.epoch)),
    fact("Current head", sha(newest?.sha)),
    fact("Labels reset for epoch", String(state.labels_epoch ?? 0)),
    fact("Resumed for epoch", String(state.resumed_epoch ?? 0)),
    fact("Iteration", String(state.iteration ?? 0)),
  ];
}

function renderTimeline(entries) {
  if (!entries.length) return h("p", { class: "empty" }, "No push recorded yet.");
  return h("ol", { class: "timeline", id: "timeline" }, entries.map((entry) => h("li", { "data-epoch": entry.epoch },
    h("h3", {}, "Push ", sha(entry.head), ` · epoch ${entry.epoch}`),
    h("p", { class: "meta" }, "pushed ", when(entry.pushed_at), ", delivery ", h("code", {}, entry.delivery || "—"),
      ", replacing ", sha(entry.before)),
    entry.steps && entry.steps.length
      ? h("ol", {}, entry.steps.map((step) => h("li", {},
        when(step.at), " — ", h("strong", {}, STEPS[step.step] || step.step), `: ${step.outcome}`)))
      : h("p", { class: "empty" }, "No steps recorded yet."))));
}

function renderHistory(events) {
  const rows = [...events].reverse().map((event) => [
    when(event.at), String(event.epoch), h("code", {}, event.delivery), event.step, event.outcome,
  ]);
  return table({
    id: "history",
    caption: "Every step remedy recorded for this task, newest first",
    columns: ["At", "Epoch", "Delivery", "Step", "Outcome"],
    rows,
    empty: "Nothing recorded yet.",
  });
}

function cancelForm(taskId, context, currentState, onAccepted) {
  let key = null; // one Idempotency-Key per request; kept only to retry the same one
  const reason = h("textarea", {
    id: "cancel-reason", required: true, maxlength: "500", "aria-describedby": "cancel-hint",
    oninput: () => { key = null; },
  });
  const button = h("button", { type: "submit", class: "danger", id: "cancel-submit" }, "Cancel review agents");
  const result = h("p", { id: "cancel-result", class: "result", role: "status" });
  return h("form", { id: "cancel-form", class: "cancel-form", onsubmit: submit },
    h("label", { for: "cancel-reason" }, "Reason"),
    h("p", { id: "cancel-hint", class: "hint" },
      "control-api sends a cancellation request; agent-cancel asks the task's running review runs to stop, ",
      "and each agent acknowledges (or is forced once its grace period runs out). 1–500 characters."),
    reason,
    h("div", { class: "row" }, button),
    result);

  async function submit(event) {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      fill(result, "Give a reason: it is recorded with the cancellation.");
      reason.focus();
      return;
    }
    key = key || newIdempotencyKey();
    const repository = currentState()?.repository;
    button.disabled = true;
    fill(result, "Sending the request to control-api…");
    try {
      const accepted = await call(`v1/tasks/${taskId}/cancellations`, {
        method: "POST",
        body: repository ? { reason: text, repository } : { reason: text },
        extraHeaders: { "Idempotency-Key": key },
      });
      key = null;
      reason.value = "";
      context.clearError();
      fill(result, `Requested: event ${accepted.event_id} for epoch ${accepted.epoch}.`);
      onAccepted(accepted);
    } catch (error) {
      if (!RETRYABLE.has(error.status)) key = null;
      fill(result, `Not requested: ${error.message}`);
      context.showError(error);
    } finally {
      button.disabled = false;
    }
  }
}
