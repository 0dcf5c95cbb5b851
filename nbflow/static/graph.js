// nbflow's graph renderer (an ES module), shared by the notebook widget
// (nbflow/widgets/dag.py bundles it into the widget's ESM) and the web visualiser
// (served at /static/shared/graph.js).
//
// The server lays the graph out once (nbflow.core.layout): an SVG with one
// <g class="node STATE"> per node whose <title> is the node id; groups (a family drawn
// as one node, id "family:<Family>") carry a bar of the share of each state. This
// module draws that SVG once, then only recolours: setStates() swaps a node's state
// class, setShares() redraws a group's bar; both touch only the nodes given (a Map
// node id -> <g>), so an update costs what changed, whatever the graph's size.
// The drawing is shown at a readable scale (labels >= 11 px; wider graphs scroll
// sideways); ctrl+wheel or the buttons zoom, dragging pans, a click selects a node,
// a double click on a group asks to expand it.
//
// The SVG is parsed with DOMParser and sanitised: scripts, foreignObject, links,
// animations, <style>, event handler, href and style attributes are dropped. Every
// text is set with textContent.

const SVG_NS = "http://www.w3.org/2000/svg";
const MIN_FONT_PX = 11;
const NATURAL = 4 / 3; // graphviz draws in points: 1 pt = 4/3 px
const STYLE_ATTRIBUTE = /\sstyle\s*=\s*("[^"]*"|'[^']*')/gi;
const SUSPECT_ATTRIBUTE = /[\s/"'](on|style)|href/i;
const LARGE = 500; // nodes above which nodes neither fade nor pulse (graph.css); the widget draws <= 300
const DROPPED = "script, foreignObject, a, style, animate, set, animateMotion, animateTransform, iframe, image, use";

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

/** Remove event handler, link and style attributes from `root` and everything in it. */
function dropAttributes(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
  for (let node = root; node; node = walker.nextNode()) {
    const attributes = node.attributes;
    for (let i = attributes.length - 1; i >= 0; i -= 1) {
      const name = attributes[i].name.toLowerCase();
      if (name.startsWith("on") || name.endsWith("href") || name === "style") {
        node.removeAttribute(attributes[i].name);
      }
    }
  }
}

/** Parse SVG text into an <svg> of this document, dropping anything that could run code. */
export function parseSvg(text) {
  // the HTML parser (inert in a DOMParser document) reads SVG faster than the XML one;
  // style attributes go before parsing: a page whose CSP forbids inline styles would
  // report each one (nbflow's group nodes carry one; graph.css styles them instead)
  const parsed = new DOMParser().parseFromString(
    `<!doctype html><body>${text.replace(STYLE_ATTRIBUTE, "")}`, "text/html");
  const root = parsed.body.firstElementChild;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== "svg") return null;
  for (const bad of root.querySelectorAll(DROPPED)) bad.remove();
  // An attribute's name starts after whitespace, "/" or a quote (HTML's tokenizer): if
  // no on*, style or *href name can start anywhere, no element needs looking at (the
  // walk costs a fifth of a 10,000-node drawing's parse).
  if (SUSPECT_ATTRIBUTE.test(text)) dropAttributes(root);
  return document.adoptNode(root);
}

