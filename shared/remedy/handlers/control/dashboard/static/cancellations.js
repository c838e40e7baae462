// A task's cancellations, live: the "cancellation requested" indicator and the table,
// fed by control-api's watch stream (GET …/cancellations?watch=true, JSON lines).
//
// The stream ends when every cancellation of the current epoch has stopped, or at its
// timeout; while the page is open it is opened again — at once after a timeout, after a
// short pause once all stopped (so a new request shows within seconds), with a growing
// pause after a failure. The grace period's time left ticks down every second.

import { watchCancellations } from "./api.js";
import { badge, fill, h, sha, span, table, when } from "./dom.js";

const STOPPED = new Set(["deleted", "forced", "gone"]);
const WATCH_TIMEOUT_S = 60;
const ALL_STOPPED_PAUSE_MS = 2000;
const PENDING_LIMIT_MS = 60000;

export class LiveCancellations {
  constructor({ taskId, context, onChange }) {
    this.taskId = taskId;
    this.context = context;
    this.onChange = onChange;
    this.controller = new AbortController();
    this.view = null;
    this.pending = null;
    this.indicator = h("p", { id: "indicator", class: "indicator", role: "status", "aria-live": "polite", "aria-atomic": "true", dataset: { state: "none" } }, "Reading the cancellations…");
    this.streamStatus = h("p", { id: "stream-status", class: "live" }, "Live updates: connecting…");
    this.holder = h("div", { id: "cancellations-holder" });
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  stop() {
    this.controller.abort();
    clearInterval(this.ticker);
  }

  /** The view the stream (or GET /v1/tasks/{id}) gave: {epoch, cancellations: [...]}. */
  show(view) {
    // the stream and GET /v1/tasks/{id} order the runs differently: compare them sorted
    const runs = [...view.cancellations].sort((a, b) => a.epoch - b.epoch || runKey(a).localeCompare(runKey(b)));
    const key = JSON.stringify([view.epoch, runs]);
    const changed = key !== this.lastKey;
    this.lastKey = key;
    this.view = view;
    if (this.pending && this.currentStopping().length) this.pending = null;
    this.render();
    return changed;
  }

  /** control-api took a cancellation request (its 202 body). */
  requested(accepted) {
    this.pending = { ...accepted, since: Date.now() };
    this.renderIndicator();
  }

  /** The task's history, to tell when agent-cancel has handled the pending request. */
  sawHistory(history) {
    if (this.pending && history.some((entry) => entry.delivery === this.pending.correlation_id)) {
      this.pending = null;
      this.renderIndicator();
    }
  }

  currentStopping() {
    if (!this.view) return [];
    return this.view.cancellations.filter((c) => c.epoch === this.view.epoch && !STOPPED.has(c.status));
  }

  render() {
    this.renderIndicator();
    const rows = [...this.view.cancellations]
      .sort((a, b) => String(b.requested_at).localeCompare(String(a.requested_at)) || a.name.localeCompare(b.name))
      .map((c) => ({
        attributes: { "data-run": `${c.namespace}/${c.name}`, "data-status": c.status },
        cells: [
          h("code", { title: `${c.namespace}/${c.name}` }, c.name), c.agent,
          c.epoch === this.view.epoch ? "current" : String(c.epoch), badge(c.status),
          c.requested_by || "—", c.reason || "—", sha(c.for_head), when(c.requested_at),
          h("span", { class: "grace", "data-deadline": c.deadline, "data-status": c.status }, graceLeft(c.status, c.deadline)),
          c.outcome || "—",
        ],
      }));
    fill(this.holder, table({
      id: "cancellations",
      caption: `Cancellations of task ${this.taskId} (current epoch ${this.view.epoch})`,
      columns: ["Run", "Agent", "Epoch", "Status", "Requested by", "Reason", "For head", "Requested", "Grace left", "Outcome"],
      rows,
      empty: "No cancellations recorded.",
    }));
  }

  renderIndicator() {
    if (this.pending && Date.now() - this.pending.since > PENDING_LIMIT_MS) this.pending = null;
    const stopping = this.currentStopping();
    const current = this.view ? this.view.cancellations.filter((c) => c.epoch === this.view.epoch) : [];
    let state = "none";
    let text = this.view ? `No cancellation requested in epoch ${this.view.epoch}.` : "Reading the cancellations…";
    if (stopping.length) {
      state = "requested";
      text = `Cancellation requested: ${stopping.length} of ${current.length} review run${current.length === 1 ? "" : "s"} still stopping.`;
    } else if (this.pending) {
      state = "requested";
      text = `Cancellation requested (event ${this.pending.event_id}): waiting for agent-cancel to ask the agents.`;
    } else if (current.length) {
      state = "stopped";
      const runs = current.length === 1 ? "the run" : `all ${current.length} runs`;
      text = `No cancellation in progress: ${runs} cancelled in epoch ${this.view.epoch} stopped.`;
    }
    if (this.indicator.dataset.state !== state || this.indicator.textContent !== text) {
      this.indicator.dataset.state = state;
      fill(this.indicator, text);
    }
  }

  tick() {
    for (const cell of this.holder.querySelectorAll(".grace")) {
      cell.textContent = graceLeft(cell.dataset.status, cell.dataset.deadline);
    }
    if (this.pending) this.renderIndicator();
  }

  /** Watch until the page closes: each stream until it ends, then open the next. */
  async run() {
    const { signal } = this.controller;
    let failures = 0;
    while (!signal.aborted) {
      let reason;
      try {
        fill(this.streamStatus, "Live updates: on.");
        reason = await watchCancellations(this.taskId, {
          timeout: WATCH_TIMEOUT_S,
          signal,
          onLine: (line) => this.line(line),
        });
        failures = reason === "closed" || reason === "error" ? failures + 1 : 0;
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status === 401) {
          this.context.showError(error);
          return;
        }
        failures += 1;
        reason = "failed";
        fill(this.streamStatus, `Live updates interrupted (${error.message}); retrying.`);
      }
      const pause = failures
        ? Math.min(30000, 1000 * 2 ** (failures - 1))
        : reason === "all-stopped" || reason === "no-state" ? ALL_STOPPED_PAUSE_MS : 0;
      if (reason === "all-stopped") fill(this.streamStatus, "Live updates: on (every run stopped; checking for new requests).");
      await sleep(pause, signal);
    }
  }

  line(line) {
    if (line.type === "snapshot" || line.type === "changed") {
      if (this.show(line) && this.onChange) this.onChange();
    }
  }
}

function runKey(cancellation) {
  return `${cancellation.namespace}/${cancellation.name}`;
}

function graceLeft(status, deadline) {
  if (status === "acknowledged") return "acknowledged; deletion pending";
  if (status !== "requested") return "—";
  const left = Math.round((new Date(deadline).getTime() - Date.now()) / 1000);
  if (Number.isNaN(left)) return "—";
  return left >= 0 ? `${span(left)} left` : `over by ${span(-left)}; the reconciler forces it`;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (!ms || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
