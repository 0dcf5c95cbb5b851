// nbflow DAG view (anywidget ESM): draws the `svg` trait once, then applies `states`
// (node id -> state) as CSS classes on the SVG nodes; zoom (wheel, buttons), pan (drag),
// click a node for details. Everything that came from Python as text is set with
// textContent; `progress` and `failures` are HTML escaped in Python.

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_HEIGHT = 480;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
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

function makeLegend(legend) {
  const box = element("div", "nbflow-legend");
  for (const [state, words] of Object.entries(legend || {})) {
    const item = element("span", "nbflow-legend-item");
    item.append(element("span", `nbflow-swatch ${state}`), element("span", "", words));
    box.append(item);
  }
  return box;
}

function makeDetail(detail, onClose) {
  const box = element("div", "nbflow-detail");
  if (!detail || Object.keys(detail).length === 0) return box;
  const close = element("button", "nbflow-close", "×");
  close.title = "Close";
  close.addEventListener("click", onClose);
  box.append(close, element("div", "nbflow-detail-title", detail.label || detail.task_id));
  const table = element("table", "nbflow-params");
  const row = (name, value) => {
    const tr = element("tr");
    tr.append(element("th", "", name), element("td", "", String(value)));
    table.append(tr);
  };
  if (detail.state) row("state", detail.state);
  for (const [name, value] of detail.params || []) row(name, value);
  if (detail.progress !== undefined && detail.progress !== null) row("progress", `${detail.progress}%`);
  if (detail.message) row("message", detail.message);
  if (detail.elapsed) row("elapsed", detail.elapsed);
  if (detail.cause) row("caused by", detail.cause);
  if (detail.deps !== undefined) row("dependencies", detail.deps);
  if (detail.tasks !== undefined) row("tasks", detail.tasks);
  for (const [state, count] of Object.entries(detail.counts || {})) row(state, count);
  if (detail.task_id) row("id", detail.task_id);
  box.append(table);
  if (detail.url) {
    const link = element("a", "nbflow-link", detail.url);
    link.href = detail.url; // Python sends http(s) URLs only
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link);
  }
  if (detail.error) box.append(element("pre", "nbflow-error", detail.error));
  if (detail.traceback) {
    const more = element("details");
    more.append(element("summary", "", "Traceback"), element("pre", "", detail.traceback));
    box.append(more);
  }
  return box;
}

/** Keep open <details> open when a panel's HTML is replaced. */
function replaceHtml(panel, html) {
  const open = new Set();
  for (const item of panel.querySelectorAll("[data-task-id] details[open]")) {
    open.add(item.closest("[data-task-id]").dataset.taskId);
  }
  panel.innerHTML = html;
  for (const item of panel.querySelectorAll("[data-task-id]")) {
    if (open.has(item.dataset.taskId)) item.querySelector("details")?.setAttribute("open", "");
  }
}

function makeGraph(model, onPick) {
  const viewport = element("div", "nbflow-graph");
  const nodes = new Map(); // node id -> <g>
  const shown = new Map(); // node id -> state class applied
  let svg = null;
  let home = null; // the drawing's own viewBox
  let box = null; // the current viewBox
  const setBox = (next) => {
    box = next;
    svg?.setAttribute("viewBox", `${box.x} ${box.y} ${box.w} ${box.h}`);
  };
  const fit = () => home && setBox({ ...home });
  const zoom = (factor, cx = 0.5, cy = 0.5) => {
    if (!box) return;
    const w = box.w * factor;
    const h = box.h * factor;
    setBox({ x: box.x + (box.w - w) * cx, y: box.y + (box.h - h) * cy, w, h });
  };
  const applyStates = () => {
    for (const [id, state] of Object.entries(model.get("states") || {})) {
      const g = nodes.get(id);
      if (!g || shown.get(id) === state) continue;
      g.classList.remove(shown.get(id));
      g.classList.add(state);
      g.dataset.state = state;
      shown.set(id, state);
    }
  };
  const markSelected = () => {
    const selected = model.get("selected");
    for (const [id, g] of nodes) g.classList.toggle("nbflow-selected", id === selected);
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
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    viewport.style.height = `${Math.max(80, Math.min(MAX_HEIGHT, h * 1.34 + 8))}px`;
    for (const g of svg.querySelectorAll("g.node")) {
      const id = g.querySelector("title")?.textContent ?? "";
      const state = [...g.classList].find((name) => name !== "node");
      nodes.set(id, g);
      if (state) shown.set(id, state);
      g.dataset.id = id;
    }
    viewport.append(svg);
    fit();
    applyStates();
    markSelected();
  };

  let drag = null;
  viewport.addEventListener("wheel", (event) => {
    if (!box) return;
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    zoom(factor, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
  }, { passive: false });
  viewport.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, box: box && { ...box }, moved: false };
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!drag || !drag.box) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    const rect = viewport.getBoundingClientRect();
    const scale = Math.max(drag.box.w / rect.width, drag.box.h / rect.height);
    setBox({ ...drag.box, x: drag.box.x - dx * scale, y: drag.box.y - dy * scale });
  });
  const endDrag = () => { setTimeout(() => { drag = null; }, 0); };
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointerleave", endDrag);
  viewport.addEventListener("click", (event) => {
    if (drag?.moved) return;
    const g = event.target.closest?.("g.node");
    model.set("selected", g ? g.dataset.id : "");
    model.save_changes();
    // While a cell blocks the kernel, Python answers after the run: show what we know.
    const id = g?.dataset.id;
    const label = g?.querySelector("text")?.textContent;
    onPick(g ? { task_id: id, label, state: g.dataset.state || shown.get(id) } : {});
  });
  return { viewport, draw, applyStates, markSelected, fit, zoom };
}

function render({ model, el }) {
  el.classList.add("nbflow-view");
  const title = element("span", "nbflow-title");
  const toolbar = element("div", "nbflow-toolbar");
  let detail = element("div", "nbflow-detail");
  const showDetail = (data) => {
    const next = makeDetail(data, () => {
      model.set("selected", "");
      model.save_changes();
    });
    detail.replaceWith(next);
    detail = next;
  };
  const graph = makeGraph(model, showDetail);
  const button = (text, tip, action) => {
    const b = element("button", "nbflow-button", text);
    b.title = tip;
    b.addEventListener("click", action);
    toolbar.append(b);
  };
  button("+", "Zoom in", () => graph.zoom(1 / 1.25));
  button("−", "Zoom out", () => graph.zoom(1.25));
  button("Fit", "Show the whole graph", () => graph.fit());
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
  const onDetail = () => showDetail(model.get("detail"));
  const onProgress = () => replaceHtml(progress, model.get("progress"));
  const onFailures = () => replaceHtml(failures, model.get("failures"));
  const handlers = {
    "change:svg": graph.draw,
    "change:states": graph.applyStates,
    "change:selected": graph.markSelected,
    "change:title": onTitle,
    "change:legend": onLegend,
    "change:detail": onDetail,
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
