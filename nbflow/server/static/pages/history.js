// #/history: what ran. A chart of runs over time with their durations (SVG drawn
// here, no library: one dot per run, red when it failed), the failure rate and
// durations per family, and the runs themselves, searchable by task id, a page at a
// time. Filters live in the hash: ?window=24h&family=F&task=TEXT.

import {
  ApiError, api, duration, el, errorBox, events, replace, stateBadge, taskHref, taskLink,
  throttle, when,
} from "../lib.js";

const SVG = "http://www.w3.org/2000/svg";
const WINDOWS = [["1h", "last hour", 3600], ["24h", "last 24 hours", 86400], ["7d", "last 7 days", 7 * 86400], ["30d", "last 30 days", 30 * 86400], ["all", "all time", null]];
const CHART = { width: 960, height: 280, left: 64, right: 16, top: 14, bottom: 34 };
const PAGE = 50;
const CHART_RUNS = 1000;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function ticks(low, high, count) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const found = [];
  for (let value = Math.ceil(low / step) * step; value <= high + 1e-9; value += step) found.push(value);
  return found;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

function timeTicks(low, high, count) {
  const raw = (high - low) / count;
  const step = TIME_STEPS.find((s) => s >= raw) || Math.ceil(raw / 86400) * 86400;
  // whole steps in local time (a day starts at local midnight)
  const offset = step >= 86400 ? new Date(low * 1000).getTimezoneOffset() * 60 : 0;
  const found = [];
  for (let value = Math.ceil((low - offset) / step) * step + offset; value <= high; value += step) found.push(value);
  return found;
}

/** A vertical scale for durations: linear, or logarithmic when they span decades. */
function durationScale(durations, top, bottom) {
  const longest = Math.max(...durations, 0.001);
  const shortest = Math.max(Math.min(...durations), 0.001);
  if (longest / shortest < 50) {
    const marks = ticks(0, longest, 4);
    const high = Math.max(longest, marks[marks.length - 1]) * 1.05;
    return { marks, at: (d) => bottom - (d / high) * (bottom - top) };
  }
  const low = Math.floor(Math.log10(shortest));
  const high = Math.log10(longest) + 0.1;
  const marks = [];
  for (let power = low; power <= high; power += 1) marks.push(10 ** power);
  return { marks, at: (d) => bottom - ((Math.log10(Math.max(d, 10 ** low)) - low) / (high - low)) * (bottom - top) };
}

function timeLabel(seconds, step) {
  const date = new Date(seconds * 1000);
  if (step >= 86400) return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  const parts = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (step < 60) parts.second = "2-digit";
  return date.toLocaleTimeString(undefined, parts);
}

