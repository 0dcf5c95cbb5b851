// #/tasks: the task list. Counts by state (each a filter), filters by family and
// worker, a search over ids and parameter values, sortable columns, pages. The server
// filters, sorts and pages (GET /api/v1/tasks), so 100,000 tasks cost one page here.
// Live: the visible page is fetched again at most once a second while notifications
// about tasks arrive.

import {
  STATES, api, ago, el, errorBox, events, replace, stateBadge, stateClass, taskLink, throttle,
} from "../lib.js";

const SORTS = [
  ["status", "State"],
  ["id", "Task"],
  ["family", "Family"],
  ["worker", "Worker"],
  ["priority", "Priority"],
  ["changed", "Changed"],
];
const LIMITS = [50, 100, 250, 1000];
const TASK_NOTES = new Set(["TaskAdded", "TaskStatusChanged", "TaskProgressed", "TaskMessage", "TasksRemoved"]);

function readFilters(query) {
  const limit = Number(query.get("limit"));
  return {
    status: new Set((query.get("status") || "").split(",").filter(Boolean)),
    family: query.get("family") || "",
    worker: query.get("worker") || "",
    search: query.get("search") || "",
    sort: query.get("sort") || "discovered",
    cursor: query.get("cursor") || "0",
    limit: LIMITS.includes(limit) ? limit : 100,
  };
}

function toQuery(filters, { forApi } = { forApi: false }) {
  const query = new URLSearchParams();
  if (filters.status.size) query.set("status", [...filters.status].join(","));
  for (const key of ["family", "worker", "search"]) if (filters[key]) query.set(key, filters[key]);
  if (filters.sort !== "discovered") query.set("sort", filters.sort);
  if (filters.cursor !== "0") query.set("cursor", filters.cursor);
  if (forApi || filters.limit !== 100) query.set("limit", String(filters.limit));
  return query.toString();
}

function paramsText(params) {
  return (params || []).map(([name, value]) => el("span", { class: "param" },
    el("span", { class: "param-name" }, name), "=", value, " "));
}

function progressCell(task) {
  const parts = [];
  if (typeof task.progress === "number") {
    const bar = el("span", { class: "progress-bar" });
    bar.style.width = `${Math.max(0, Math.min(100, task.progress))}%`;
    parts.push(el("span", { class: "progress", title: `${task.progress}%` }, bar));
  }
  if (task.status_message) parts.push(el("span", { class: "message" }, task.status_message));
  return parts;
}

