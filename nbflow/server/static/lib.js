// Shared helpers of the visualiser's pages: the JSON API, DOM building (text only,
// never HTML), the one event stream, links, durations and state badges.
//
// Security: nothing here parses HTML. el() turns strings into text nodes, and
// attributes are set one by one from a fixed list (no on* attributes from data, no
// javascript: links).

const PREFIX = "/api/v1";

/** An API answer that was not 2xx: HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

let loginListener = null;

/** Register the callback app.js uses to show the login link after a 401/403. */
export function onLoginNeeded(callback) {
  loginListener = callback;
}

async function answer(response, isRead) {
  let body = null;
  const text = await response.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch (_error) {
      body = null;
    }
  }
  if (!response.ok) {
    if (isRead && (response.status === 401 || response.status === 403) && loginListener) {
      loginListener();
    }
    const message =
      (body && (body.message || body.error || body.reason)) ||
      `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, String(message));
  }
  return body;
}

/** GET /api/v1 + path and return its JSON; throws ApiError. */
export async function api(path, options = {}) {
  const response = await fetch(PREFIX + path, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal: options.signal,
  });
  return answer(response, true);
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** POST JSON to /api/v1 + path with the XSRF double-submit header; throws ApiError. */
export async function post(path, body = {}) {
  const response = await fetch(PREFIX + path, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-XSRF-Token": cookie("_xsrf"),
    },
    body: JSON.stringify(body),
  });
  return answer(response, false);
}

const SAFE_ATTRIBUTES = new Set([
  "id", "title", "type", "name", "value", "placeholder", "for", "role", "disabled",
  "checked", "selected", "min", "max", "step", "colspan", "rel", "target", "tabindex",
  "aria-label", "aria-live", "aria-sort", "aria-current", "aria-pressed", "autocomplete",
  "spellcheck", "size", "hidden",
]);

/** Return whether ``url`` is safe in an href (relative, #, or http(s)). */
export function isSafeHref(url) {
  const text = String(url).trim();
  if (text.startsWith("#") || text.startsWith("/")) return !text.startsWith("//");
  return /^https?:\/\//i.test(text);
}

function setAttribute(node, key, value) {
  if (value === undefined || value === null || value === false) return;
  if (key === "class") {
    node.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
  } else if (key === "href") {
    if (isSafeHref(value)) node.setAttribute("href", String(value));
  } else if (key.startsWith("data-") || SAFE_ATTRIBUTES.has(key)) {
    node.setAttribute(key, value === true ? "" : String(value));
  } else {
    throw new Error(`el(): attribute ${key} is not allowed`);
  }
}

function append(node, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) {
    for (const item of child) append(node, item);
  } else if (child instanceof Node) {
    node.appendChild(child);
  } else {
    node.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Build an element: el("a", {href, class, on: {click}}, "text", child, [more]).
 * Strings become text nodes; attrs are a fixed safe list plus data-*.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "on") {
      for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
    } else {
      setAttribute(node, key, value);
    }
  }
  append(node, children);
  return node;
}

// --- the event stream: one EventSource shared by every page -------------------------

const listeners = new Set();
let source = null;
let sourceUrl = "";

function handOn(note) {
  for (const listener of [...listeners]) listener.onNotification(note);
}

function resetAll() {
  for (const listener of [...listeners]) if (listener.onReset) listener.onReset();
}

function openSource(url) {
  source = new EventSource(url, { withCredentials: true });
  sourceUrl = url;
  // The stream starts when it opens: what changed between a page's first read and
  // then (or while it was reconnecting) is only seen by reading again.
  source.onopen = resetAll;
  source.onmessage = (message) => {
    let note;
    try {
      note = JSON.parse(message.data);
    } catch (_error) {
      return;
    }
    handOn(note);
  };
  // task logs arrive as named "log" events: handed on as {type: "log", ...data}
  source.addEventListener("log", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch (_error) {
      return;
    }
    handOn({ ...data, type: "log" });
  });
  source.addEventListener("reset", resetAll);
}

/** The stream's URL: only the logs some page follows (none: ?logs=0). */
function streamUrl() {
  const ids = new Set();
  for (const listener of listeners) for (const id of listener.logs) ids.add(id);
  const query = new URLSearchParams();
  for (const id of [...ids].sort()) query.append("log_task", id);
  if (!ids.size) query.set("logs", "0");
  return `${PREFIX}/events?${query}`;
}

function follow() {
  const url = listeners.size ? streamUrl() : "";
  if (source !== null && url === sourceUrl) return;
  if (source !== null) {
    source.close();
    source = null;
    sourceUrl = "";
  }
  if (url) openSource(url);
}

/**
 * Follow the event stream: onNotification(note) per message; onReset() when the page
 * must read its state again (the stream opened or reopened, or the server said reset).
 * ``options.logs``: task ids whose log text the page wants (``{type: "log", task_id,
 * run_id, started, offset, text}`` notes); other logs are not sent. Returns close().
 */
export function events(onNotification, onReset, options = {}) {
  const listener = { onNotification, onReset, logs: [...(options.logs || [])] };
  listeners.add(listener);
  follow();
  return () => {
    listeners.delete(listener);
    follow();
  };
}

// --- links and formatting ------------------------------------------------------------

/** Return the hash of a task's page. */
export function taskHref(id) {
  return `#/task/${encodeURIComponent(id)}`;
}

