// One job: status, progress while it runs, its result drawn for its type (prodplan plan
// and capacity chart, jobshop Gantt chart, mps summary), errors and attempts.

import { adminPost, adminSignIn, savedSecret } from "./admin.js";
import { ApiError, getJSON } from "./api.js";
import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { capacityChart, ganttChart, legend } from "./jobcharts.js";
import {
  batchHref, gapText, jobHref, nodeHref, Poller, seconds, setOutcomeBadge, statusBadge, value,
} from "./jobs.js";
import { isFinal, loadVocab, vocabError } from "./vocab.js";

const MPS_ROWS = 50;
const DEFAULT_TIME_LIMIT_S = 3600; // the worker's limit for a payload that sets none
const TRACE_LINE = /^Traceback \(most recent call last\):$/m;
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

/**
 * A traceback's paths without the worker's folders: a file of an installed package from the
 * package on, one of the standard library from lib/python3.x on, and the rest (the worker's
 * own code, run from a checkout or a one-file build) from the last folder they all share on,
 * so /home/me/forge/pkg/a.py and /home/me/forge/pkg/sub/b.py read pkg/a.py and pkg/sub/b.py.
 * The desktop app's job window trims the same way.
 */
export function trimPaths(text) {
  const out = text
    .replace(/File "[^"]*?\/(site-packages|dist-packages)\/([^"]+)"/g, 'File "$2"')
    .replace(/File "[^"]*?\/(lib\/python3[^"/]*\/[^"]+)"/g, 'File "$1"');
  const dirs = [...out.matchAll(/File "(\/[^"]*)\/[^"/]+"/g)].map((m) => m[1].split("/"));
  if (!dirs.length) return out;
  let shared = dirs[0];
  for (const d of dirs) {
    let i = 0;
    while (i < shared.length && i < d.length && shared[i] === d[i]) i++;
    shared = shared.slice(0, i);
  }
  if (shared.length < 2) return out;
  return out.replaceAll(`File "${shared.slice(0, -1).join("/")}/`, 'File "');
}

/** An error as "message" and "traceback": the traceback's own last line repeats the message, so it goes. */
export function splitError(error) {
  const m = TRACE_LINE.exec(error);
  if (!m) return { message: error, trace: "" };
  const message = error.slice(0, m.index).trim();
  let trace = error.slice(m.index).trim();
  const lines = trace.split("\n");
  const last = lines[lines.length - 1].trim();
  if (message && message.split("\n")[0].trim() === last) lines.pop();
  trace = trimPaths(lines.join("\n"));
  return { message: message || last, trace };
}

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
      h("td", { class: "attempt-error" }, !a.error ? "" : a.error === job.error ? h("span", { class: "muted" }, "the error above")
        : splitError(a.error).message.split("\n")[0])))))));
}

function errorPanel(job) {
  if (!job.error) return null;
  const retrying = job.status === "pending" || job.status === "running";
  const { message, trace } = splitError(job.error);
  return h("section", { class: "panel wide job-error-panel", role: "alert" },
    h("h2", {}, h("span", {}, retrying ? "Last attempt failed (the job will be retried)" : "Why it failed")),
    h("pre", { class: "job-error" }, message),
    trace ? h("details", { class: "job-trace" }, h("summary", {}, "Traceback"), h("pre", {}, trace)) : null);
}

function payloadPanel(job) {
  if (!job.payload) return null;
  let text = JSON.stringify(job.payload, null, 1);
  const cut = text.length > PAYLOAD_CHARS;
  if (cut) text = `${text.slice(0, PAYLOAD_CHARS)}\n… (${fmt.bytes(text.length)} in all)`;
  return h("details", { class: "panel wide payload" }, h("summary", {}, "Payload"), h("pre", { class: "json" }, text));
}

/**
 * A running job's progress: the bar is the time used against its limit (kept current from
 * the hub's clock between polls), its text the hub's `progress_text` (forge_contracts); the
 * gap and the incumbent/bound are their own figures, and a small chart draws incumbent and
 * bound over the time this page has watched.
 */
