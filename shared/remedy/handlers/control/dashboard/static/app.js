// The dashboard's entry point: sign-in, hash routing (#/tasks, #/tasks/12), errors.
//
// Routes live in the URL's fragment, which the browser never sends to a server; the
// token lives in sessionStorage and travels only as the Bearer header (api.js).

import { ApiError, call, session } from "./api.js";
import { h, fill } from "./dom.js";
import { renderTasks } from "./tasks.js";
import { renderTask } from "./task.js";

const main = document.getElementById("main");
const alertBox = document.getElementById("alert");
const nav = document.getElementById("nav");
let view = null;

/** What every view gets: where to draw, how to report an error, how to sign out. */
const context = {
  main,
  showError(error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut(`control-api refused the token: ${error.message}`);
      return;
    }
    const prefix = error instanceof ApiError && error.status ? `control-api answered ${error.status}: ` : "";
    fill(alertBox, `${prefix}${error.message}`);
    alertBox.hidden = false;
  },
  clearError() {
    alertBox.hidden = true;
    alertBox.replaceChildren();
  },
  title(text) {
    document.title = `${text} · remedy dashboard`;
  },
};

function signOut(message) {
  session.clear();
  route(message);
}

function signIn(message) {
  nav.hidden = true;
  context.title("Sign in");
  const input = h("input", {
    id: "token", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": "token-hint",
  });
  const status = h("p", { id: "sign-in-status", class: "result", role: "status" });
  const button = h("button", { type: "submit", id: "sign-in-submit" }, "Sign in");
  const form = h("form", { id: "sign-in", class: "card narrow", onsubmit: submit },
    h("h1", { tabindex: "-1" }, "Sign in"),
    h("label", { for: "token" }, "Operator token"),
    h("p", { id: "token-hint", class: "hint" },
      "An operator token from REMEDY_API_TOKENS (operator:<name>=<token>); on remedy up, ",
      h("code", {}, "api_tokens[\"operator:local\"]"), " in .remedy/state.json. ",
      "It stays in this tab's session storage and is sent only as the Authorization header."),
    input, button, status);
  fill(main, form);
  if (message) context.showError(new Error(message));
  input.focus();

  async function submit(event) {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      fill(status, "Enter a token first.");
      input.focus();
      return;
    }
    button.disabled = true;
    fill(status, "Checking the token with control-api…");
    try {
      await call("v1/tasks", { query: { limit: 1 }, token });
    } catch (error) {
      button.disabled = false;
      fill(status, "");
      const refused = error instanceof ApiError && error.status === 401;
      context.showError(refused ? new Error(`control-api refused the token: ${error.message}`) : error);
      input.focus();
      return;
    }
    input.value = "";
    session.token = token;
    context.clearError();
    if (!location.hash.startsWith("#/")) location.hash = "#/tasks";
    route();
  }
  return null;
}

function route(message) {
  view?.stop();
  view = null;
  if (!message) context.clearError();
  if (!session.token) {
    signIn(message);
    return;
  }
  nav.hidden = false;
  const [path, search = ""] = (location.hash || "#/tasks").split("?");
  const params = new URLSearchParams(search);
  const task = /^#\/tasks\/(\d{1,7})$/.exec(path);
  if (path === "#/tasks" || path === "#/" || path === "#") {
    view = renderTasks(context, params);
  } else if (task) {
    view = renderTask(context, Number(task[1]));
  } else {
    context.title("Not found");
    fill(main, h("h1", { tabindex: "-1" }, "No such page"),
      h("p", {}, "The dashboard has ", h("a", { href: "#/tasks" }, "all tasks"), " and one page per task."));
  }
  main.querySelector("h1")?.focus({ preventScroll: true });
}

document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", () => route());
route();