/** Return the hash of a task's graph page (direction: upstream, downstream, both). */
export function graphHref(id, direction) {
  const query = direction ? `?direction=${encodeURIComponent(direction)}` : "";
  return `#/graph/${encodeURIComponent(id)}${query}`;
}

/** A link to a task's page, showing its id (or ``label``). */
export function taskLink(id, label) {
  return el("a", { href: taskHref(id), class: "task-link", title: id }, label ?? id);
}

/** A link to a task's graph page. */
export function graphLink(id, label, direction) {
  return el("a", { href: graphHref(id, direction), class: "graph-link" }, label ?? "graph");
}

/** Format seconds as "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 0) seconds = 0;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Format a time (seconds since the epoch) as its age: "5 s ago", "3 min ago". */
export function ago(epochSeconds) {
  if (!epochSeconds) return "never";
  const age = Date.now() / 1000 - epochSeconds;
  if (age < 1) return "just now";
  return `${duration(age).replace(/ \d+ (s|min|h)$/, "")} ago`;
}

/** Format a time (seconds since the epoch) as local date and time. */
export function when(epochSeconds) {
  if (!epochSeconds) return "–";
  const date = new Date(epochSeconds * 1000);
  return date.toLocaleString(undefined, { hour12: false });
}

/** The CSS class of a state (also the widget's: see nbflow/core/dot.py). */
export function stateClass(state) {
  return `state-${String(state || "PENDING").toLowerCase().replace(/[^a-z_]/g, "")}`;
}

/** A coloured badge naming a state. */
export function stateBadge(state) {
  const name = String(state || "PENDING");
  return el("span", { class: ["badge", stateClass(name)], title: name }, name.replace(/_/g, " "));
}

/** Luigi's states, in the order the pages list them. */
export const STATES = [
  "PENDING", "RUNNING", "BATCH_RUNNING", "DONE", "FAILED", "DISABLED",
  "UPSTREAM_FAILED", "UPSTREAM_DISABLED", "CANCELLED",
];

/** A box telling what went wrong (an ApiError's message, as text). */
export function errorBox(error) {
  const message = error instanceof ApiError ? error.message : String(error && error.message ? error.message : error);
  return el("div", { class: "error-box", role: "alert" }, message);
}

/** Remove every child of ``node``, then append ``children``. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Call ``fn`` at most once per ``interval`` ms (trailing call kept). */
export function throttle(fn, interval = 1000) {
  let timer = null;
  let last = 0;
  const throttled = () => {
    const wait = last + interval - Date.now();
    if (timer !== null) return;
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return throttled;
}

let sessionPromise = null;

/** The login state: {logged_in, write_allowed, protect_reads} (cached; refresh=true reloads). */
export function session(refresh = false) {
  if (sessionPromise === null || refresh) {
    sessionPromise = api("/session").catch((error) => {
      sessionPromise = null;
      if (error instanceof ApiError && error.status === 404) {
        return { logged_in: false, write_allowed: false, protect_reads: false };
      }
      throw error;
    });
  }
  return sessionPromise;
}
