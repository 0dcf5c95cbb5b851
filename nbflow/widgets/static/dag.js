// nbflow DAG view (anywidget ESM): draws the `svg` trait once, then applies `states`
// (node id -> state) as CSS classes on the SVG nodes and `shares` (group node id ->
// tasks by state) as a stacked bar inside each group node. The drawing is shown at a
// readable scale (labels >= 11 px; wider graphs scroll sideways) in a box sized to it;
// ctrl+wheel or the buttons zoom, dragging pans. A click on a node opens its details;
// a group's details list its tasks (filtered, at most LISTED). While a cell waits on a
// run the kernel answers no click, so a click shows at once what `known` (failed tasks)
// and `known_recent` (running and last finished ones) hold, the details Python synced
// ahead, or else what the
// drawing tells (label, state); Python's `detail` fills in more when the kernel is free.
// Everything that came
// from Python as text is set with textContent; `progress` and `failures` are HTML
// escaped in Python.

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_HEIGHT = 480;
const MIN_FONT_PX = 11;
const NATURAL = 4 / 3; // graphviz draws in points: 1 pt = 4/3 px
const LISTED = 200;
// the order in which a group lists its tasks' states (failures first; then the rest)
const NOTABLE = ["FAILED", "DISABLED", "broken", "CANCELLED", "RUNNING", "BATCH_RUNNING",
  "UPSTREAM_FAILED", "UPSTREAM_DISABLED", "missing", "stale", "unversioned", "PENDING"];
const rank = (state) => (NOTABLE.includes(state) ? NOTABLE.indexOf(state) : NOTABLE.length);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** Parse SVG text into a detached <svg>, dropping anything that could run code. */
function parseSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (!root || root.nodeName !== "svg") return null;
  for (const bad of root.querySelectorAll("script, foreignObject, a")) bad.remove();
  for (const node of root.querySelectorAll("*")) {
    for (const attribute of [...node.attributes]) {
      if (/^on/i.test(attribute.name) || /href$/i.test(attribute.name)) {
        node.removeAttribute(attribute.name);
      }
    }
  }
  return document.importNode(root, true);
}

/** The bounding box of a node's shape, read from its attributes (no layout needed). */
function shapeBox(g) {
  const rect = g.querySelector("rect");
  if (rect) {
    const [x, y, w, h] = ["x", "y", "width", "height"].map((name) => Number(rect.getAttribute(name)));
    return { x, y, w, h };
  }
  const shape = g.querySelector("path, polygon");
  const numbers = (shape?.getAttribute("d") || shape?.getAttribute("points") || "")
    .match(/-?\d+(\.\d+)?/g)?.map(Number) || [];
  const xs = numbers.filter((_, i) => i % 2 === 0);
  const ys = numbers.filter((_, i) => i % 2 === 1);
  if (!xs.length) return null;
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y };
}

function countsText(counts, words) {
  return Object.entries(counts || {})
    .map(([state, count]) => `${count.toLocaleString()} ${words[state] || state}`)
    .join(", ");
}

