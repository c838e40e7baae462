// control-api over fetch(): the operator's token goes in the Authorization header only.
//
// The token lives in sessionStorage (this tab, until it closes) and is never put in a
// URL, never logged, never sent anywhere but control-api's own origin (the page's CSP
// allows connections to 'self' only). The watch stream is read with fetch() and a
// ReadableStream reader, because EventSource cannot send an Authorization header.

const TOKEN_KEY = "remedy.dashboard.token";

// The page is served at <control-api>/dashboard/, so the API root is one level up
// (which also holds behind a proxy that mounts control-api under a prefix).
const API_ROOT = new URL("../", document.baseURI);

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An answer from control-api that is not a success, with the message it sent. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** The URL of an API path with its query (no credentials ever go here). */
export function apiUrl(path, query = {}) {
  const url = new URL(path.replace(/^\//, ""), API_ROOT);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

function headers(token, extra = {}) {
  return { Authorization: `Bearer ${token}`, ...extra };
}

const FETCH_OPTIONS = { cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };

async function send(url, init) {
  try {
    return await fetch(url, { ...FETCH_OPTIONS, ...init });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", `control-api did not answer (${error.message}); is it running?`);
  }
}

async function bodyOf(response) {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { error: "not_json", message: text.slice(0, 300) };
  }
}

function failure(response, body) {
  const message = body.message || response.statusText || `control-api answered ${response.status}`;
  return new ApiError(response.status, body.error || `http_${response.status}`, message);
}

/** One JSON call; resolves to the answer's body, rejects with an ApiError. */
export async function call(path, { method = "GET", query, body, extraHeaders, signal, token } = {}) {
  const json = body === undefined ? {} : { "Content-Type": "application/json" };
  const response = await send(apiUrl(path, query), {
    method,
    signal,
    headers: headers(token ?? session.token, { Accept: "application/json", ...json, ...extraHeaders }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await bodyOf(response);
  if (!response.ok) throw failure(response, answer);
  return answer;
}

/**
 * Watch a task's cancellations: calls onLine with every JSON line (snapshot, changed,
 * end) as it arrives; resolves to the end's reason ("all-stopped", "timeout",
 * "no-state", "error"), or "closed" when the stream stopped without one.
 */
export async function watchCancellations(taskId, { timeout = 60, signal, onLine }) {
  const url = apiUrl(`v1/tasks/${taskId}/cancellations`, { watch: "true", timeout });
  const response = await send(url, {
    signal,
    headers: headers(session.token, { Accept: "application/x-ndjson" }),
  });
  if (!response.ok) throw failure(response, await bodyOf(response));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) {
        last = JSON.parse(line);
        onLine(last);
      }
    }
  }
  return last && last.type === "end" ? last.reason : "closed";
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; fall back). */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