export function render(root, params) {
  const filters = readFilters(params.query);
  const view = {
    controller: null,
    families: [],
    workers: [],
    closed: false,
  };

  const heading = el("h1", null, "Tasks");
  const stateFilters = el("div", { class: "filters", role: "group", "aria-label": "filter by state" });
  const search = el("input", {
    type: "search", placeholder: "Search ids and parameter values", value: filters.search,
    "aria-label": "search tasks", spellcheck: "false", "data-testid": "task-search",
  });
  const familySelect = el("select", { "aria-label": "family", "data-testid": "family-filter" });
  const workerSelect = el("select", { "aria-label": "worker", "data-testid": "worker-filter" });
  const limitSelect = el("select", { "aria-label": "tasks per page" },
    LIMITS.map((n) => el("option", { value: n, selected: n === filters.limit }, `${n} per page`)));
  const status = el("span", { class: "muted", "aria-live": "polite" });
  const tableBox = el("div", { class: "table-wrap" });
  const pager = el("div", { class: "pager" });
  const problem = el("div");

  root.append(
    heading,
    stateFilters,
    el("div", { class: "toolbar" },
      search,
      el("label", null, "Family ", familySelect),
      el("label", null, "Worker ", workerSelect),
      limitSelect,
      el("span", { class: "spacer" }),
      status),
    problem,
    tableBox,
    pager,
  );

  function changed({ keepCursor } = { keepCursor: false }) {
    if (!keepCursor) filters.cursor = "0";
    const text = toQuery(filters);
    history.replaceState(null, "", `#/tasks${text ? "?" + text : ""}`);
    load();
  }

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      filters.search = search.value.trim();
      changed();
    }, 250);
  });
  familySelect.addEventListener("change", () => {
    filters.family = familySelect.value;
    changed();
  });
  workerSelect.addEventListener("change", () => {
    filters.worker = workerSelect.value;
    changed();
  });
  limitSelect.addEventListener("change", () => {
    filters.limit = Number(limitSelect.value);
    changed();
  });

  function drawOptions(select, values, current, allLabel) {
    const names = [...new Set([...values, ...(current ? [current] : [])])].sort();
    replace(select,
      el("option", { value: "" }, allLabel),
      names.map((name) => el("option", { value: name, selected: name === current }, name)));
  }

  function drawStateFilters(counts, total) {
    const all = el("button", {
      type: "button", class: "filter", "aria-pressed": String(filters.status.size === 0),
      on: { click: () => { filters.status.clear(); changed(); } },
    }, "all", el("span", { class: "count-value" }, String(total)));
    const chips = STATES.filter((name) => counts[name] || filters.status.has(name)).map((name) =>
      el("button", {
        type: "button",
        class: ["filter", stateClass(name)],
        "aria-pressed": String(filters.status.has(name)),
        "data-state": name,
        title: `Show ${name} tasks (click again to drop the filter)`,
        on: {
          click: () => {
            if (filters.status.has(name)) filters.status.delete(name);
            else filters.status.add(name);
            changed();
          },
        },
      }, name.replace(/_/g, " ").toLowerCase(), el("span", { class: "count-value" }, String(counts[name] || 0))));
    replace(stateFilters, all, chips);
  }

  function sortHeader(key, label) {
    const ascending = filters.sort === key;
    const descending = filters.sort === `-${key}`;
    return el("th", {
      class: "sortable",
      tabindex: "0",
      "aria-sort": ascending ? "ascending" : descending ? "descending" : "none",
      "data-sort": key,
      title: "Sort by this column (again: reverse)",
      on: {
        click: () => { filters.sort = ascending ? `-${key}` : key; changed(); },
        keydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            filters.sort = ascending ? `-${key}` : key;
            changed();
          }
        },
      },
    }, label);
  }

  function drawTable(tasks) {
    if (!tasks.length) {
      replace(tableBox, el("p", { class: "notice" }, "No task matches."));
      return;
    }
    const head = el("tr", null, SORTS.map(([key, label]) => sortHeader(key, label)), el("th", null, "Progress"));
    const rows = tasks.map((task) => el("tr", { "data-task-id": task.task_id },
      el("td", null, stateBadge(task.status)),
      el("td", { class: "id" }, taskLink(task.task_id), el("div", { class: "params" }, paramsText(task.params))),
      el("td", null, el("a", { href: `#/tasks?family=${encodeURIComponent(task.family)}` }, task.family)),
      el("td", { class: "mono" }, task.worker_id || ""),
      el("td", { class: "num" }, String(task.priority ?? 0)),
      el("td", { title: task.changed_at ? new Date(task.changed_at * 1000).toISOString() : "" }, ago(task.changed_at)),
      el("td", null, progressCell(task)),
    ));
    replace(tableBox, el("table", { class: "data tasks" }, el("thead", null, head), el("tbody", null, rows)));
  }

  function drawPager(answer) {
    const offset = Number(filters.cursor) || 0;
    const shown = answer.tasks.length;
    const previous = el("button", {
      type: "button", class: "quiet", disabled: offset === 0,
      on: { click: () => { filters.cursor = String(Math.max(0, offset - filters.limit)); changed({ keepCursor: true }); } },
    }, "← Previous");
    const next = el("button", {
      type: "button", class: "quiet", disabled: !answer.next_cursor,
      on: { click: () => { filters.cursor = answer.next_cursor; changed({ keepCursor: true }); } },
    }, "Next →");
    const range = shown ? `${offset + 1}–${offset + shown} of ${answer.total}` : `0 of ${answer.total}`;
    replace(pager, previous, el("span", { class: "muted", "data-testid": "page-range" }, range), next);
  }

  async function load() {
    if (view.controller) view.controller.abort();
    const controller = new AbortController();
    view.controller = controller;
    try {
      const answer = await api(`/tasks?${toQuery(filters, { forApi: true })}`, { signal: controller.signal });
      if (controller.signal.aborted || view.closed) return;
      problem.replaceChildren();
      const counts = answer.counts || {};
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      heading.textContent = `Tasks (${answer.total})`;
      drawStateFilters(counts, total);
      drawTable(answer.tasks);
      drawPager(answer);
      status.textContent = "";
    } catch (error) {
      if (error.name === "AbortError" || view.closed) return;
      replace(problem, errorBox(error));
    }
  }

  async function loadChoices() {
    try {
      const [scheduler, workers] = await Promise.all([api("/scheduler"), api("/workers")]);
      if (view.closed) return;
      view.families = Object.keys(scheduler.families || {});
      view.workers = (workers.workers || []).map((w) => w.worker_id);
    } catch (_error) {
      // the filters still work from the URL; the page shows the listing's own error
    }
    drawOptions(familySelect, view.families, filters.family, "all families");
    drawOptions(workerSelect, view.workers, filters.worker, "all workers");
  }

  const refresh = throttle(load, 1000);
  const close = events((note) => {
    if (TASK_NOTES.has(note.type)) refresh();
  }, () => load());

  drawOptions(familySelect, [], filters.family, "all families");
  drawOptions(workerSelect, [], filters.worker, "all workers");
  load();
  loadChoices();

  return () => {
    view.closed = true;
    clearTimeout(searchTimer);
    refresh.cancel();
    if (view.controller) view.controller.abort();
    close();
  };
}