function makeLegend(legend) {
  const box = element("div", "nbflow-legend");
  for (const [state, words] of Object.entries(legend || {})) {
    const item = element("span", "nbflow-legend-item");
    item.append(element("span", `nbflow-swatch ${state}`), element("span", "", words));
    box.append(item);
  }
  return box;
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

function makeGraph(model, onPick) {
  const viewport = element("div", "nbflow-graph");
  const nodes = new Map(); // node id -> <g>
  const shown = new Map(); // node id -> state class applied
  let svg = null;
  let home = null; // the drawing's viewBox
  let scale = 1; // px per drawing unit
  let zoomed = false; // the user chose a scale: keep it when the area resizes
  let readable = 1; // the smallest scale at which labels are MIN_FONT_PX

  const setScale = (next, anchorX, anchorY) => {
    if (!svg || !home) return;
    const rect = viewport.getBoundingClientRect();
    const ax = anchorX ?? rect.width / 2;
    const ay = anchorY ?? rect.height / 2;
    const cx = (viewport.scrollLeft + ax) / scale;
    const cy = (viewport.scrollTop + ay) / scale;
    scale = Math.min(8, Math.max(0.05, next));
    svg.style.width = `${home.w * scale}px`;
    svg.style.height = `${home.h * scale}px`;
    viewport.scrollLeft = cx * scale - ax;
    viewport.scrollTop = cy * scale - ay;
  };
  const fit = () => {
    if (!home) return;
    zoomed = false;
    const width = viewport.clientWidth || viewport.parentElement?.clientWidth || 800;
    setScale(Math.max(readable, Math.min(NATURAL, (width - 2) / home.w)));
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
  };
  const zoom = (factor, x, y) => {
    zoomed = true;
    setScale(scale * factor, x, y);
  };
  let width = 0;
  new ResizeObserver(() => {
    if (viewport.clientWidth === width) return;
    width = viewport.clientWidth;
    if (!zoomed) fit();
  }).observe(viewport);

  const words = () => model.get("words") || {};
  const label = (g) => [...g.querySelectorAll("text")].map((t) => t.textContent).join(" ");
  const hover = (id, g) => {
    const title = g.querySelector("title");
    if (!title) return;
    const state = shown.get(id);
    const share = (model.get("shares") || {})[id];
    title.textContent = share
      ? `${label(g)}\n${countsText(share, words())}`
      : `${label(g)}\n${words()[state] || state || ""}`;
  };
  const drawShares = (id, g, counts) => {
    g.classList.add("nbflow-group");
    g.querySelector(".nbflow-shares")?.remove();
    const box = shapeBox(g);
    if (!box) return;
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    const bar = svgElement("g", { class: "nbflow-shares" });
    const x0 = box.x + 6;
    const span = Math.max(box.w - 12, 1);
    const entries = Object.entries(counts).filter(([, count]) => count > 0);
    // every state present stays visible: at least 3 units wide, taken from the largest
    const least = Math.min(3, span / Math.max(entries.length, 1));
    const widths = entries.map(([, count]) => Math.max(least, (span * count) / total));
    const excess = widths.reduce((a, b) => a + b, 0) - span;
    const largest = widths.indexOf(Math.max(...widths));
    if (largest >= 0) widths[largest] -= excess;
    let x = x0;
    entries.forEach(([state, count], i) => {
      const part = svgElement("rect", {
        class: `nbflow-share ${state}`,
        x: x.toFixed(2), y: (box.y + box.h - 9).toFixed(2),
        width: widths[i].toFixed(2), height: "5",
      });
      part.dataset.state = state;
      part.dataset.count = String(count);
      bar.append(part);
      x += widths[i];
    });
    g.append(bar);
  };
  const applyStates = () => {
    for (const [id, state] of Object.entries(model.get("states") || {})) {
      const g = nodes.get(id);
      if (!g || shown.get(id) === state) continue;
      g.classList.remove(shown.get(id));
      g.classList.add(state);
      g.dataset.state = state;
      shown.set(id, state);
      hover(id, g);
    }
  };
  const applyShares = () => {
    for (const [id, counts] of Object.entries(model.get("shares") || {})) {
      const g = nodes.get(id);
      if (!g) continue;
      drawShares(id, g, counts);
      hover(id, g);
    }
  };
  const groupOf = new Map(); // task id -> group node id
  const indexGroups = () => {
    groupOf.clear();
    for (const [id, tasks] of Object.entries(model.get("groups") || {})) {
      for (const [taskId] of tasks) groupOf.set(taskId, id);
    }
  };
  const markSelected = () => {
    const selected = model.get("selected");
    const node = groupOf.get(selected) || selected;
    for (const [id, g] of nodes) g.classList.toggle("nbflow-selected", id === node);
  };
  const draw = () => {
    nodes.clear();
    shown.clear();
    viewport.replaceChildren();
    svg = parseSvg(model.get("svg") || "");
    if (!svg) return;
    const [x, y, w, h] = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
    home = { x, y, w, h };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
    const font = Math.max(...[...svg.querySelectorAll("text")]
      .map((t) => Number(t.getAttribute("font-size")) || 0), 0) || 10;
    readable = (MIN_FONT_PX + 0.01) / font; // never a rounding below the minimum
    for (const g of svg.querySelectorAll("g.node")) {
      const id = g.querySelector("title")?.textContent ?? "";
      const state = [...g.classList].find((name) => name !== "node");
      nodes.set(id, g);
      if (state) shown.set(id, state);
      g.dataset.id = id;
      if (state) g.dataset.state = state;
    }
    viewport.style.maxHeight = `${MAX_HEIGHT}px`;
    viewport.append(svg);
    indexGroups();
    applyShares();
    applyStates();
    for (const [id, g] of nodes) hover(id, g);
    fit();
    markSelected();
  };

  let drag = null;
  viewport.addEventListener("wheel", (event) => {
    if (!svg || !(event.ctrlKey || event.metaKey)) return; // plain wheel scrolls
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    zoom(event.deltaY > 0 ? 1 / 1.15 : 1.15, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  viewport.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, moved: false };
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    viewport.scrollLeft = drag.left - dx;
    viewport.scrollTop = drag.top - dy;
  });
  const endDrag = () => { setTimeout(() => { drag = null; }, 0); };
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointerleave", endDrag);
  viewport.addEventListener("click", (event) => {
    if (drag?.moved) return;
    const g = event.target.closest?.("g.node");
    const id = g?.dataset.id;
    onPick(id || "", g ? { label: label(g), state: shown.get(id) } : {});
  });
  const known = (id) => {
    const g = nodes.get(id);
    return g ? { label: label(g), state: shown.get(id) } : null;
  };
  return { viewport, draw, applyStates, applyShares, indexGroups, markSelected, fit, zoom, known };
}

function row(table, name, value, swatch) {
  const tr = element("tr");
  const th = element("th", "", name);
  if (swatch) th.prepend(element("span", `nbflow-swatch ${swatch}`));
  tr.append(th, element("td", "", String(value)));
  table.append(tr);
}

function taskDetail(box, detail, words, pick) {
  if (detail.group) {
    const back = element("button", "nbflow-back", `← ${detail.group.replace(/^family:/, "")} tasks`);
    back.addEventListener("click", () => pick(detail.group));
    box.append(back);
  }
  box.append(element("div", "nbflow-detail-title", detail.label || detail.task_id));
  const table = element("table", "nbflow-params");
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
    const link = element("a", "nbflow-link", detail.url);
    link.href = detail.url; // Python sends http(s) URLs only
    link.title = detail.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link);
  }
  if (detail.error) box.append(element("pre", "nbflow-error", detail.error));
  if (detail.traceback) {
    box.append(element("div", "nbflow-detail-head", "Traceback (your code)"));
    box.append(element("pre", "nbflow-traceback", detail.traceback));
  }
  if (detail.full_traceback && detail.full_traceback !== detail.traceback) {
    const more = element("details", "nbflow-full-traceback");
    more.append(element("summary", "", "Full traceback, with nbflow's frames"),
      element("pre", "", detail.full_traceback));
    box.append(more);
  }
  if (detail.output) {
    const lines = detail.output.split("\n").length;
    box.append(element("div", "nbflow-detail-head", `Output (last ${lines} lines)`));
    const output = element("pre", "nbflow-output", detail.output);
    box.append(output);
    requestAnimationFrame(() => { output.scrollTop = output.scrollHeight; });
  }
}

