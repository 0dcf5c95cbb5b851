// #/workers: each worker (host, slots, what it runs, heartbeat age, assistant or not),
// the resources in use, and a "cancel run" button per worker for those who may act.
// Live: reloaded at most once a second on notifications, and every 5 s for the ages.

import { api, ago, el, errorBox, events, post, replace, taskLink, throttle } from "../lib.js";

const NOTES = new Set(["TaskStatusChanged", "RunStarted", "RunFinished", "RunCancelling", "TasksRemoved"]);
const RUNNING_SHOWN = 20;

function meter(used, limit) {
  const bar = el("span", { class: "progress-bar" });
  bar.style.width = `${limit > 0 ? Math.min(100, (100 * used) / limit) : 0}%`;
  return el("span", { class: "meter" }, el("span", { class: "progress" }, bar), `${used} / ${limit}`);
}

function resourcesTable(resources) {
  const names = Object.keys(resources || {});
  if (!names.length) return el("p", { class: "muted" }, "No resource is configured or in use.");
  return el("div", { class: "table-wrap" }, el("table", { class: "data resources" },
    el("thead", null, el("tr", null, el("th", null, "Resource"), el("th", null, "In use"))),
    el("tbody", null, names.map((name) => el("tr", { "data-resource": name },
      el("td", { class: "mono" }, name),
      el("td", null, meter(resources[name].used, resources[name].limit)))))));
}

export function render(root, _params, ctx) {
  const view = { closed: false, confirming: null };
  const heading = el("h1", null, "Workers");
  const problem = el("div");
  const cards = el("div", { class: "cards", "data-testid": "workers" });
  const resourcesBox = el("div");
  root.append(heading, problem, cards, el("h2", null, "Resources"), resourcesBox);
  const canAct = Boolean(ctx.session && ctx.session.write_allowed);

  function cancelControls(worker) {
    if (!canAct || !worker.running.length) return null;
    if (worker.cancelling) return el("p", { class: "muted" }, "Cancelling its run…");
    if (view.confirming === worker.worker_id) {
      return el("div", { class: "actions" },
        el("span", null, "Cancel everything this worker runs? "),
        el("button", { type: "button", class: "danger", "data-action": "confirm-cancel", on: { click: () => cancel(worker.worker_id) } }, "Yes, cancel"),
        el("button", { type: "button", class: "quiet", on: { click: () => { view.confirming = null; load(); } } }, "Keep running"));
    }
    return el("div", { class: "actions" }, el("button", {
      type: "button", class: "quiet", "data-action": "cancel",
      on: { click: () => { view.confirming = worker.worker_id; load(); } },
    }, "Cancel run"));
  }

  async function cancel(workerId) {
    view.confirming = null;
    try {
      await post(`/workers/${encodeURIComponent(workerId)}/cancel`);
      problem.replaceChildren();
    } catch (error) {
      replace(problem, errorBox(error));
    }
    load();
  }

  function card(worker) {
    const running = worker.running || [];
    return el("article", { class: "card", "data-worker-id": worker.worker_id },
      el("h3", { class: "mono" }, worker.worker_id),
      el("dl", { class: "facts" },
        el("dt", null, "Host"), el("dd", null, worker.host || "–"),
        el("dt", null, "Slots"), el("dd", null, `${running.length} busy of ${worker.slots}`),
        el("dt", null, "Heartbeat"), el("dd", { title: new Date(worker.last_seen * 1000).toISOString() }, ago(worker.last_seen)),
        el("dt", null, "Kind"), el("dd", null, worker.assistant ? "assistant (runs any task)" : "runs its own tasks")),
      running.length
        ? el("ul", { class: "running" },
          running.slice(0, RUNNING_SHOWN).map((id) => el("li", null, taskLink(id))),
          running.length > RUNNING_SHOWN
            ? el("li", null, el("a", { href: `#/tasks?worker=${encodeURIComponent(worker.worker_id)}` }, `… all ${running.length}`))
            : null)
        : el("p", { class: "muted" }, "Idle."),
      cancelControls(worker));
  }

  async function load() {
    try {
      const [answer, scheduler] = await Promise.all([api("/workers"), api("/scheduler")]);
      if (view.closed) return;
      const workers = answer.workers || [];
      heading.textContent = `Workers (${workers.length})`;
      replace(cards, workers.length ? workers.map(card) : el("p", { class: "notice" }, "No worker is connected."));
      replace(resourcesBox, resourcesTable(scheduler.resources));
      if (!view.confirming) problem.replaceChildren();
    } catch (error) {
      if (!view.closed) replace(problem, errorBox(error));
    }
  }

  const refresh = throttle(load, 1000);
  const close = events((note) => { if (NOTES.has(note.type)) refresh(); }, load);
  const timer = setInterval(() => { if (!view.confirming) refresh(); }, 5000);
  load();
  return () => {
    view.closed = true;
    clearInterval(timer);
    refresh.cancel();
    close();
  };
}
