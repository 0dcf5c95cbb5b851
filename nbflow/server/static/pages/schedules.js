// #/schedules: the trigger's schedules (cron, task and parameters, next run, last run
// and its outcome, paused or active), with pause / resume buttons for those who may
// act; #/schedules?name=NAME adds that schedule's newest fires. The trigger sends no
// notifications: the page reads the list again every 5 s.

import { ApiError, api, el, errorBox, post, replace, when } from "../lib.js";

const REFRESH_MS = 5000;
// A fire's state -> the state colour it borrows (style.css has no others).
const OUTCOME_CLASSES = {
  claimed: "state-pending",
  running: "state-running",
  succeeded: "state-done",
  failed: "state-failed",
  not_started: "state-disabled",
  lost: "state-disabled",
};

function outcomeBadge(state) {
  const name = String(state || "");
  return el("span", { class: ["badge", OUTCOME_CLASSES[name] || "state-pending"], title: name, "data-outcome": name },
    name.replace(/_/g, " "));
}

function scheduleHref(name) {
  return `#/schedules?name=${encodeURIComponent(name)}`;
}

function taskCell(schedule) {
  const params = Object.entries(schedule.params || {});
  const lines = [el("div", { class: "mono" }, schedule.task)];
  if (schedule.module) lines.push(el("div", { class: "muted" }, `in ${schedule.module}`));
  if (schedule.date_param) lines.push(el("div", { class: "muted mono" }, `--${schedule.date_param}: the interval`));
  for (const [name, value] of params) {
    lines.push(el("div", { class: "mono", "data-param": name }, `--${name}=${value}`));
  }
  return el("td", null, lines);
}

function nextCell(schedule) {
  if (schedule.paused) return el("td", { class: "muted" }, "paused");
  return el("td", { title: new Date(schedule.next_fire * 1000).toISOString() },
    el("div", null, when(schedule.next_fire)),
    schedule.next_value ? el("div", { class: "muted" }, `for ${schedule.next_value}`) : null);
}

function exitCode(fire) {
  return fire.exit_code === null || fire.exit_code === undefined ? "" : ` (exit ${fire.exit_code})`;
}

// The newest fire; while it runs, the outcome of the one before it too.
function lastCell(fire, finished) {
  if (!fire) return el("td", { class: "muted" }, "never");
  const earlier = finished && finished.id !== fire.id
    ? el("div", { class: "muted", title: finished.message || finished.log_path },
      "before: ", outcomeBadge(finished.state), exitCode(finished), ` for ${finished.value || when(finished.fire_time)}`)
    : null;
  return el("td", { title: fire.message || fire.log_path },
    el("div", null, outcomeBadge(fire.state), exitCode(fire)),
    el("div", null, when(fire.fire_time)),
    fire.value ? el("div", { class: "muted" }, `for ${fire.value}`) : null,
    earlier);
}

function firesTable(fires) {
  if (!fires.length) return el("p", { class: "muted" }, "No fire yet.");
  return el("div", { class: "table-wrap" }, el("table", { class: "data fires" },
    el("thead", null, el("tr", null, ["Fired", "Interval", "Outcome", "Started", "Ended", "Log"].map((h) => el("th", null, h)))),
    el("tbody", null, fires.map((fire) => el("tr", { "data-fire": String(fire.id) },
      el("td", null, when(fire.fire_time)),
      el("td", { class: "mono" }, fire.value || "–"),
      el("td", { title: fire.message }, outcomeBadge(fire.state),
        fire.exit_code === null ? "" : ` exit ${fire.exit_code}`,
        fire.message ? el("div", { class: "muted" }, fire.message) : null),
      el("td", null, when(fire.started)),
      el("td", null, when(fire.ended)),
      el("td", { class: "mono id" }, fire.log_path))))));
}

