// One job: status, progress while it runs, its result drawn for its type (prodplan plan
// and capacity chart, jobshop Gantt chart, mps summary), errors and attempts.

import { ApiError, getJSON } from "./api.js";
import { h, setText } from "./dom.js";
import * as fmt from "./format.js";
import { capacityChart, ganttChart, legend } from "./jobcharts.js";
import {
  batchHref, FINAL, gapText, nodeHref, Poller, ProgressBar, seconds, setStatusBadge, statusBadge, value,
} from "./jobs.js";

const MPS_ROWS = 50;
const PAYLOAD_CHARS = 20000;

function fact(label, content) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, content));
}

function stat(label, v, cls = null) {
  return h("div", { class: `stat ${cls || ""}`.trim(), dataset: { stat: label.toLowerCase() } },
    h("span", { class: "stat-l" }, label), h("span", { class: "stat-v" }, v));
}

function panel(title, ...body) {
  return h("section", { class: "panel wide" }, h("h2", {}, h("span", {}, title)), ...body);
}

function when(ts) {
  return ts ? fmt.dateTime(ts) : "–";
}

// --- results by type --------------------------------------------------------------

function jobshopResult(job, charts) {
  const r = job.result;
  const out = [panel("Schedule",
    h("div", { class: "stats" },
      stat("Makespan", value(r.makespan)),
      stat("Lower bound", value(r.lower_bound)),
      stat("Optimal", r.optimal ? "proved" : "not proved", r.optimal ? "good" : null),
      stat("Status", r.status ?? "–"),
      stat("Solve time", seconds(r.solve_time))))];
  if (Array.isArray(r.schedule) && r.schedule.length) {
    const gantt = ganttChart(r.schedule, { makespan: r.makespan, machines: job.payload?.machines });
    charts.push(gantt);
    out[0].append(gantt.el, h("p", { class: "muted chart-note" },
      "One row per machine; each bar is an operation, coloured by its job. Point at one to see its job's other operations."));
  }
  return out;
}

/** Items × periods: produce (setup periods marked), setup, inventory, and backlog when any. */
function planTable(plan, periods) {
  const items = [];
  const byItem = new Map();
  for (const p of plan) {
    if (!byItem.has(p.item)) { byItem.set(p.item, []); items.push(p.item); }
    byItem.get(p.item)[p.period] = p;
  }
  const head = h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col" }, ""),
    ...Array.from({ length: periods }, (_, t) => h("th", { scope: "col", class: "num" }, String(t + 1))),
    h("th", { scope: "col", class: "num" }, "Total"));
  const body = h("tbody");
  for (const item of items) {
    const cells = byItem.get(item);
    const anyBacklog = cells.some((c) => c && c.backlog > 0);
    const rows = [
      ["produce", (c) => (c ? value(c.produce) : ""), (c) => c?.produce ?? 0],
      ["setup", (c) => (c?.setup ? "●" : ""), (c) => (c?.setup ? 1 : 0)],
      ["inventory", (c) => (c ? value(c.inventory) : ""), null],
      ...(anyBacklog ? [["backlog", (c) => (c && c.backlog ? value(c.backlog) : ""), null]] : []),
    ];
    rows.forEach(([what, show, sum], i) => {
      const tr = h("tr", { class: `plan-${what}`, dataset: { item, row: what } },
        i === 0 ? h("th", { scope: "rowgroup", rowspan: rows.length, class: "plan-item" }, item) : null,
        h("td", { class: "plan-what" }, what),
        ...Array.from({ length: periods }, (_, t) => {
          const c = cells[t];
          const text = show(c);
          return h("td", { class: `num${what === "produce" && c?.setup ? " setup" : ""}${text === "0" ? " zero" : ""}`,
                           title: what === "produce" && c?.setup ? `setup in period ${t + 1}` : null }, text);
        }),
        h("td", { class: "num total" }, sum ? value(cells.reduce((a, c) => a + sum(c), 0)) : ""));
      body.append(tr);
    });
  }
  return h("div", { class: "table-wrap" }, h("table", { class: "plan-table" }, h("thead", {}, head), body));
}

