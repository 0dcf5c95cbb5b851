import { createGraphView } from "../../static/graph.js";
// nbflow DAG view (anywidget ESM): the glue between the widget's traits and nbflow's
// graph renderer (nbflow/static/graph.js, bundled before this file by
// nbflow.widgets.dag, which drops the import line above). The renderer draws the `svg`
// trait once, then applies `states` (node id -> state) as CSS classes on the SVG nodes
// and `shares` (group node id -> tasks by state) as a stacked bar inside each group
// node; it zooms and pans. This file adds the title, the details panel and the
// progress and failure panels. A click on a node opens its details;
// a group's details list its tasks (filtered, at most LISTED). While a cell waits on a
// run the kernel answers no click, so a click shows at once what `known` (failed tasks)
// and `known_recent` (running and last finished ones) hold, the details Python synced
// ahead, or else what the drawing tells (label, state); Python's `detail` fills in
// more when the kernel is free. Everything that came from Python as text is set with
// textContent; `progress` and `failures` are HTML escaped in Python.

const MAX_HEIGHT = 480;
const LISTED = 200;
// the order in which a group lists its tasks' states (failures first; then the rest)
const NOTABLE = ["FAILED", "DISABLED", "broken", "CANCELLED", "RUNNING", "BATCH_RUNNING",
  "UPSTREAM_FAILED", "UPSTREAM_DISABLED", "missing", "stale", "unversioned", "PENDING"];
const rank = (state) => (NOTABLE.includes(state) ? NOTABLE.indexOf(state) : NOTABLE.length);

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Keep open <details> open when a panel's HTML is replaced; show links' URLs on hover. */
function replaceHtml(panel, html) {
  const open = new Set();
  for (const item of panel.querySelectorAll("[data-task-id] details[open]")) {
    open.add(item.closest("[data-task-id]").dataset.taskId);
  }
  panel.innerHTML = html;
  for (const item of panel.querySelectorAll("[data-task-id]")) {
    if (open.has(item.dataset.taskId)) item.querySelector("details")?.setAttribute("open", "");
  }
  for (const link of panel.querySelectorAll("a[href]")) {
    link.classList.add("nbflow-link");
    if (!link.title) link.title = link.href;
  }
}

function row(table, name, value, swatch) {
  const tr = make("tr");
  const th = make("th", "", name);
  if (swatch) th.prepend(make("span", `nbflow-swatch ${swatch}`));
  tr.append(th, make("td", "", String(value)));
  table.append(tr);
}

function taskDetail(box, detail, words, pick) {
  if (detail.group) {
    const back = make("button", "nbflow-back", `← ${detail.group.replace(/^family:/, "")} tasks`);
    back.addEventListener("click", () => pick(detail.group));
    box.append(back);
  }
  box.append(make("div", "nbflow-detail-title", detail.label || detail.task_id));
  const table = make("table", "nbflow-params");
  if (detail.state) row(table, "state", detail.state_words || words[detail.state] || detail.state, detail.state);
  for (const [name, value] of detail.params || []) row(table, name, value);
  if (detail.progress !== undefined && detail.progress !== null) row(table, "progress", `${Math.floor(detail.progress)}%`);
  if (detail.message) row(table, "message", detail.message);
  if (detail.elapsed) row(table, "elapsed", detail.elapsed);
  if (detail.cause) row(table, "caused by", detail.cause);
  if (detail.deps !== undefined) row(table, "dependencies", detail.deps);
  if (detail.task_id) row(table, "id", detail.task_id);
  box.append(table);
  if (detail.url) {
    const link = make("a", "nbflow-link", detail.url);
    link.href = detail.url; // Python sends http(s) URLs only
    link.title = detail.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link);
  }
  if (detail.error) box.append(make("pre", "nbflow-error", detail.error));
  if (detail.traceback) {
    box.append(make("div", "nbflow-detail-head", "Traceback (your code)"));
    box.append(make("pre", "nbflow-traceback", detail.traceback));
  }
  if (detail.full_traceback && detail.full_traceback !== detail.traceback) {
    const more = make("details", "nbflow-full-traceback");
    more.append(make("summary", "", "Full traceback, with nbflow's frames"),
      make("pre", "", detail.full_traceback));
    box.append(more);
  }
  if (detail.output) {
    const lines = detail.output.split("\n").length;
    box.append(make("div", "nbflow-detail-head", `Output (last ${lines} lines)`));
    const output = make("pre", "nbflow-output", detail.output);
    box.append(output);
    requestAnimationFrame(() => { output.scrollTop = output.scrollHeight; });
  }
}

