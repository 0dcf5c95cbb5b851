// #/task/<id>: one task. Its state, parameters, progress and status message, tracking
// URL, error and traceback, captured log, runs from the history, requirements and
// dependents, links to its graph, and the actions (forgive, re-enable, mark done,
// retry) when this browser may act. Live from the event stream.

import {
  ApiError, api, duration, el, errorBox, events, graphLink, isSafeHref, post, replace,
  stateBadge, taskLink, throttle, when,
} from "../lib.js";

const MAX_LOG = 200_000; // characters kept on the page; the server keeps the rest
const ACTIONS = [
  // verb, label, states it applies to, needs a confirmation
  ["retry", "Retry", ["FAILED", "DISABLED"], false],
  ["forgive", "Forgive failures", ["FAILED"], false],
  ["reenable", "Re-enable", ["DISABLED", "FAILED"], false],
  ["mark-done", "Mark done", null, true],
];
const NOT_MARKABLE = new Set(["RUNNING", "BATCH_RUNNING", "DONE"]);
const RUNNING = new Set(["RUNNING", "BATCH_RUNNING"]);
const TASK_NOTES = new Set(["TaskStatusChanged", "TaskProgressed", "TaskMessage", "TaskTrackingUrl", "TaskAdded"]);

function pathOf(id) {
  return `/tasks/${encodeURIComponent(id)}`;
}