function prodplanResult(job, charts) {
  const r = job.result;
  const c = r.costs || {};
  const periods = job.payload?.periods ?? (r.capacity_use?.length || 0);
  const summary = panel("Plan",
    h("div", { class: "stats" },
      stat("Objective", value(r.objective)),
      stat("Bound", value(r.bound)),
      stat("Gap", gapText(r.gap)),
      stat("Status", r.status ?? "–", r.status === "optimal" ? "good" : null),
      stat("Solve time", seconds(r.solve_time)),
      stat("Formulation", r.formulation ?? "–")),
    h("div", { class: "stats costs" },
      ...["setup", "holding", "backlog", "overtime"].filter((k) => k in c && (c[k] || k === "setup" || k === "holding"))
        .map((k) => stat(`${k} cost`, value(c[k])))));
  const out = [summary];
  if (Array.isArray(r.capacity_use) && r.capacity_use.length) {
    const chart = capacityChart(r.capacity_use, value);
    charts.push(chart);
    const over = r.capacity_use.some((u) => u.overtime > 0);
    out.push(panel("Capacity use per period", chart.el,
      legend([["Production time", "cap-prod"], ["Setup time", "cap-setup"], ["Capacity", "cap-line"],
        ...(over ? [["Overtime", "cap-over"]] : [])])));
  }
  if (Array.isArray(r.plan) && r.plan.length) {
    out.push(panel("Production plan (items × periods)", planTable(r.plan, periods),
      h("p", { class: "muted chart-note" }, "Periods are numbered from 1. ● marks a setup; highlighted quantities are made in a setup period.")));
  }
  return out;
}

function keyValueTable(title, entries, total) {
  return h("div", { class: "kv" },
    h("h3", {}, title, h("span", { class: "muted" }, total > entries.length ? ` (first ${entries.length} of ${total})` : ` (${total})`)),
    h("div", { class: "table-wrap" }, h("table", { class: "kv-table" },
      h("tbody", {}, ...entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "num" }, value(v))))))));
}

function mpsResult(job) {
  const r = job.result;
  const vals = Object.entries(r.values || {});
  const duals = Object.entries(r.duals || {});
  const nonzero = vals.filter(([, v]) => v !== 0);
  const shown = (nonzero.length ? nonzero : vals).slice(0, MPS_ROWS);
  const p = panel("Model",
    h("div", { class: "stats" },
      stat("Status", r.status ?? "–", r.status === "optimal" ? "good" : null),
      stat("Objective", value(r.objective)),
      stat("Bound", value(r.bound)),
      stat("Gap", gapText(r.gap)),
      stat("Kind", r.kind ? `${r.kind.toUpperCase()}, ${r.sense || ""}` : "–"),
      stat("Solve time", seconds(r.solve_time))));
  const tables = h("div", { class: "kv-pair" });
  if (vals.length) {
    tables.append(keyValueTable(nonzero.length && nonzero.length < vals.length ? "Non-zero variables" : "Variables",
      shown, nonzero.length || vals.length));
  }
  if (duals.length) tables.append(keyValueTable("Duals", duals.slice(0, MPS_ROWS), duals.length));
  if (tables.children.length) p.append(tables);
  return [p];
}

function genericResult(job) {
  return [panel("Result", h("pre", { class: "json" }, JSON.stringify(job.result, null, 2)))];
}

const RESULT_VIEWS = { jobshop: jobshopResult, prodplan: prodplanResult, mps: mpsResult };

// --- the page -----------------------------------------------------------------------

function attemptsTable(job) {
  if (!job.attempts?.length) return null;
  return panel("Attempts", h("div", { class: "table-wrap" }, h("table", { class: "attempts-table" },
    h("thead", {}, h("tr", {}, ...["#", "Machine", "Started", "Ended", "Took", "Outcome", "Error"].map((t, i) => h("th", { scope: "col", class: i === 0 || i === 4 ? "num" : null }, t)))),
    h("tbody", {}, ...job.attempts.map((a) => h("tr", { dataset: { outcome: a.outcome || "running" } },
      h("td", { class: "num" }, String(a.attempt)),
      h("td", {}, a.worker_id ? h("a", { href: nodeHref(a.worker_id) }, a.worker_id) : "–"),
      h("td", {}, when(a.started_at)),
      h("td", {}, when(a.ended_at)),
      h("td", { class: "num" }, a.ended_at ? seconds(a.ended_at - a.started_at) : "–"),
      h("td", {}, statusBadge(a.outcome || "running")),
      h("td", { class: "attempt-error" }, a.error || "")))))));
}