/** The bounding box of a node's shape, read from its attributes (no layout needed). */
function shapeBox(g) {
  const rect = g.querySelector(":scope > rect");
  if (rect) {
    const [x, y, w, h] = ["x", "y", "width", "height"].map((name) => Number(rect.getAttribute(name)));
    return { x, y, w, h };
  }
  const shape = g.querySelector(":scope > path, :scope > polygon");
  const numbers = (shape?.getAttribute("d") || shape?.getAttribute("points") || "")
    .match(/-?\d+(\.\d+)?/g)?.map(Number) || [];
  if (numbers.length < 2) return null;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 1 < numbers.length; i += 2) {
    x0 = Math.min(x0, numbers[i]);
    x1 = Math.max(x1, numbers[i]);
    y0 = Math.min(y0, numbers[i + 1]);
    y1 = Math.max(y1, numbers[i + 1]);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** "3 done, 1 failed": a group's counts in words. */
export function countsText(counts, words) {
  return Object.entries(counts || {})
    .map(([state, count]) => `${count.toLocaleString()} ${words[state] || state}`)
    .join(", ");
}

/** A legend: a swatch and the words of each state of `legend` ({state: words}). */
export function makeLegend(legend) {
  const box = element("div", "nbflow-legend");
  for (const [state, words] of Object.entries(legend || {})) {
    const item = element("span", "nbflow-legend-item");
    item.append(element("span", `nbflow-swatch ${state}`), element("span", "", words));
    box.append(item);
  }
  return box;
}

/** Whether two {state: count} objects hold the same counts. */
function sameCounts(a, b) {
  if (!a || !b) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key] === b[key]);
}

/** Split a bar of `span` units between states; every state present stays visible. */
function shareWidths(entries, span) {
  const total = entries.reduce((sum, [, count]) => sum + count, 0) || 1;
  const least = Math.min(3, span / Math.max(entries.length, 1));
  const widths = entries.map(([, count]) => Math.max(least, (span * count) / total));
  const excess = widths.reduce((a, b) => a + b, 0) - span;
  const largest = widths.indexOf(Math.max(...widths));
  if (largest >= 0) widths[largest] -= excess; // taken from the largest
  return widths;
}

function drawShareBar(g, counts) {
  g.classList.add("nbflow-group");
  g.querySelector(":scope > .nbflow-shares")?.remove();
  const box = shapeBox(g);
  if (!box) return;
  const bar = svgElement("g", { class: "nbflow-shares" });
  const span = Math.max(box.w - 12, 1);
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  const widths = shareWidths(entries, span);
  let x = box.x + 6;
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
}

/** Scale, zoom and pan of the drawing inside its scrolling viewport. */
function makeCamera(viewport) {
  const camera = { svg: null, home: null, scale: 1, zoomed: false, readable: 1 };
  camera.setScale = (next, anchorX, anchorY) => {
    const { svg, home } = camera;
    if (!svg || !home) return;
    const rect = viewport.getBoundingClientRect();
    const ax = anchorX ?? rect.width / 2;
    const ay = anchorY ?? rect.height / 2;
    const cx = (viewport.scrollLeft + ax) / camera.scale;
    const cy = (viewport.scrollTop + ay) / camera.scale;
    camera.scale = Math.min(8, Math.max(0.05, next));
    svg.style.width = `${home.w * camera.scale}px`;
    svg.style.height = `${home.h * camera.scale}px`;
    viewport.scrollLeft = cx * camera.scale - ax;
    viewport.scrollTop = cy * camera.scale - ay;
  };
  camera.fit = () => {
    if (!camera.home) return;
    camera.zoomed = false;
    const width = viewport.clientWidth || viewport.parentElement?.clientWidth || 800;
    camera.setScale(Math.max(camera.readable, Math.min(NATURAL, (width - 2) / camera.home.w)));
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
  };
  // a large drawing is sized before it goes in: one layout of its thousands of
  // elements (when the browser paints it) instead of two (measuring, then sizing)
  camera.fitDetached = () => {
    camera.zoomed = false;
    const width = (viewport.parentElement?.clientWidth || 802) - 2; // minus the border
    camera.scale = Math.max(camera.readable, Math.min(NATURAL, (width - 2) / camera.home.w));
    camera.svg.style.width = `${camera.home.w * camera.scale}px`;
    camera.svg.style.height = `${camera.home.h * camera.scale}px`;
  };
  camera.zoom = (factor, x, y) => {
    camera.zoomed = true;
    camera.setScale(camera.scale * factor, x, y);
  };
  camera.show = (svg) => {
    camera.svg = svg;
    const [x, y, w, h] = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
    camera.home = { x, y, w, h };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
    let font = 0;
    const texts = svg.getElementsByTagName("text");
    for (let i = 0; i < Math.min(texts.length, 200); i += 1) { // all nodes share a size
      font = Math.max(font, Number(texts[i].getAttribute("font-size")) || 0);
    }
    camera.readable = (MIN_FONT_PX + 0.01) / (font || 10); // never a rounding below the minimum
  };
  return camera;
}

