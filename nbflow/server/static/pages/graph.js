// #/graph/<id>?direction=upstream|downstream|both&hide_done=1&expand=A,B: the graph
// around a task. The server lays it out (GET /api/v1/tasks/<id>/drawing); the shared
// renderer (/static/shared/graph.js) draws it once; then the event stream only
// recolours: each TaskStatusChanged goes through node_of to its node (a task of its
// own: its state; a task drawn in a family group: the group's shares and state), and
// the changes of one frame are applied together in requestAnimationFrame. A task the
// drawing does not know (the graph grew) fetches the drawing again, at most every 2 s.
// A click on a node opens a side panel; a double click (or its button) expands a group.
//
// The root gets data-painted-at (performance.now() once the first drawing is painted),
// data-applied (state changes applied) and data-frames (frames that applied some), for
// the browser tests and benchmarks/visualiser_graph.py.

import { createGraphView } from "../shared/graph.js";
import {
  ApiError, api, el, errorBox, events, graphHref, replace, stateBadge, taskHref, taskLink,
} from "../lib.js";

const DIRECTIONS = [["upstream", "Upstream"], ["downstream", "Downstream"], ["both", "Both"]];
const REFETCH_MS = 2000;
const LISTED = 200;
// a group's state: the first of these any of its tasks is in (nbflow.core.layout)
const PRECEDENCE = ["FAILED", "RUNNING", "BATCH_RUNNING", "CANCELLED", "PENDING", "DISABLED",
  "UPSTREAM_FAILED", "UPSTREAM_DISABLED", "stale", "unversioned", "DONE"];
const WORDS = {
  PENDING: "pending", RUNNING: "running", BATCH_RUNNING: "running (batch)", DONE: "done",
  FAILED: "failed", DISABLED: "disabled", UPSTREAM_FAILED: "upstream failed",
  UPSTREAM_DISABLED: "upstream disabled", CANCELLED: "cancelled",
};

/** The state a group shows for its tasks' counts ({state: n}). */
export function groupState(counts) {
  for (const state of PRECEDENCE) if (counts[state]) return state;
  const present = Object.keys(counts).filter((state) => counts[state] > 0);
  return present.length ? present[0] : "PENDING";
}

function readOptions(query) {
  const direction = query.get("direction");
  return {
    direction: DIRECTIONS.some(([name]) => name === direction) ? direction : "upstream",
    hideDone: query.get("hide_done") === "1",
    expand: (query.get("expand") || "").split(",").map((name) => name.trim()).filter(Boolean),
    groupAbove: /^\d+$/.test(query.get("group_above") || "") ? query.get("group_above") : null,
  };
}

function hashOf(id, options) {
  const query = new URLSearchParams();
  if (options.direction !== "upstream") query.set("direction", options.direction);
  if (options.hideDone) query.set("hide_done", "1");
  if (options.expand.length) query.set("expand", options.expand.join(","));
  if (options.groupAbove !== null) query.set("group_above", options.groupAbove);
  const text = query.toString();
  return `#/graph/${encodeURIComponent(id)}${text ? `?${text}` : ""}`;
}

function drawingPath(id, options) {
  const query = new URLSearchParams({ direction: options.direction });
  if (options.hideDone) query.set("hide_done", "1");
  if (options.expand.length) query.set("expand", options.expand.join(","));
  if (options.groupAbove !== null) query.set("group_above", options.groupAbove);
  return `/tasks/${encodeURIComponent(id)}/drawing?${query}`;
}

/** The page's stylesheet, added to <head> once (CSP: a same-origin link is allowed). */
function addStylesheet() {
  if (document.querySelector("link[data-page-style='graph']")) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/static/pages/graph.css", "data-page-style": "graph" }));
}