export function render(root, params, ctx) {
  const view = { closed: false, busy: false };
  const chosen = params.query.get("name");
  const heading = el("h1", null, "Schedules");
  const problem = el("div");
  const note = el("p", { class: "muted" });
  const tableBox = el("div", { "data-testid": "schedules" });
  const detailBox = el("div");
  root.append(heading, problem, note, tableBox, detailBox);
  const canAct = Boolean(ctx.session && ctx.session.write_allowed);

  async function act(name, verb) {
    view.busy = true;
    try {
      await post(`/schedules/${encodeURIComponent(name)}/${verb}`);
      problem.replaceChildren();
    } catch (error) {
      replace(problem, errorBox(error));
    } finally {
      view.busy = false;
    }
    load();
  }

  function actions(schedule) {
    if (!canAct) return el("td", { class: "muted" }, "–");
    const verb = schedule.paused ? "resume" : "pause";
    return el("td", null, el("button", {
      type: "button", class: schedule.paused ? "button" : "button quiet", "data-action": verb,
      title: schedule.paused ? "Fire again from the next interval" : "Let intervals pass unfired until resumed",
      on: { click: () => act(schedule.name, verb) },
    }, schedule.paused ? "Resume" : "Pause"));
  }

  function row(schedule) {
    const state = schedule.paused
      ? el("span", { class: ["badge", "state-disabled"] }, "paused")
      : el("span", { class: ["badge", "state-running"] }, "active");
    return el("tr", { "data-schedule": schedule.name, class: schedule.name === chosen ? "chosen" : null },
      el("td", null, el("a", { href: scheduleHref(schedule.name), class: "mono" }, schedule.name),
        el("div", { class: "muted" }, schedule.source === "api" ? "added through the API" : "from the config")),
      el("td", null, el("div", { class: "mono" }, schedule.cron),
        el("div", { class: "muted" }, `${schedule.timezone}, catch-up ${schedule.catch_up}`)),
      taskCell(schedule),
      nextCell(schedule),
      lastCell(schedule.last_fire, schedule.last_finished),
      el("td", null, state, schedule.running ? el("div", { class: "muted" }, `${schedule.running} running`) : null),
      actions(schedule));
  }

  function table(schedules) {
    if (!schedules.length) {
      return el("p", { class: "notice" }, "No schedule. Declare one in the server's config ([schedule.NAME] with cron and task) or add one with POST /api/v1/schedules.");
    }
    const headings = ["Name", "Cron", "Task", "Next run", "Last run", "State", ""];
    return el("div", { class: "table-wrap" }, el("table", { class: "data schedules" },
      el("thead", null, el("tr", null, headings.map((h) => el("th", null, h)))),
      el("tbody", null, schedules.map(row))));
  }

  async function loadDetail() {
    if (!chosen) return;
    try {
      const detail = await api(`/schedules/${encodeURIComponent(chosen)}`);
      if (view.closed) return;
      replace(detailBox, el("h2", null, "Newest fires of ", el("span", { class: "mono" }, chosen)), firesTable(detail.fires || []));
    } catch (error) {
      if (!view.closed) replace(detailBox, errorBox(error));
    }
  }

  async function load() {
    if (view.busy) return;
    try {
      const answer = await api("/schedules");
      if (view.closed) return;
      const schedules = answer.schedules || [];
      heading.textContent = `Schedules (${schedules.length})`;
      replace(note, answer.read_only
        ? "Schedules come from the server's config; the API may pause and resume them only. "
        : "", "Each fire runs ", el("code", null, "nbflow run"), " against this server: its tasks show on the other pages.");
      replace(tableBox, table(schedules));
    } catch (error) {
      if (view.closed) return;
      if (error instanceof ApiError && error.status === 404) replace(tableBox, el("p", { class: "notice" }, error.message));
      else replace(problem, errorBox(error));
    }
    loadDetail();
  }

  const timer = setInterval(load, REFRESH_MS);
  load();
  return () => {
    view.closed = true;
    clearInterval(timer);
  };
}