/** A group's details: its family, tasks by state, and a filtered list of its tasks. */
function groupDetail(box, detail, model, filter, pick) {
  const words = model.get("words") || {};
  const counts = (model.get("shares") || {})[detail.group] || detail.counts || {};
  const tasks = (model.get("groups") || {})[detail.group] || [];
  box.append(make("div", "nbflow-detail-title", detail.label));
  const table = make("table", "nbflow-params");
  row(table, "tasks", tasks.length.toLocaleString());
  for (const [state, count] of Object.entries(counts)) row(table, words[state] || state, count.toLocaleString(), state);
  box.append(table);
  // a task's state: from Python's list of notable tasks, the synced details of its
  // tasks (`known`: failed; `known_recent`: running, last finished), or the only state
  const knownStates = Object.values({ ...model.get("known"), ...model.get("known_recent") })
    .filter((task) => task.group === detail.group)
    .map((task) => [task.task_id, task.state])
    .sort((a, b) => rank(a[1]) - rank(b[1]));
  const notable = detail.notable || knownStates;
  const stateOf = new Map(notable);
  const only = Object.keys(counts).length === 1 ? Object.keys(counts)[0] : undefined;
  const list = make("ul", "nbflow-task-list");
  const note = make("div", "nbflow-list-note");
  const fill = () => {
    const needle = filter.value.trim().toLowerCase();
    const ordered = needle ? tasks : [
      ...tasks.filter(([id]) => stateOf.has(id)).sort(
        (a, b) => notable.findIndex(([id]) => id === a[0])
          - notable.findIndex(([id]) => id === b[0])),
      ...tasks.filter(([id]) => !stateOf.has(id)),
    ];
    const matches = [];
    let count = 0;
    for (const [id, label] of ordered) {
      if (needle && !label.toLowerCase().includes(needle) && !id.toLowerCase().includes(needle)) continue;
      count += 1;
      if (matches.length < LISTED) matches.push([id, label]);
    }
    list.replaceChildren(...matches.map(([id, label]) => {
      const state = stateOf.get(id) || only;
      const item = make("li");
      const button = make("button", "nbflow-task-pick");
      button.dataset.taskId = id;
      button.append(make("span", `nbflow-swatch ${state || ""}`), make("span", "", label));
      if (state) button.append(make("span", "nbflow-task-state", words[state] || state));
      button.addEventListener("click", () => pick(id, { label, state, group: detail.group }));
      item.append(button);
      return item;
    }));
    note.textContent = count > matches.length
      ? `showing ${matches.length} of ${count.toLocaleString()} ${needle ? "matching" : ""} tasks: type to filter`
      : `${count.toLocaleString()} ${needle ? "matching " : ""}tasks`;
  };
  filter.oninput = fill;
  box.append(filter, note, list);
  fill();
}