function controls(id, options) {
  const go = (changes) => { location.hash = hashOf(id, { ...options, ...changes }); };
  const directions = el("span", { class: "graph-directions", role: "group", "aria-label": "direction" },
    DIRECTIONS.map(([name, label]) => el("button", {
      type: "button", class: "graph-direction", "aria-pressed": String(options.direction === name),
      "data-direction": name, on: { click: () => go({ direction: name }) },
    }, label)));
  const hide = el("input", { type: "checkbox", class: "graph-hide-done", on: { change: (event) => go({ hideDone: event.target.checked }) } });
  hide.checked = options.hideDone;
  const expanded = options.expand.map((family) => el("button", {
    type: "button", class: "graph-collapse", title: `Draw ${family} as one group again`,
    "data-family": family, on: { click: () => go({ expand: options.expand.filter((name) => name !== family) }) },
  }, `${family} ×`));
  if (expanded.length > 1) {
    expanded.push(el("button", { type: "button", class: "graph-collapse-all", on: { click: () => go({ expand: [] }) } }, "Collapse all"));
  }
  const status = el("span", { class: "graph-status muted", "aria-live": "polite" });
  const bar = el("div", { class: "toolbar graph-controls" },
    directions, el("label", null, hide, "hide done"),
    expanded.length ? el("span", { class: "graph-expanded" }, "expanded: ", expanded) : null,
    el("span", { class: "spacer" }), status);
  return { bar, status, go };
}

/** The live state of one drawing: node of each task, group counts, what to apply next. */
function makeModel() {
  return {
    drawing: null,
    nodeOf: new Map(),
    shares: new Map(), // group id -> {state: count}, kept live
    states: new Map(), // node id -> state, kept live
    taskState: new Map(), // grouped task id -> its state (as last applied)
    members: null, // group id -> [task ids] (made on demand)
  };
}

function load(model, drawing) {
  model.drawing = drawing;
  model.nodeOf = new Map(Object.entries(drawing.node_of));
  model.shares = new Map(Object.entries(drawing.shares).map(([id, counts]) => [id, { ...counts }]));
  model.states = new Map(Object.entries(drawing.states));
  model.taskState = new Map();
  model.members = null;
}

function membersOf(model, groupId) {
  if (model.members === null) {
    model.members = new Map();
    for (const [taskId, nodeId] of model.nodeOf) {
      if (nodeId === taskId) continue;
      if (!model.members.has(nodeId)) model.members.set(nodeId, []);
      model.members.get(nodeId).push(taskId);
    }
  }
  return model.members.get(groupId) || [];
}

function legendOf(model) {
  const present = new Set(model.states.values());
  for (const counts of model.shares.values()) for (const state of Object.keys(counts)) present.add(state);
  const legend = {};
  for (const state of [...Object.keys(WORDS), ...present]) if (present.has(state)) legend[state] = WORDS[state] || state;
  return legend;
}

function countsTable(counts) {
  const rows = Object.entries(counts).filter(([, n]) => n > 0)
    .map(([state, n]) => el("tr", null, el("td", null, stateBadge(state)), el("td", { class: "num" }, n.toLocaleString())));
  return el("table", { class: "graph-counts" }, el("tbody", null, rows));
}