class JobProgress {
  constructor() {
    this.fill = h("i");
    this.bar = h("div", { class: "bar job-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                          "aria-label": "Time used of the time limit" }, this.fill);
    this.timeText = h("span", { class: "job-progress-text" });
    this.figures = h("div", { class: "stats job-figures" });
    this.chart = h("svg:svg", { class: "bound-chart", viewBox: "0 0 600 120", preserveAspectRatio: "none",
                                role: "img", "aria-label": "Incumbent and bound over time" });
    this.chartNote = h("p", { class: "muted chart-note" });
    this.el = h("div", { class: "job-progress-wrap" }, h("div", { class: "job-progress" }, this.bar, this.timeText),
      this.figures, this.chart, this.chartNote);
    this.points = [];
    this.job = null;
    this.skew = 0;
  }

  update(job, serverNow) {
    this.job = job;
    if (Number.isFinite(serverNow)) this.skew = serverNow - Date.now() / 1000;
    const p = job.progress || {};
    const figs = [["Best", value(p.incumbent ?? p.objective ?? p.makespan)], ["Bound", value(p.bound ?? p.lower_bound)],
                  ["Gap", gapText(p.gap)]];
    this.figures.replaceChildren(...figs.map(([l, v]) => h("div", { class: "stat", dataset: { stat: l.toLowerCase() } },
      h("span", { class: "stat-l" }, l), h("span", { class: "stat-v" }, v))));
    const inc = p.incumbent ?? p.objective ?? p.makespan, bound = p.bound ?? p.lower_bound;
    this.reports = this.reports || inc != null || bound != null || p.gap != null;
    this.figures.hidden = !this.reports;
    const t = this.elapsed();
    if ((inc != null || bound != null) && t != null) {
      const last = this.points[this.points.length - 1];
      if (!last || last.inc !== inc || last.bound !== bound) this.points.push({ t, inc, bound });
    }
    this.drawChart();
    this.tick();
  }

  /** The payload's limit; else the one implied by the solver's own share (elapsed at percent); else the worker's. */
  timeLimit() {
    const j = this.job, p = j?.progress || {};
    const implied = p.percent > 0 && p.elapsed > 0 ? p.elapsed * 100 / p.percent : null;
    return Number(j?.payload?.time_limit || p.time_limit || implied || DEFAULT_TIME_LIMIT_S);
  }

  elapsed() {
    const j = this.job;
    if (!j?.claimed_at) return null;
    return Math.max(0, Date.now() / 1000 + this.skew - j.claimed_at);
  }

  /** Once a second: the elapsed time and the bar move on between polls. */
  tick() {
    const el = this.elapsed();
    if (el == null) { setText(this.timeText, "starting…"); return; }
    const limit = this.timeLimit();
    const share = Math.min(1, el / limit);
    const tr = `scaleX(${share.toFixed(3)})`;
    if (this.fill.style.transform !== tr) this.fill.style.transform = tr;
    setAttr(this.bar, "aria-valuenow", (share * 100).toFixed(0));
    setText(this.timeText, this.job.progress_text || "starting…");
  }

  drawChart() {
    const pts = this.points;
    this.chart.toggleAttribute("hidden", pts.length < 2); // an SVG element has no `hidden` property
    this.chartNote.hidden = !this.reports;
    if (pts.length < 2) { setText(this.chartNote, pts.length ? "" : "No incumbent reported yet."); return; }
    const vals = pts.flatMap((q) => [q.inc, q.bound]).filter((v) => v != null);
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t, ts = t1 - t0 || 1;
    const line = (key) => pts.filter((q) => q[key] != null)
      .map((q) => `${((q.t - t0) / ts * 600).toFixed(1)},${(110 - (q[key] - lo) / span * 100).toFixed(1)}`).join(" ");
    this.chart.replaceChildren(
      h("svg:polyline", { class: "inc-line", points: line("inc"), fill: "none", "vector-effect": "non-scaling-stroke" }),
      h("svg:polyline", { class: "bound-line", points: line("bound"), fill: "none", "vector-effect": "non-scaling-stroke" }));
    setText(this.chartNote, `Incumbent (solid) and bound (dashed) since this page opened: ${value(lo)} – ${value(hi)}.`);
  }
}

/** Cancel, retry, resubmit with another seed: admin actions, behind the Add page's sign-in. */
function jobActions(onDone) {
  const msg = h("p", { class: "action-msg", role: "status" });
  const seed = h("input", { type: "number", min: "0", step: "1", class: "seed-input", "aria-label": "Seed" });
  const cancel = h("button", { type: "button", dataset: { action: "cancel" } }, "Cancel job");
  const retry = h("button", { type: "button", dataset: { action: "retry" } }, "Retry");
  const resubmit = h("button", { type: "button", dataset: { action: "resubmit" } }, "Resubmit with seed");
  const buttons = h("div", { class: "job-actions" }, cancel, retry, h("span", { class: "resubmit" }, resubmit, seed));
  const signIn = h("div", { hidden: true });
  const el = h("section", { class: "panel wide actions-panel" }, h("h2", {}, h("span", {}, "Actions")), buttons, signIn, msg);
  let job = null;
  let pending = null;

  async function run(action) {
    if (!savedSecret()) {
      pending = action;
      signIn.replaceChildren(adminSignIn(() => { signIn.hidden = true; const a = pending; pending = null; run(a); }));
      signIn.hidden = false;
      signIn.querySelector("input").focus();
      return;
    }
    msg.classList.remove("error");
    setText(msg, "…");
    try {
      const body = action === "resubmit" && seed.value !== "" ? { seed: Number(seed.value) } : {};
      const out = await adminPost(`/api/jobs/${encodeURIComponent(job.id)}/${action}`, body);
      if (action === "cancel") { setText(msg, `Job #${job.id} cancelled.`); onDone(null); return; }
      msg.replaceChildren(`${action === "retry" ? "Retried" : `Resubmitted with seed ${out.seed}`} as `,
        h("a", { href: jobHref(out.id) }, `job #${out.id}`), ".");
      onDone(out.id);
    } catch (e) {
      msg.classList.add("error");
      setText(msg, e.message);
      if (e.status === 401 || e.status === 403) { pending = action; signIn.replaceChildren(adminSignIn(() => { signIn.hidden = true; run(pending); })); signIn.hidden = false; }
    }
  }
  cancel.addEventListener("click", () => run("cancel"));
  retry.addEventListener("click", () => run("retry"));
  resubmit.addEventListener("click", () => run("resubmit"));

  return {
    el,
    update(j) {
      job = j;
      cancel.hidden = isFinal(j.status);
      retry.hidden = !(j.status === "failed" || j.status === "cancelled");
      const s = Number(j.payload?.seed ?? 0);
      if (document.activeElement !== seed) seed.value = String(s + 1);
      setAttr(resubmit, "title", `A new job with the same payload and another seed (this one ran with seed ${s})`);
    },
  };
}

export function renderJob(view, { id }) {
  const charts = [];
  let shownKey = "";
  const badge = statusBadge("pending");
  const title = h("h1", {}, `Job #${id}`);
  const sub = h("span", { class: "sub" });
  const facts = h("dl", { class: "facts" });
  const progress = new JobProgress();
  const progressPanel = h("section", { class: "panel wide" }, h("h2", {}, h("span", {}, "Progress")), progress.el);
  const waiting = h("p", { class: "job-waiting" });
  const waitingPanel = h("section", { class: "panel wide waiting-panel" }, h("h2", {}, h("span", {}, "Why it waits")), waiting);
  const actions = jobActions(() => poller.run());
  const body = h("div", { class: "panels job-panels" });
  const loadError = h("p", { class: "error", role: "alert", hidden: true });
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "← All jobs")),
    h("div", { class: "node-head" }, h("div", { class: "node-title" }, title, badge, sub), facts),
    loadError,
    h("div", { class: "panels job-panels" }, waitingPanel, progressPanel, actions.el), body);

  function render(job) {
    setOutcomeBadge(badge, job);
    setText(sub, [job.type, job.label].filter(Boolean).join(" · "));
    progressPanel.hidden = job.status !== "running";
    if (job.status === "running") progress.update(job, job.server_now);
    waitingPanel.hidden = job.status !== "pending";
    setText(waiting, job.waiting ? `${job.waiting[0].toUpperCase()}${job.waiting.slice(1)}.` :
      `Queued until a worker that runs ${job.type} jobs is free.`);
    actions.update(job);
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
      ...(job.priority ? [fact("Priority", String(job.priority))] : []),
      ...(job.payload?.seed != null ? [fact("Seed", String(job.payload.seed))] : []));
    for (const c of charts.splice(0)) c.destroy();
    const parts = [errorPanel(job)];
    if (job.result) parts.push(...(RESULT_VIEWS[job.type] || genericResult)(job, charts));
    parts.push(attemptsTable(job), payloadPanel(job));
    body.replaceChildren(...parts.filter(Boolean));
  }

  const poller = new Poller(async () => {
    const vocab = await loadVocab();
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
    loadError.hidden = !vocab.error;
    if (vocab.error) setText(loadError, vocabError(vocab.error));
    render(job);
    // Finished jobs are still polled, slowly in effect (nothing changes), so a retry or cancel shows.
    return true;
  });
  poller.run();
  const ticker = setInterval(() => { if (!progressPanel.hidden) progress.tick(); }, 1000);
  return () => { poller.stop(); clearInterval(ticker); for (const c of charts) c.destroy(); };
}