function render({ model, el }) {
  el.classList.add("nbflow-view");
  const title = make("span", "nbflow-title");
  let detail = make("div", "nbflow-detail");
  const filter = make("input", "nbflow-filter");
  filter.type = "search";
  filter.placeholder = "filter tasks by name or parameter";
  filter.setAttribute("aria-label", "Filter the group's tasks");
  const select = (id) => {
    model.set("selected", id);
    model.save_changes();
  };
  // While a cell blocks the kernel, Python answers after the run: show what we know.
  const knownOf = (id) => (model.get("known_recent") || {})[id] || (model.get("known") || {})[id] || {};
  let shownKnown = ""; // the synced details on screen, as JSON (to redraw on change)
  const showDetail = (data) => {
    shownKnown = data && data.task_id ? JSON.stringify(knownOf(data.task_id)) : "";
    const next = make("div", "nbflow-detail");
    const focused = document.activeElement === filter;
    const at = [filter.selectionStart, filter.selectionEnd];
    if (data && Object.keys(data).length) {
      const close = make("button", "nbflow-close", "×");
      close.title = "Close";
      close.addEventListener("click", () => select(""));
      next.append(close);
      const pick = (id, known) => {
        if (known) showDetail({ task_id: id, ...known, ...knownOf(id) });
        else if (id.startsWith("family:")) showDetail({ group: id, label: id.slice(7) });
        select(id);
      };
      if (data.group && !data.task_id) groupDetail(next, data, model, filter, pick);
      else taskDetail(next, data, model.get("words") || {}, pick);
    }
    detail.replaceWith(next);
    detail = next;
    if (focused && filter.isConnected) {
      filter.focus();
      filter.setSelectionRange(...at);
    }
  };
  // the task a pick shows: a node's own, or the only task of a group of one
  const taskOf = (id) => {
    const members = (model.get("groups") || {})[id];
    if (!members) return id;
    return members.length === 1 ? members[0][0] : "";
  };
  const onPick = (id, known) => {
    const members = (model.get("groups") || {})[id];
    if (id && members?.length === 1) {
      const [taskId, label] = members[0];
      showDetail({ task_id: taskId, label, state: known?.state, ...knownOf(taskId) });
    } else if (id && members) {
      if (model.get("selected") !== id) filter.value = "";
      showDetail({ group: id, label: id.replace(/^family:/, "") });
    } else {
      showDetail(id ? { task_id: id, ...known, ...knownOf(id) } : {});
    }
    select(id);
  };
  const header = make("div", "nbflow-header");
  header.append(title);
  el.append(header);
  const graph = createGraphView(el, {
    toolbar: header,
    maxHeight: MAX_HEIGHT,
    legend: model.get("legend"),
    words: model.get("words") || {},
    onSelect: (id, known) => onPick(id || "", known || {}),
  });
  const progress = make("div", "nbflow-progress-panel");
  const failures = make("div", "nbflow-failures-panel");
  el.append(detail, progress, failures);
  const groupOf = new Map(); // task id -> group node id
  const indexGroups = () => {
    groupOf.clear();
    for (const [id, tasks] of Object.entries(model.get("groups") || {})) {
      for (const [taskId] of tasks) groupOf.set(taskId, id);
    }
  };
  const markSelected = () => {
    const selected = model.get("selected");
    graph.select(groupOf.get(selected) || selected || null);
  };
  const onStates = () => graph.setStates(model.get("states"));
  const onShares = () => graph.setShares(model.get("shares"));
  const onSvg = () => {
    graph.draw(model.get("svg") || "");
    indexGroups();
    onShares();
    onStates();
    markSelected();
  };

  const onTitle = () => { title.textContent = model.get("title"); };
  const onLegend = () => graph.setLegend(model.get("legend"));
  const onWords = () => graph.setWords(model.get("words") || {});
  const onDetail = () => {
    const data = model.get("detail") || {};
    // Python may still describe the previous pick: keep what the user asked for
    const picked = model.get("selected");
    const single = (model.get("groups") || {})[picked]?.length === 1; // shows its task
    if (picked && data.task_id !== picked && data.group !== picked && !single) return;
    showDetail(data);
  };
  // a picked task's synced details changed (it failed, printed, ended) while Python,
  // busy with the run, has not answered the pick: show the new ones
  const onKnown = () => {
    const picked = model.get("selected") && taskOf(model.get("selected"));
    if (!picked) return;
    if ((model.get("detail") || {}).task_id === picked) return; // Python answered
    const data = knownOf(picked);
    if (!data.task_id || JSON.stringify(data) === shownKnown) return;
    showDetail(data);
  };
  const onProgress = () => replaceHtml(progress, model.get("progress"));
  const onFailures = () => replaceHtml(failures, model.get("failures"));
  const onGroups = () => { indexGroups(); markSelected(); };
  const handlers = {
    "change:svg": onSvg,
    "change:states": onStates,
    "change:shares": onShares,
    "change:groups": onGroups,
    "change:selected": markSelected,
    "change:words": onWords,
    "change:title": onTitle,
    "change:legend": onLegend,
    "change:detail": onDetail,
    "change:known": onKnown,
    "change:known_recent": onKnown,
    "change:progress": onProgress,
    "change:failures": onFailures,
  };
  for (const [name, handler] of Object.entries(handlers)) model.on(name, handler);
  onTitle();
  onSvg();
  onDetail();
  onProgress();
  onFailures();
  return () => {
    for (const [name, handler] of Object.entries(handlers)) model.off(name, handler);
    graph.destroy();
  };
}

export default { render };