/** A group's details: its family, tasks by state, and a filtered list of its tasks. */
function groupDetail(box, detail, model, filter, pick) {
  const words = model.get("words") || {};
  const counts = (model.get("shares") || {})[detail.group] || detail.counts || {};
  const tasks = (model.get("groups") || {})[detail.group] || [];
  box.append(element("div", "nbflow-detail-title", detail.label));
  const table = element("table", "nbflow-params");
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
  const list = element("ul", "nbflow-task-list");
  const note = element("div", "nbflow-list-note");
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
      const item = element("li");
      const button = element("button", "nbflow-task-pick");
      button.dataset.taskId = id;
      button.append(element("span", `nbflow-swatch ${state || ""}`), element("span", "", label));
      if (state) button.append(element("span", "nbflow-task-state", words[state] || state));
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
  const title = element("span", "nbflow-title");
  const toolbar = element("div", "nbflow-toolbar");
  let detail = element("div", "nbflow-detail");
  const filter = element("input", "nbflow-filter");
  filter.type = "search";
  filter.placeholder = "filter tasks by name or parameter";
  filter.setAttribute("aria-label", "Filter the group's tasks");
  let graph = null;
  const select = (id) => {
    model.set("selected", id);
    model.save_changes();
  };
  // While a cell blocks the kernel, Python answers after the run: show what we know.
  const knownOf = (id) => (model.get("known_recent") || {})[id] || (model.get("known") || {})[id] || {};
  let shownKnown = ""; // the synced details on screen, as JSON (to redraw on change)
  const showDetail = (data) => {
    shownKnown = data && data.task_id ? JSON.stringify(knownOf(data.task_id)) : "";
    const next = element("div", "nbflow-detail");
    const focused = document.activeElement === filter;
    const at = [filter.selectionStart, filter.selectionEnd];
    if (data && Object.keys(data).length) {
      const close = element("button", "nbflow-close", "×");
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
  graph = makeGraph(model, onPick);
  const button = (text, tip, action) => {
    const b = element("button", "nbflow-button", text);
    b.title = tip;
    b.addEventListener("click", action);
    toolbar.append(b);
  };
  button("+", "Zoom in (or ctrl + wheel)", () => graph.zoom(1.25));
  button("−", "Zoom out (or ctrl + wheel)", () => graph.zoom(1 / 1.25));
  button("Fit", "Fit the graph to the width, labels readable", () => graph.fit());
  const header = element("div", "nbflow-header");
  header.append(title, toolbar);
  let legend = makeLegend(model.get("legend"));
  const progress = element("div", "nbflow-progress-panel");
  const failures = element("div", "nbflow-failures-panel");
  el.append(header, legend, graph.viewport, detail, progress, failures);

  const onTitle = () => { title.textContent = model.get("title"); };
  const onLegend = () => {
    const next = makeLegend(model.get("legend"));
    legend.replaceWith(next);
    legend = next;
  };
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
  const onGroups = () => { graph.indexGroups(); graph.markSelected(); };
  const handlers = {
    "change:svg": graph.draw,
    "change:states": graph.applyStates,
    "change:shares": graph.applyShares,
    "change:groups": onGroups,
    "change:selected": graph.markSelected,
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
  graph.draw();
  onDetail();
  onProgress();
  onFailures();
  return () => {
    for (const [name, handler] of Object.entries(handlers)) model.off(name, handler);
  };
}

export default { render };