function errorPanel(job) {
  if (!job.error) return null;
  const retrying = job.status === "pending" || job.status === "running";
  return h("section", { class: "panel wide job-error-panel", role: "alert" },
    h("h2", {}, h("span", {}, retrying ? "Last attempt failed (the job will be retried)" : "Why it failed")),
    h("pre", { class: "job-error" }, job.error));
}

function payloadPanel(job) {
  if (!job.payload) return null;
  let text = JSON.stringify(job.payload, null, 1);
  const cut = text.length > PAYLOAD_CHARS;
  if (cut) text = `${text.slice(0, PAYLOAD_CHARS)}\n… (${fmt.bytes(text.length)} in all)`;
  return h("details", { class: "panel wide payload" }, h("summary", {}, "Payload"), h("pre", { class: "json" }, text));
}

export function renderJob(view, { id }) {
  const charts = [];
  let shownKey = "";
  const badge = statusBadge("pending");
  const title = h("h1", {}, `Job #${id}`);
  const sub = h("span", { class: "sub" });
  const facts = h("dl", { class: "facts" });
  const progress = new ProgressBar();
  const progressPanel = h("section", { class: "panel wide" }, h("h2", {}, h("span", {}, "Progress")), progress.el);
  const body = h("div", { class: "panels job-panels" });
  const loadError = h("p", { class: "error", role: "alert", hidden: true });
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "← All jobs")),
    h("div", { class: "node-head" }, h("div", { class: "node-title" }, title, badge, sub), facts),
    loadError,
    h("div", { class: "panels job-panels" }, progressPanel), body);

  function render(job) {
    setStatusBadge(badge, job.status);
    setText(sub, [job.type, job.label].filter(Boolean).join(" · "));
    progressPanel.hidden = job.status !== "running";
    if (job.status === "running") progress.update(job.progress, job.progress_text);
    // The rest changes only when the job moves on, not with each progress report.
    const key = `${job.status}|${job.attempt_count}|${job.claimed_by}|${job.error}|${job.finished_at}`;
    if (key === shownKey) return;
    shownKey = key;
    facts.replaceChildren(
      fact("Machine", job.claimed_by ? h("a", { href: nodeHref(job.claimed_by) }, job.claimed_by) : "not claimed yet"),
      fact("Attempts", `${job.attempt_count} of ${job.max_attempts}`),
      fact("Submitted", when(job.created_at)),
      fact("Started", when(job.claimed_at)),
      fact("Finished", when(job.finished_at)),
      ...(job.claimed_at && job.finished_at ? [fact("Run time", seconds(job.finished_at - job.claimed_at))] : []),
      ...(job.batch_id ? [fact("Batch", h("a", { href: batchHref(job.batch_id) }, job.batch_id))] : []),
      ...(job.priority ? [fact("Priority", String(job.priority))] : []));
    for (const c of charts.splice(0)) c.destroy();
    const parts = [errorPanel(job)];
    if (job.result) parts.push(...(RESULT_VIEWS[job.type] || genericResult)(job, charts));
    else if (job.status === "pending") parts.push(panel("Waiting", h("p", { class: "muted" }, "Queued until a worker that runs ", h("code", {}, job.type), " jobs is idle.")));
    parts.push(attemptsTable(job), payloadPanel(job));
    body.replaceChildren(...parts.filter(Boolean));
  }

  const poller = new Poller(async () => {
    let job;
    try {
      job = await getJSON(`/api/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        body.replaceChildren(h("div", { class: "empty" }, h("p", {}, `There is no job #${id} on this hub.`),
          h("p", {}, h("a", { href: "#/jobs" }, "See all jobs"))));
        return false;
      }
      if (e.name === "AuthError") throw e;
      setText(loadError, `Could not load this job: ${e.message}`);
      loadError.hidden = false;
      return true;
    }
    loadError.hidden = true;
    render(job);
    return !FINAL.has(job.status);
  });
  poller.run();
  return () => { poller.stop(); for (const c of charts) c.destroy(); };
}