function facts(rows) {
  const list = el("dl", { class: "facts" });
  for (const [name, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    list.append(el("dt", null, name), el("dd", null, value));
  }
  return list;
}

function progressBar(percentage) {
  const bar = el("span", { class: "progress-bar" });
  bar.style.width = `${Math.max(0, Math.min(100, percentage))}%`;
  return el("span", null, el("span", { class: "progress" }, bar), `${Math.round(percentage)}%`);
}

function trackingLink(url) {
  if (!url) return null;
  return isSafeHref(url) && /^https?:/i.test(url)
    ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank", class: "tracking-url" }, url)
    : el("span", { class: "mono" }, url);
}

function idList(ids, empty) {
  if (!ids.length) return el("p", { class: "muted" }, empty);
  const shown = ids.slice(0, 200);
  return el("ul", { class: "id-list" },
    shown.map((id) => el("li", null, taskLink(id))),
    ids.length > shown.length ? el("li", { class: "muted" }, `… and ${ids.length - shown.length} more`) : null);
}

function runsTable(runs) {
  if (!runs.length) return el("p", { class: "muted" }, "No run in the history.");
  const rows = runs.map((run) => el("tr", null,
    el("td", null, stateBadge(run.status)),
    el("td", null, when(run.started)),
    el("td", { class: "num" }, run.ended ? duration(run.ended - run.started) : "running"),
    el("td", { class: "mono" }, run.host || run.worker_id || ""),
    el("td", null, run.error || run.message || ""),
  ));
  return el("div", { class: "table-wrap" }, el("table", { class: "data runs" },
    el("thead", null, el("tr", null, ["State", "Started", "Took", "Worker", "Error or message"].map((h) => el("th", null, h)))),
    el("tbody", null, rows)));
}

export function render(root, params, ctx) {
  const taskId = params.id || "";
  // logEnd: characters the run has written up to the end of what is shown (null:
  // the log was not read yet, live text waits for it)
  const view = { closed: false, controller: null, confirming: false, logText: "", logEnd: null, task: null };

  const heading = el("h1", { class: "task-id" }, taskId);
  const summary = el("div");
  const actions = el("div", { class: "actions" });
  const actionProblem = el("div");
  const problemBox = el("div");
  const paramsBox = el("div");
  const errorSection = el("section");
  const logBox = el("pre", { class: "log", "data-testid": "task-log" });
  const logNote = el("p", { class: "muted" });
  const runsBox = el("div", null, el("p", { class: "muted" }, "Loading runs…"));
  const depsBox = el("div");
  const dependentsBox = el("div");
  const storyBox = el("div");

  root.append(
    el("p", { class: "links" }, el("a", { href: "#/tasks" }, "← Tasks"),
      graphLink(taskId, "Graph: what it needs", "upstream"),
      graphLink(taskId, "Graph: what needs it", "downstream"),
      graphLink(taskId, "Graph: both", "both")),
    heading,
    problemBox,
    summary,
    actions,
    actionProblem,
    el("h2", null, "Parameters"), paramsBox,
    errorSection,
    el("h2", null, "Log"), logNote, logBox,
    el("h2", null, "Runs"), runsBox,
    el("h2", null, "Requires"), depsBox,
    el("h2", null, "Required by"), dependentsBox,
    storyBox,
  );

  function drawActions(task) {
    if (!ctx.session || !ctx.session.write_allowed) {
      replace(actions);
      return;
    }
    const buttons = [];
    for (const [verb, label, states, confirm] of ACTIONS) {
      const allowed = states ? states.includes(task.status) : !NOT_MARKABLE.has(task.status);
      if (!allowed) continue;
      if (confirm && view.confirming) {
        buttons.push(
          el("span", { class: "confirm" }, "Mark this task done without running it? "),
          el("button", { type: "button", class: "danger", "data-action": "confirm-mark-done", on: { click: () => act(verb) } }, "Yes, mark done"),
          el("button", { type: "button", class: "quiet", on: { click: () => { view.confirming = false; drawActions(task); } } }, "Cancel"),
        );
        continue;
      }
      buttons.push(el("button", {
        type: "button", class: confirm ? "quiet" : null, "data-action": verb,
        on: { click: () => (confirm ? (view.confirming = true, drawActions(task)) : act(verb)) },
      }, label));
    }
    replace(actions, buttons);
  }

  async function act(verb) {
    view.confirming = false;
    for (const button of actions.querySelectorAll("button")) button.disabled = true;
    try {
      await post(`${pathOf(taskId)}/${verb}`);
      actionProblem.replaceChildren();
    } catch (error) {
      replace(actionProblem, errorBox(error));
    }
    await load();
  }

  function drawTask(detail) {
    const task = detail.task;
    view.task = task;
    replace(summary,
      el("p", null, stateBadge(task.status), " ", el("span", { class: "muted" }, task.family)),
      facts([
        ["Worker", task.worker_id || null],
        ["Progress", typeof task.progress === "number" ? progressBar(task.progress) : null],
        ["Status message", task.status_message ? el("span", { class: "status-message" }, task.status_message) : null],
        ["Tracking URL", trackingLink(task.tracking_url)],
        ["Changed", task.changed_at ? when(task.changed_at) : null],
        ["Priority", String(task.priority ?? 0)],
        ["Failures", task.failures ? String(task.failures) : null],
        ["Why", task.reason || null],
        ["Owners", task.owners && task.owners.length ? task.owners.join(", ") : null],
      ]));
    const rows = (task.params || []).map(([name, value]) =>
      el("tr", null, el("th", { class: "mono" }, name), el("td", { class: "mono param-value" }, value)));
    replace(paramsBox, rows.length
      ? el("table", { class: "data params-table" }, el("tbody", null, rows))
      : el("p", { class: "muted" }, "No parameters."));
    if (task.error || task.traceback) {
      replace(errorSection,
        el("h2", null, "Error"),
        task.error ? el("p", { class: "error-box task-error" }, task.error) : null,
        task.traceback ? el("pre", { class: "traceback", "data-testid": "traceback" }, task.traceback) : null);
    } else {
      errorSection.replaceChildren();
    }
    replace(depsBox, idList(task.deps || [], "Nothing."));
    replace(dependentsBox, idList(detail.dependents || [], "Nothing."));
    const story = detail.story || [];
    replace(storyBox, story.length ? [el("h2", null, "Story"), el("pre", { class: "story" }, story.join("\n"))] : null);
    drawActions(task);
  }

  async function load() {
    if (view.controller) view.controller.abort();
    const controller = new AbortController();
    view.controller = controller;
    try {
      const detail = await api(pathOf(taskId), { signal: controller.signal });
      if (view.closed || controller.signal.aborted) return;
      problemBox.replaceChildren();
      drawTask(detail);
    } catch (error) {
      if (error.name === "AbortError" || view.closed) return;
      replace(problemBox, errorBox(error));
    }
  }

  function showLog(text, note) {
    view.logText = text.length > MAX_LOG ? text.slice(text.length - MAX_LOG) : text;
    logBox.textContent = view.logText;
    logBox.hidden = !view.logText;
    logNote.textContent = note;
  }

  function appendLog(text) {
    if (!text) return;
    const stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
    showLog(view.logText + text, "");
    if (stick) logBox.scrollTop = logBox.scrollHeight;
  }

  /** Add a live piece of the log at its place (offset: characters written before it). */
  function onLogText(note) {
    if (view.logEnd === null || typeof note.offset !== "number") return;
    const text = note.text || "";
    if (note.offset > view.logEnd) {
      reloadLog(); // a gap: something was missed
    } else if (note.offset + text.length > view.logEnd) {
      appendLog(text.slice(view.logEnd - note.offset)); // past what is shown
      view.logEnd = note.offset + text.length;
    }
  }

  async function loadLog() {
    try {
      const log = await api(`${pathOf(taskId)}/log`);
      if (view.closed) return;
      const text = (log && log.text) || "";
      view.logEnd = log && typeof log.offset === "number" ? log.offset : text.length;
      const notes = [];
      if (!text) notes.push("No log.");
      if (log && log.truncated) notes.push("The beginning was cut: only the end of the log is kept.");
      showLog(text, notes.join(" "));
    } catch (error) {
      if (view.closed) return;
      view.logEnd = null;
      const absent = error instanceof ApiError && (error.status === 404 || error.status === 405);
      showLog("", absent ? "No log." : `The log could not be read: ${error.message}`);
    }
  }

  async function loadRuns() {
    try {
      const answer = await api(`/history/runs?task_id=${encodeURIComponent(taskId)}&limit=50`);
      if (view.closed) return;
      replace(runsBox, runsTable(answer.runs || []),
        answer.next_cursor ? el("p", null, el("a", { href: `#/history?task=${encodeURIComponent(taskId)}` }, "All runs…")) : null);
    } catch (error) {
      if (view.closed) return;
      replace(runsBox, error instanceof ApiError && error.status === 404
        ? el("p", { class: "muted" }, "This server keeps no history.")
        : errorBox(error));
    }
  }

  const refresh = throttle(load, 500);
  const reloadLog = throttle(loadLog, 1000);
  const refreshRuns = throttle(loadRuns, 2000);
  const close = events((note) => {
    if (note.task_id !== taskId && !(note.task_ids || []).includes(taskId)) return;
    if (TASK_NOTES.has(note.type)) {
      refresh();
      if (note.type === "TaskStatusChanged") refreshRuns();
      if (note.type === "TaskStatusChanged" && RUNNING.has(note.status)) {
        view.logEnd = 0; // a new run: its log starts empty
        showLog("", "No log yet.");
      }
    } else if (note.type === "log") {
      onLogText(note);
    } else if (note.type === "TasksRemoved") {
      load();
    }
  }, () => { load(); loadLog(); }, { logs: [taskId] });

  showLog("", "Loading the log…");
  load();
  loadLog();
  loadRuns();

  return () => {
    view.closed = true;
    refresh.cancel();
    refreshRuns.cancel();
    reloadLog.cancel();
    if (view.controller) view.controller.abort();
    close();
  };
}