export function render(root, params, _ctx) {
  const id = params.id || "";
  const options = readOptions(params.query || new URLSearchParams());
  addStylesheet();
  root.classList.add("graph-page");
  const { bar, status } = controls(id, options);
  const canvas = el("div", { class: "graph-canvas", hidden: true }); // until drawn
  const side = el("aside", { class: "graph-side", hidden: true, "aria-label": "selected node" });
  const message = el("div", { class: "graph-message" });
  root.append(
    el("h1", { class: "graph-title" }, "Graph of ", taskLink(id)),
    bar, message, el("div", { class: "graph-main" }, canvas, side),
  );
  const model = makeModel();
  let selected = null;
  let closed = false;
  let applied = 0;
  let frames = 0;

  const expand = (groupId) => {
    const family = groupId.replace(/^family:/, "");
    if (!options.expand.includes(family)) {
      location.hash = hashOf(id, { ...options, expand: [...options.expand, family] });
    }
  };
  const view = createGraphView(canvas, {
    maxHeight: null,
    words: WORDS,
    onSelect: (nodeId) => { selected = nodeId; view.select(nodeId); showSide(); },
    onExpand: expand,
  });

  // --- the side panel ---------------------------------------------------------------
  let detailAbort = null;
  const showSide = () => {
    if (detailAbort) detailAbort.abort();
    detailAbort = null;
    if (!selected || !model.drawing) {
      side.hidden = true;
      side.replaceChildren();
      return;
    }
    side.hidden = false;
    const close = el("button", { type: "button", class: "graph-side-close", title: "Close", on: { click: () => { selected = null; view.select(null); showSide(); } } }, "×");
    if (model.shares.has(selected)) {
      const family = selected.replace(/^family:/, "");
      const members = membersOf(model, selected);
      replace(side, close, el("h2", null, family),
        el("p", { class: "muted" }, `${members.length.toLocaleString()} tasks drawn as one group`),
        countsTable(model.shares.get(selected)),
        el("button", { type: "button", class: "graph-expand", "data-group": selected, on: { click: () => expand(selected) } }, "Expand: draw each task"),
        el("ul", { class: "id-list" }, members.slice(0, LISTED).map((taskId) => el("li", null, taskLink(taskId))),
          members.length > LISTED ? el("li", { class: "muted" }, `… and ${members.length - LISTED} more`) : null));
      return;
    }
    const state = model.states.get(selected);
    const facts = el("div", { class: "graph-side-facts" }, el("p", { class: "muted" }, "Loading…"));
    replace(side, close, el("h2", { class: "graph-side-id" }, selected),
      el("p", null, "State: ", stateBadge(state)),
      el("p", { class: "links" }, el("a", { href: taskHref(selected), class: "graph-task-link" }, "Open the task's page"),
        el("a", { href: graphHref(selected) }, "Its own graph")),
      facts);
    detailAbort = new AbortController();
    const taskId = selected;
    api(`/tasks/${encodeURIComponent(taskId)}`, { signal: detailAbort.signal }).then((detail) => {
      if (closed || selected !== taskId) return;
      const task = detail.task;
      const parts = [el("p", { class: "mono" }, `${task.family}(${task.params.map(([k, v]) => `${k}=${v}`).join(", ")})`)];
      if (task.status_message) parts.push(el("p", null, task.status_message));
      if (task.error) parts.push(el("pre", { class: "graph-side-error" }, task.error));
      if (options.expand.includes(task.family)) {
        parts.push(el("button", { type: "button", class: "graph-collapse", on: { click: () => { location.hash = hashOf(id, { ...options, expand: options.expand.filter((name) => name !== task.family) }); } } }, `Collapse ${task.family}`));
      }
      replace(facts, parts);
    }).catch((error) => {
      if (error.name !== "AbortError" && !closed) replace(facts, errorBox(error));
    });
  };
  const refreshSideState = () => {
    if (!selected || side.hidden) return;
    if (model.shares.has(selected)) {
      const table = side.querySelector(".graph-counts");
      if (table) table.replaceWith(countsTable(model.shares.get(selected)));
    } else {
      const badge = side.querySelector(".badge");
      if (badge) badge.replaceWith(stateBadge(model.states.get(selected)));
    }
  };

  // --- live updates, one frame at a time -------------------------------------------
  let pendingStates = {};
  const pendingGroups = new Set();
  let frame = null;
  let legendKey = "";
  const flush = () => {
    frame = null;
    const shares = {};
    for (const groupId of pendingGroups) {
      const counts = model.shares.get(groupId);
      if (!counts) continue;
      shares[groupId] = { ...counts };
      const state = groupState(counts);
      model.states.set(groupId, state);
      pendingStates[groupId] = state;
    }
    const touched = Object.keys(pendingStates).length + pendingGroups.size;
    view.setShares(shares);
    view.setStates(pendingStates);
    if (selected && (selected in pendingStates)) refreshSideState();
    pendingStates = {};
    pendingGroups.clear();
    const legend = legendOf(model);
    const key = Object.keys(legend).join(",");
    if (key !== legendKey) {
      legendKey = key;
      view.setLegend(legend);
    }
    if (touched) {
      frames += 1;
      root.dataset.frames = String(frames);
      root.dataset.applied = String(applied);
    }
  };
  const schedule = () => { if (frame === null) frame = requestAnimationFrame(flush); };

  const unknown = new Set(); // task ids seen in the stream but not drawn
  const ignored = new Set(); // ... and still not drawn after a fetch: not of this graph
  const applyStatus = (taskId, status, previous) => {
    const nodeId = model.nodeOf.get(taskId);
    if (nodeId === undefined) {
      if (!ignored.has(taskId)) {
        unknown.add(taskId);
        refetchSoon();
      }
      return;
    }
    applied += 1;
    if (nodeId === taskId) {
      model.states.set(nodeId, status);
      pendingStates[nodeId] = status;
    } else {
      const counts = model.shares.get(nodeId);
      if (!counts) return;
      const old = model.taskState.get(taskId) ?? previous;
      if (old === status) return;
      if (counts[old] > 0) {
        counts[old] -= 1;
        if (counts[old] === 0) delete counts[old];
      }
      counts[status] = (counts[status] || 0) + 1;
      model.taskState.set(taskId, status);
      pendingGroups.add(nodeId);
    }
    schedule();
  };

  let buffered = []; // notifications that arrived while a drawing was on its way
  let loading = false;
  const onNotification = (note) => {
    if (closed) return;
    if (loading || !model.drawing) {
      buffered.push(note);
      return;
    }
    handle(note);
  };
  const handle = (note) => {
    if (typeof note.seq === "number" && note.seq <= model.drawing.seq) return; // in the drawing
    if (note.type === "TaskStatusChanged") {
      applyStatus(note.task_id, note.status, note.previous);
    } else if (note.type === "TaskAdded" && !model.nodeOf.has(note.task_id) && !ignored.has(note.task_id)) {
      unknown.add(note.task_id);
      refetchSoon();
    } else if (note.type === "TasksRemoved" && (note.task_ids || []).some((taskId) => model.nodeOf.has(taskId))) {
      refetchSoon();
    }
  };

  // --- fetching the drawing ----------------------------------------------------------
  let fetchAbort = null;
  let lastFetch = 0;
  let refetchTimer = null;
  const refetchSoon = () => {
    if (refetchTimer !== null || closed) return;
    const wait = Math.max(0, lastFetch + REFETCH_MS - Date.now());
    refetchTimer = setTimeout(() => { refetchTimer = null; fetchDrawing(); }, wait);
  };
  const describe = (drawing) => {
    const nodes = new Set(model.nodeOf.values()).size;
    const count = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
    const parts = [count(model.nodeOf.size, "task"), count(nodes, "node"), `layout: ${drawing.engine}`];
    if (drawing.hidden) parts.push(`${drawing.hidden.toLocaleString()} done hidden`);
    status.textContent = parts.join(" · ");
    replace(message, drawing.truncated
      ? el("div", { class: "notice" }, "The graph is cut: it has more tasks than one drawing holds. Open the graph of a task further in to see the rest.")
      : null);
  };
  const fetchDrawing = async () => {
    if (closed) return;
    if (fetchAbort) fetchAbort.abort();
    fetchAbort = new AbortController();
    lastFetch = Date.now();
    loading = true;
    const asked = new Set(unknown);
    try {
      const drawing = await api(drawingPath(id, options), { signal: fetchAbort.signal });
      if (closed) return;
      const sameSvg = model.drawing && model.drawing.svg === drawing.svg;
      load(model, drawing);
      pendingStates = {}; // of the drawing before: the new one is newer
      pendingGroups.clear();
      canvas.hidden = false;
      if (!sameSvg) view.draw(drawing.svg);
      view.setShares(drawing.shares);
      view.setStates(drawing.states);
      if (selected && !view.has(selected)) selected = null;
      view.select(selected);
      legendKey = "";
      flush();
      describe(drawing);
      for (const taskId of asked) {
        unknown.delete(taskId);
        if (!model.nodeOf.has(taskId)) ignored.add(taskId);
      }
      loading = false;
      const replay = buffered;
      buffered = [];
      for (const note of replay) handle(note);
      showSide();
      if (!root.dataset.paintedAt) {
        requestAnimationFrame(() => requestAnimationFrame(() => {
          root.dataset.paintedAt = String(performance.now());
        }));
      }
    } catch (error) {
      loading = false;
      if (error.name === "AbortError" || closed) return;
      if (model.drawing) {
        status.textContent = `could not refresh the drawing: ${error.message}`;
        return;
      }
      const text = error instanceof ApiError && error.status === 404
        ? `The scheduler has no task ${id}.` : null;
      replace(message, text ? el("div", { class: "error-box", role: "alert" }, text) : errorBox(error));
    }
  };

  const stop = events(onNotification, () => { model.drawing && refetchSoon(); });
  fetchDrawing();

  return () => {
    closed = true;
    stop();
    if (fetchAbort) fetchAbort.abort();
    if (detailAbort) detailAbort.abort();
    if (refetchTimer !== null) clearTimeout(refetchTimer);
    if (frame !== null) cancelAnimationFrame(frame);
    view.destroy();
    root.classList.remove("graph-page");
  };
}