/** Pointer handling: ctrl+wheel zooms, a drag pans, a click selects, a double click expands. */
function listen(viewport, camera, onClick, onDoubleClick) {
  let drag = null;
  const on = (name, handler, options) => viewport.addEventListener(name, handler, options);
  on("wheel", (event) => {
    if (!camera.svg || !(event.ctrlKey || event.metaKey)) return; // plain wheel scrolls
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    camera.zoom(event.deltaY > 0 ? 1 / 1.15 : 1.15, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  on("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, moved: false };
  });
  on("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    viewport.scrollLeft = drag.left - dx;
    viewport.scrollTop = drag.top - dy;
  });
  const endDrag = () => { setTimeout(() => { drag = null; }, 0); };
  on("pointerup", endDrag);
  on("pointerleave", endDrag);
  on("click", (event) => {
    if (drag?.moved) return;
    onClick(event.target.closest?.("g.node") || null);
  });
  on("dblclick", (event) => {
    const g = event.target.closest?.("g.node");
    if (g) onDoubleClick(g);
  });
}

/**
 * Draw a laid-out graph into `container` and keep it up to date.
 *
 * options:
 * - onSelect(nodeId | null, {label, state}): a node (or the background) was clicked;
 * - onExpand(groupId): a group node was double-clicked;
 * - words: {state: words} for hover texts; legend: {state: words} shown above;
 * - maxHeight: the drawing's largest height in px (null: the container's CSS decides);
 * - toolbar: an element to put the zoom buttons in (default: the container, first).
 *
 * Returns {draw(svgText), setStates(statesByNodeId), setShares(sharesByGroupId),
 * select(nodeId | null), setLegend(legend), setWords(words), fit(), zoom(factor),
 * known(nodeId), has(nodeId), isGroup(nodeId), nodeIds(), destroy(), viewport}.
 */
export function createGraphView(container, options = {}) {
  const onSelect = options.onSelect || (() => {});
  const onExpand = options.onExpand || (() => {});
  const maxHeight = options.maxHeight === undefined ? 480 : options.maxHeight;
  let words = options.words || {};
  container.classList.add("nbflow-view");
  const toolbar = element("div", "nbflow-toolbar");
  let legend = makeLegend(options.legend);
  const viewport = element("div", "nbflow-graph");
  if (options.toolbar) options.toolbar.append(toolbar);
  else container.append(toolbar);
  container.append(legend, viewport);

  const nodes = new Map(); // node id -> <g>
  const shown = new Map(); // node id -> state class applied
  const shares = new Map(); // group node id -> {state: count} drawn
  let selected = null;
  const camera = makeCamera(viewport);

  let width = 0;
  const resize = new ResizeObserver(() => {
    if (viewport.clientWidth === width) return;
    width = viewport.clientWidth;
    if (!camera.zoomed) camera.fit();
  });
  resize.observe(viewport);

  const label = (g) => [...g.querySelectorAll(":scope > text")].map((t) => t.textContent).join(" ");
  const hover = (id, g) => {
    const title = g.querySelector(":scope > title");
    if (!title) return;
    const share = shares.get(id);
    const state = shown.get(id);
    title.textContent = share
      ? `${label(g)}\n${countsText(share, words)}`
      : `${label(g)}\n${words[state] || state || ""}`;
  };
  const known = (id) => {
    const g = nodes.get(id);
    return g ? { label: label(g), state: shown.get(id) } : null;
  };

  const setStates = (states) => {
    for (const [id, state] of Object.entries(states || {})) {
      const g = nodes.get(id);
      if (!g || shown.get(id) === state) continue;
      const old = shown.get(id);
      if (old) g.classList.remove(old);
      g.classList.add(state);
      g.dataset.state = state;
      shown.set(id, state);
      hover(id, g);
    }
  };
  const setShares = (counts) => {
    for (const [id, next] of Object.entries(counts || {})) {
      const g = nodes.get(id);
      if (!g || sameCounts(shares.get(id), next)) continue;
      shares.set(id, { ...next });
      drawShareBar(g, next);
      hover(id, g);
    }
  };
  const select = (id) => {
    if (selected !== null) nodes.get(selected)?.classList.remove("nbflow-selected");
    selected = id && nodes.has(id) ? id : null;
    if (selected !== null) nodes.get(selected).classList.add("nbflow-selected");
  };
  const isGroup = (id) => shares.has(id) || Boolean(nodes.get(id)?.classList.contains("nbflow-group"));

  const draw = (svgText) => {
    const marks = [["start", performance.now()]];
    const mark = (name) => marks.push([name, performance.now()]);
    nodes.clear();
    shown.clear();
    shares.clear();
    const keep = selected;
    selected = null;
    viewport.replaceChildren();
    const svg = parseSvg(svgText || "");
    mark("parse");
    camera.svg = null;
    camera.home = null;
    if (!svg) return;
    camera.show(svg);
    for (const g of svg.querySelectorAll("g.node")) {
      const id = g.querySelector(":scope > title")?.textContent ?? "";
      const state = [...g.classList].find((name) => name !== "node" && name !== "nbflow-group");
      nodes.set(id, g);
      g.dataset.id = id;
      if (state) {
        shown.set(id, state);
        g.dataset.state = state;
      }
      // groups now (their counts); the others when the pointer comes (pointerover)
      if (g.classList.contains("nbflow-group")) hover(id, g);
    }
    mark("index");
    const large = nodes.size > LARGE;
    viewport.classList.toggle("nbflow-large", large);
    if (maxHeight !== null) viewport.style.maxHeight = `${maxHeight}px`;
    if (large) camera.fitDetached();
    viewport.append(svg);
    mark("append");
    if (!large) camera.fit(); // (emptied, the viewport scrolled back to its start)
    mark("fit");
    select(keep);
    if (options.profile) options.profile(marks);
  };

  let hovered = null;
  viewport.addEventListener("pointerover", (event) => {
    const g = event.target.closest?.("g.node");
    if (!g || g === hovered) return;
    hovered = g;
    if (g.dataset.id !== undefined) hover(g.dataset.id, g);
  });
  listen(viewport, camera, (g) => {
    const id = g?.dataset.id;
    onSelect(id || null, id ? known(id) : {});
  }, (g) => {
    const id = g.dataset.id;
    if (id && isGroup(id)) onExpand(id);
  });

  const button = (text, tip, action) => {
    const b = element("button", "nbflow-button", text);
    b.title = tip;
    b.addEventListener("click", action);
    toolbar.append(b);
  };
  button("+", "Zoom in (or ctrl + wheel)", () => camera.zoom(1.25));
  button("−", "Zoom out (or ctrl + wheel)", () => camera.zoom(1 / 1.25));
  button("Fit", "Fit the graph to the width, labels readable", () => camera.fit());

  return {
    viewport,
    toolbar,
    draw,
    setStates,
    setShares,
    select,
    setLegend(next) {
      const fresh = makeLegend(next);
      legend.replaceWith(fresh);
      legend = fresh;
    },
    setWords(next) {
      words = next || {};
      for (const [id, g] of nodes) hover(id, g);
    },
    fit: () => camera.fit(),
    zoom: (factor) => camera.zoom(factor),
    known,
    has: (id) => nodes.has(id),
    isGroup,
    stateOf: (id) => shown.get(id),
    nodeIds: () => [...nodes.keys()],
    destroy() {
      resize.disconnect();
      nodes.clear();
      shown.clear();
      shares.clear();
      toolbar.remove();
      legend.remove();
      viewport.remove();
    },
  };
}
