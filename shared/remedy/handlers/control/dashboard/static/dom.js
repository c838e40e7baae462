// Building the page from data safely: every value becomes a text node, never HTML.

/** An element with attributes (on* names add listeners) and children (text or nodes). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace everything in ``element`` with ``children``. */
export function fill(element, ...children) {
  element.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child !== undefined && child !== null && child !== false) element.append(child);
  }
  return element;
}

/** A commit id shortened for reading, the whole id on hover. */
export function sha(value) {
  if (!value) return h("span", { class: "empty" }, "none");
  return h("code", { title: value }, value.slice(0, 10));
}

/** A point in time: the local date and time, with how long ago. */
export function when(value) {
  if (!value) return h("span", { class: "empty" }, "never");
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return h("span", {}, value);
  return h("time", { datetime: value, title: value }, `${localTime(at)} (${ago(at)})`);
}

function localTime(at) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} `
    + `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

export function ago(at, now = Date.now()) {
  const seconds = Math.round((now - at.getTime()) / 1000);
  if (seconds < 0) return `in ${span(-seconds)}`;
  if (seconds < 5) return "just now";
  return `${span(seconds)} ago`;
}

export function span(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** A status as a coloured badge (colour is never the only cue: the word is there). */
export function badge(text, status = text) {
  return h("span", { class: `badge status-${status}` }, text);
}

/** A table with a caption and headings; a row is an array of cells or {attributes, cells}. */
export function table({ caption, columns, rows, empty, id }) {
  const head = h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)));
  const line = (row) => (Array.isArray(row) ? { attributes: {}, cells: row } : row);
  const body = rows.length
    ? rows.map(line).map(({ attributes, cells }) => h("tr", attributes, cells.map((cell) => h("td", {}, cell))))
    : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty));
  return h("div", { class: "table-wrap" },
    h("table", { id }, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body)));
}