/** An SVG chart of runs: x the start, y the duration; one dot per run. */
export function runsChart(runs) {
  const { width, height, left, right, top, bottom } = CHART;
  const ended = runs.filter((run) => run.ended !== null && run.ended !== undefined);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${ended.length} runs: start time against duration` });
  if (!ended.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis-label" }, "No ended run in this window."));
    return chart;
  }
  const starts = ended.map((run) => run.started);
  let [x0, x1] = [Math.min(...starts), Math.max(...starts)];
  if (x1 - x0 < 60) [x0, x1] = [x0 - 30, x1 + 30];
  const pad = (x1 - x0) * 0.03;
  [x0, x1] = [x0 - pad, x1 + pad];
  const scale = durationScale(ended.map((run) => run.ended - run.started), top + 6, height - bottom - 6);
  const x = (t) => left + ((t - x0) / (x1 - x0)) * (width - left - right);
  const y = scale.at;
  for (const value of scale.marks) {
    chart.append(
      svg("line", { class: "grid", x1: left, x2: width - right, y1: y(value), y2: y(value) }),
      svg("text", { class: "axis-label", x: left - 6, y: y(value) + 4, "text-anchor": "end" }, duration(value)));
  }
  const marks = timeTicks(x0, x1, 6);
  const step = marks.length > 1 ? marks[1] - marks[0] : 60;
  for (const value of marks) {
    chart.append(
      svg("line", { class: "grid", x1: x(value), x2: x(value), y1: top, y2: height - bottom }),
      svg("text", { class: "axis-label", x: x(value), y: height - bottom + 16, "text-anchor": "middle" }, timeLabel(value, step)));
  }
  for (const run of ended) {
    const took = run.ended - run.started;
    const failed = run.status === "FAILED";
    const dot = svg("circle", { class: `dot ${failed ? "failed" : "ok"}`, cx: x(run.started).toFixed(1), cy: y(took).toFixed(1), r: 4, "data-task-id": run.task_id },
      svg("title", {}, `${run.task_id}\n${run.status} after ${duration(took)}\nstarted ${when(run.started)}`));
    const link = svg("a", { href: taskHref(run.task_id) }, dot);
    chart.append(link);
  }
  return chart;
}

function readFilters(query) {
  const windowName = query.get("window");
  return {
    window: WINDOWS.some(([name]) => name === windowName) ? windowName : "24h",
    family: query.get("family") || "",
    task: query.get("task") || "",
  };
}

function since(filters) {
  const seconds = WINDOWS.find(([name]) => name === filters.window)[2];
  return seconds === null ? null : Date.now() / 1000 - seconds;
}

function familiesTable(families, select) {
  if (!families.length) return el("p", { class: "muted" }, "No run in this window.");
  const rows = families.map((stats) => {
    const rate = stats.runs ? stats.failed / stats.runs : 0;
    const bar = el("span", { class: "rate-bar" });
    bar.style.width = `${(100 * rate).toFixed(1)}%`;
    return el("tr", { "data-family": stats.family },
      el("td", null, el("a", { href: "#/history", on: { click: (event) => { event.preventDefault(); select(stats.family); } } }, stats.family)),
      el("td", { class: "num" }, String(stats.runs)),
      el("td", { class: "num" }, String(stats.failed)),
      el("td", null, el("span", { class: "rate", title: `${(100 * rate).toFixed(1)}% failed` }, bar), `${(100 * rate).toFixed(rate && rate < 0.1 ? 1 : 0)}%`),
      el("td", { class: "num" }, duration(stats.mean_duration)),
      el("td", { class: "num" }, duration(stats.max_duration)),
      el("td", null, when(stats.last_started)));
  });
  return el("div", { class: "table-wrap" }, el("table", { class: "data families" },
    el("thead", null, el("tr", null, ["Family", "Runs", "Failed", "Failure rate", "Mean", "Longest", "Last started"].map((h, i) => el("th", { class: [1, 2, 4, 5].includes(i) ? "num" : null }, h)))),
    el("tbody", null, rows)));
}

function runsTable(runs) {
  if (!runs.length) return el("p", { class: "notice" }, "No run matches.");
  return el("div", { class: "table-wrap" }, el("table", { class: "data runs" },
    el("thead", null, el("tr", null, ["State", "Task", "Family", "Started", "Took", "Host", "Error or message"].map((h) => el("th", null, h)))),
    el("tbody", null, runs.map((run) => el("tr", { "data-run-id": run.id },
      el("td", null, stateBadge(run.status)),
      el("td", { class: "id" }, taskLink(run.task_id)),
      el("td", null, run.family),
      el("td", null, when(run.started)),
      el("td", { class: "num" }, run.ended ? duration(run.ended - run.started) : "running"),
      el("td", { class: "mono" }, run.host || ""),
      el("td", null, run.error || run.message || ""))))));
}

export function render(root, params) {
  const filters = readFilters(params.query);
  const view = { closed: false, cursors: [null], page: 0, controller: null };

  const windowSelect = el("select", { "aria-label": "time window" },
    WINDOWS.map(([name, label]) => el("option", { value: name, selected: name === filters.window }, label)));
  const familySelect = el("select", { "aria-label": "family", "data-testid": "history-family" });
  const search = el("input", { type: "search", placeholder: "Task id contains…", value: filters.task, "aria-label": "search runs by task id", "data-testid": "history-search" });
  const problem = el("div");
  const chartBox = el("div", { class: "chart-box", "data-testid": "history-chart" });
  const chartNote = el("p", { class: "muted" });
  const familiesBox = el("div");
  const runsBox = el("div");
  const pager = el("div", { class: "pager" });

  root.append(
    el("h1", null, "History"),
    el("div", { class: "toolbar" }, el("label", null, "When ", windowSelect), el("label", null, "Family ", familySelect), search),
    problem,
    el("h2", null, "Runs over time"),
    el("div", { class: "legend" },
      el("span", null, el("span", { class: "swatch ok" }), "ended well"),
      el("span", null, el("span", { class: "swatch failed" }), "failed"),
      el("span", null, "x: when it started · y: how long it took · click a dot for its task")),
    chartBox, chartNote,
    el("h2", null, "Families"), familiesBox,
    el("h2", null, "Runs"), runsBox, pager,
  );

  function changed() {
    const query = new URLSearchParams();
    if (filters.window !== "24h") query.set("window", filters.window);
    if (filters.family) query.set("family", filters.family);
    if (filters.task) query.set("task", filters.task);
    const text = query.toString();
    history.replaceState(null, "", `#/history${text ? "?" + text : ""}`);
    view.cursors = [null];
    view.page = 0;
    loadAll();
  }

  windowSelect.addEventListener("change", () => { filters.window = windowSelect.value; changed(); });
  familySelect.addEventListener("change", () => { filters.family = familySelect.value; changed(); });
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { filters.task = search.value.trim(); changed(); }, 300);
  });

  function runsQuery(limit, cursor) {
    const query = new URLSearchParams({ limit: String(limit) });
    const start = since(filters);
    if (start !== null) query.set("since", start.toFixed(0));
    if (filters.family) query.set("family", filters.family);
    if (filters.task) query.set("search", filters.task);
    if (cursor) query.set("cursor", cursor);
    return `/history/runs?${query}`;
  }

  function drawFamilyOptions(families) {
    const names = [...new Set([...families.map((f) => f.family), ...(filters.family ? [filters.family] : [])])].sort();
    replace(familySelect, el("option", { value: "" }, "all families"),
      names.map((name) => el("option", { value: name, selected: name === filters.family }, name)));
  }

  async function loadChartAndFamilies() {
    const start = since(filters);
    const window = start === null ? "" : `?since=${start.toFixed(0)}`;
    const [chartRuns, families] = await Promise.all([api(runsQuery(CHART_RUNS, null)), api(`/history/families${window}`)]);
    if (view.closed) return;
    replace(chartBox, runsChart(chartRuns.runs || []));
    chartNote.textContent = chartRuns.next_cursor ? `The newest ${CHART_RUNS} runs are drawn.` : "";
    replace(familiesBox, familiesTable(families.families || [], (family) => {
      filters.family = family;
      drawFamilyOptions(families.families || []);
      changed();
    }));
    drawFamilyOptions(families.families || []);
  }

  async function loadRuns() {
    const answer = await api(runsQuery(PAGE, view.cursors[view.page]));
    if (view.closed) return;
    view.cursors[view.page + 1] = answer.next_cursor;
    replace(runsBox, runsTable(answer.runs || []));
    replace(pager,
      el("button", { type: "button", class: "quiet", disabled: view.page === 0, on: { click: () => { view.page -= 1; guarded(loadRuns); } } }, "← Newer"),
      el("span", { class: "muted" }, `page ${view.page + 1}`),
      el("button", { type: "button", class: "quiet", disabled: !answer.next_cursor, on: { click: () => { view.page += 1; guarded(loadRuns); } } }, "Older →"));
  }

  async function guarded(load) {
    try {
      await load();
      problem.replaceChildren();
    } catch (error) {
      if (view.closed) return;
      replace(problem, error instanceof ApiError && error.status === 404 && /no history/.test(error.message)
        ? el("p", { class: "notice" }, "This server keeps no history (it runs without a database).")
        : errorBox(error));
    }
  }

  function loadAll() {
    guarded(loadChartAndFamilies);
    guarded(loadRuns);
  }

  const refresh = throttle(() => {
    guarded(loadChartAndFamilies);
    if (view.page === 0) guarded(loadRuns);
  }, 3000);
  const close = events((note) => {
    if (note.type === "TaskStatusChanged" || note.type === "RunFinished") refresh();
  }, loadAll);

  drawFamilyOptions([]);
  loadAll();
  return () => {
    view.closed = true;
    clearTimeout(searchTimer);
    refresh.cancel();
    close();
  };
}
