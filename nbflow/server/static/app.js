// The visualiser's shell: a hash router over pages/*.js, and the top bar (counts by
// state kept live from the event stream, the paused banner, the login state).
//
// Routes: #/tasks (default), #/task/<id>, #/graph/<id>, #/workers, #/history,
// #/schedules; a query
// after "?" in the hash is handed to the page as URLSearchParams.

import {
  ApiError, STATES, api, el, errorBox, events, onLoginNeeded, post, replace,
  session, stateClass, throttle,
} from "./lib.js";

const PAGES = {
  tasks: "./pages/tasks.js",
  task: "./pages/task.js",
  graph: "./pages/graph.js",
  workers: "./pages/workers.js",
  history: "./pages/history.js",
  schedules: "./pages/schedules.js",
};

/** Split the hash into {page, id, query}. */
export function parseHash(hash) {
  const text = (hash || "").replace(/^#\/?/, "");
  const mark = text.indexOf("?");
  const path = mark < 0 ? text : text.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? "" : text.slice(mark + 1));
  const slash = path.indexOf("/");
  const page = slash < 0 ? path : path.slice(0, slash);
  let id;
  if (slash >= 0) {
    try {
      id = decodeURIComponent(path.slice(slash + 1));
    } catch (_error) {
      id = path.slice(slash + 1);
    }
  }
  return { page: page || "tasks", id, query };
}

const state = { cleanup: null, generation: 0, session: null };

async function route() {
  const generation = ++state.generation;
  const { page, id, query } = parseHash(location.hash);
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch (error) {
      console.error("nbflow: a page's cleanup failed", error);
    }
    state.cleanup = null;
  }
  for (const link of document.querySelectorAll(".nav a")) {
    const current = link.dataset.page === page || (page === "task" && link.dataset.page === "tasks");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = document.getElementById("page");
  const module = PAGES[page];
  if (!module) {
    replace(root, el("h1", null, "Not found"), el("p", null, "No page ", page, ". ", el("a", { href: "#/tasks" }, "See the tasks.")));
    return;
  }
  replace(root, el("p", { class: "muted" }, "Loading…"));
  try {
    const [loaded, current] = await Promise.all([import(module), sessionOrDefault()]);
    if (generation !== state.generation) return;
    root.replaceChildren();
    const cleanup = loaded.render(root, { id, query }, { session: current });
    state.cleanup = typeof cleanup === "function" ? cleanup : null;
  } catch (error) {
    if (generation !== state.generation) return;
    replace(root, errorBox(error));
  }
}

async function sessionOrDefault() {
  try {
    state.session = await session();
  } catch (_error) {
    state.session = { logged_in: false, write_allowed: false, protect_reads: false };
  }
  return state.session;
}

// --- the top bar --------------------------------------------------------------------

const bar = { counts: {}, total: 0, paused: false, loaded: false };

function drawCounts() {
  const box = document.getElementById("counts");
  const items = [];
  for (const name of STATES) {
    const count = bar.counts[name] || 0;
    if (!count && !["PENDING", "RUNNING", "DONE", "FAILED"].includes(name)) continue;
    items.push(
      el(
        "a",
        {
          class: ["count", stateClass(name), count ? null : "zero"],
          href: `#/tasks?status=${name}`,
          title: `${count} ${name} — show them`,
          "data-state": name,
        },
        el("span", { class: "count-name" }, name.replace(/_/g, " ").toLowerCase()),
        el("span", { class: "count-value" }, String(count)),
      ),
    );
  }
  replace(box, items);
}

function drawBanner() {
  const banner = document.getElementById("banner");
  if (!bar.paused) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  banner.hidden = false;
  const parts = [el("strong", null, "Paused: "), "the scheduler hands no task to any worker."];
  if (state.session && state.session.write_allowed) {
    parts.push(" ", el("button", { type: "button", class: "button", on: { click: () => pauseOrResume("resume") } }, "Resume"));
  }
  replace(banner, parts);
}

async function pauseOrResume(verb) {
  try {
    const answer = await post(`/scheduler/${verb}`);
    bar.paused = Boolean(answer && answer.paused);
    drawBanner();
    drawLogin();
  } catch (error) {
    alertBar(error);
  }
}

function alertBar(error) {
  const banner = document.getElementById("banner");
  banner.hidden = false;
  replace(banner, errorBox(error));
}

async function loadScheduler() {
  try {
    const answer = await api("/scheduler");
    bar.counts = { ...(answer.counts || {}) };
    bar.total = answer.tasks || 0;
    bar.paused = Boolean(answer.paused);
    bar.loaded = true;
  } catch (error) {
    if (!(error instanceof ApiError && (error.status === 401 || error.status === 403))) {
      console.warn("nbflow: GET /api/v1/scheduler failed:", error.message);
    }
  }
  drawCounts();
  drawBanner();
  drawLogin();
}

// The counts are read again (at most once a second) rather than added up from the
// stream: the stream starts "now", which need not be the moment of the first read.
const reloadScheduler = throttle(loadScheduler, 1000);
const COUNTED = new Set(["TaskAdded", "TaskStatusChanged", "TasksRemoved"]);

function onNotification(note) {
  if (COUNTED.has(note.type)) {
    reloadScheduler();
  } else if (note.type === "PauseChanged") {
    bar.paused = Boolean(note.paused);
    drawBanner();
    drawLogin();
  }
}

function drawLogin() {
  const box = document.getElementById("login");
  const current = state.session;
  const parts = [];
  if (current && current.write_allowed && !bar.paused) {
    parts.push(el("button", { type: "button", class: "button quiet", title: "Stop handing tasks to workers", on: { click: () => pauseOrResume("pause") } }, "Pause"));
  }
  if (current && current.logged_in) {
    parts.push(el("button", { type: "button", class: "button quiet", on: { click: logout } }, "Log out"));
  } else {
    const next = encodeURIComponent("/" + location.hash);
    parts.push(el("a", { href: `/login?next=${next}`, class: "login-link" }, "Log in"));
  }
  replace(box, parts);
}

async function logout() {
  const xsrf = (document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1] || "";
  try {
    await fetch("/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-XSRF-Token": decodeURIComponent(xsrf), "Content-Type": "application/x-www-form-urlencoded" },
      body: `_xsrf=${xsrf}`,
    });
  } finally {
    await sessionOrDefault().catch(() => null);
    location.reload();
  }
}

async function start() {
  onLoginNeeded(() => {
    state.session = { ...(state.session || {}), logged_in: false, write_allowed: false };
    drawLogin();
  });
  await sessionOrDefault();
  drawLogin();
  window.addEventListener("hashchange", route);
  route();
  loadScheduler();
  events(onNotification, () => loadScheduler());
}

start();
