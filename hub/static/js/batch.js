// A batch (a scenario sweep): every job's result in one sortable table, one column per
// grid factor, the best scenario highlighted; a 2-parameter sweep also as a pivot grid.
// An admin can cancel every job of the batch that has not ended.

import { adminPost, withAdmin } from "./admin.js";
import { ApiError, getJSON } from "./api.js";
import { h, setText } from "./dom.js";
import {
  gapText, jobHref, nodeHref, outcome, outcomeBadge, Poller, ProgressBar, seconds, value,
} from "./jobs.js";
import { isFinal, jobStatuses, loadVocab, vocabError } from "./vocab.js";
import { pivot, pivotTable } from "./pivot.js";

/** Result columns per job type: [field, heading, formatter]; the first one ranks the scenarios. */
const COLUMNS = {
  prodplan: [["objective", "Objective", value], ["bound", "Bound", value], ["gap", "Gap", gapText],
    ["status", "Solver status", value], ["solve_time", "Solve time", seconds]],
  jobshop: [["makespan", "Makespan", value], ["lower_bound", "Lower bound", value], ["optimal", "Optimal", value],
    ["solve_time", "Solve time", seconds]],
  mps: [["objective", "Objective", value], ["bound", "Bound", value], ["gap", "Gap", gapText],
    ["status", "Solver status", value], ["solve_time", "Solve time", seconds]],
};

/** "capacity×0.8, setup_cost×2" -> {capacity: 0.8, setup_cost: 2} (the labels sweeps give their jobs). */
export function parseFactors(label) {
  const out = {};
  for (const part of (label || "").split(", ")) {
    const i = part.lastIndexOf("×");
    if (i <= 0) continue;
    const v = Number(part.slice(i + 1));
    if (Number.isFinite(v)) out[part.slice(0, i)] = v;
  }
  return out;
}

function columnsFor(type, jobs) {
  if (COLUMNS[type]) return COLUMNS[type];
  const keys = new Set();
  for (const j of jobs) for (const k of Object.keys(j.result || {})) keys.add(k);
  return [...keys].map((k) => [k, k.replace(/_/g, " "), value]);
}

/** Lower is better, except for an MPS model that maximises. */
function better(type, jobs) {
  const sense = jobs.find((j) => j.result?.sense)?.result.sense;
  return type === "mps" && sense === "maximize" ? -1 : 1;
}

function compare(a, b) {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function renderBatch(view, { id }) {
  const sort = { key: "id", dir: 1 };
  let batch = null;
  const title = h("h1", {}, `Batch ${id}`);
  const sub = h("span", { class: "sub" });
  const counts = h("span", { class: "counts", "aria-live": "polite" });
  const progress = new ProgressBar();
  const table = h("table", { class: "batch-table" });
  const note = h("p", { class: "muted chart-note" });
  const loadError = h("p", { class: "error", role: "alert", hidden: true });
  const pivotHost = h("div", { class: "table-wrap" });
  const pivotNote = h("p", { class: "muted chart-note" });
  const pivotTitle = h("span", {});
  const pivotPanel = h("section", { class: "panel wide pivot-panel", hidden: true },
    h("h2", {}, pivotTitle), pivotHost, pivotNote);
  const cancelBtn = h("button", { type: "button", dataset: { action: "cancel-batch" } }, "Cancel batch");
  const actionMsg = h("p", { class: "action-msg", role: "status" });
  const signIn = h("div", { hidden: true });
  const actions = h("section", { class: "panel wide actions-panel batch-actions", hidden: true },
    h("h2", {}, h("span", {}, "Actions")), h("div", { class: "job-actions" }, cancelBtn), signIn, actionMsg);
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "← All jobs")),
    h("div", { class: "node-head" }, h("div", { class: "node-title" }, title, sub), counts),
    loadError,
    h("div", { class: "batch-progress" }, progress.el),
    actions,
    pivotPanel,
    h("section", { class: "panel wide" }, h("div", { class: "table-wrap" }, table), note));

  cancelBtn.addEventListener("click", () => {
    const open = batch ? batch.jobs.filter((j) => !isFinal(j.status)).length : 0;
    if (!window.confirm(`Cancel the ${open} ${open === 1 ? "job" : "jobs"} of this batch that have not ended?`)) return;
    withAdmin(signIn, actionMsg, async () => {
      const out = await adminPost(`/api/batches/${encodeURIComponent(id)}/cancel`);
      const n = out.cancelled.length;
      setText(actionMsg, n ? `Cancelled ${n} ${n === 1 ? "job" : "jobs"}.` : "Every job of this batch had already ended.");
      poller.run();
    });
  });

  function drawPivot(type, cols, rank, dir) {
    const grid = batch.spec?.grid;
    if (!grid || Object.keys(grid).length !== 2 || !rank) { pivotPanel.hidden = true; return; }
    const label = cols[0][1];
    const p = pivot(batch.jobs, grid, (j) => parseFactors(j.label), rank, dir);
    setText(pivotTitle, `${label} over the grid`);
    pivotHost.replaceChildren(pivotTable(p, label, value, (j) => jobHref(j.id), (j) => outcome(j).text));
    setText(pivotNote, p.best == null ? "Cells fill in as the scenarios finish."
      : `${dir > 0 ? "Lower" : "Higher"} is better: the best scenario is outlined, the greener the closer to it. `
        + "Click a cell for its job.");
    pivotPanel.hidden = false;
  }

  function header(key, label, numeric) {
    const active = sort.key === key;
    const btn = h("button", { type: "button", class: "sort" }, label, h("span", { class: "arrow", "aria-hidden": "true" },
      active ? (sort.dir > 0 ? " ▲" : " ▼") : ""));
    btn.addEventListener("click", () => {
      sort.dir = active ? -sort.dir : 1;
      sort.key = key;
      draw();
    });
    return h("th", { scope: "col", class: numeric ? "num" : null, dataset: { key },
                     "aria-sort": active ? (sort.dir > 0 ? "ascending" : "descending") : "none" }, btn);
  }

  function draw() {
    if (!batch) return;
    const jobs = batch.jobs;
    const type = batch.spec?.type || jobs[0]?.type || "";
    const factors = batch.spec?.grid ? Object.keys(batch.spec.grid) : [];
    const cols = columnsFor(type, jobs);
    const rank = cols[0]?.[0];
    const dir = better(type, jobs);
    const rows = jobs.map((j) => ({ job: j, f: parseFactors(j.label) }));
    const done = rows.filter((r) => r.job.status === "succeeded" && typeof r.job.result?.[rank] === "number");
    const best = done.length ? done.reduce((a, b) => (dir * (b.job.result[rank] - a.job.result[rank]) < 0 ? b : a)) : null;
    const bestV = best?.job.result[rank];
    const maxV = done.length ? Math.max(...done.map((r) => Math.abs(r.job.result[rank]))) : 0;

    const get = (r, key) => {
      if (key === "id") return r.job.id;
      if (key === "status") return jobStatuses().indexOf(r.job.status);
      if (key === "label") return r.job.label;
      if (key === "node") return r.job.claimed_by;
      if (key.startsWith("f:")) return r.f[key.slice(2)];
      if (key === "vs") return r.job.result?.[rank] != null && bestV != null ? dir * (r.job.result[rank] - bestV) : null;
      return r.job.result?.[key.slice(2)];
    };
    rows.sort((a, b) => {
      const va = get(a, sort.key), vb = get(b, sort.key);
      const c = compare(va, vb) * (va == null || vb == null ? 1 : sort.dir);  // blanks stay last
      return c || a.job.id - b.job.id;
    });

    table.replaceChildren(
      h("thead", {}, h("tr", {},
        header("id", "Job", true),
        ...(factors.length ? factors.map((f) => header(`f:${f}`, f.replace(/_/g, " "), true)) : [header("label", "Label", false)]),
        header("status", "Status", false),
        ...cols.map(([k, label]) => header(`r:${k}`, label, k !== "status")),
        ...(rank ? [header("vs", "vs best", true)] : []),
        header("node", "Machine", false))),
      h("tbody", {}, ...rows.map((r) => {
        const j = r.job;
        const res = j.result || {};
        const isBest = best && j.id === best.job.id;
        const vs = get(r, "vs");
        return h("tr", { class: isBest ? "best" : null, dataset: { job: j.id, status: j.status } },
          h("td", { class: "num" }, h("a", { href: jobHref(j.id) }, `#${j.id}`), isBest ? h("span", { class: "best-tag" }, "best") : null),
          ...(factors.length ? factors.map((f) => h("td", { class: "num factor" }, r.f[f] != null ? `× ${r.f[f]}` : "–"))
            : [h("td", {}, j.label || "–")]),
          h("td", {}, outcomeBadge(j)),
          ...cols.map(([k, , show], i) => {
            const v = res[k];
            if (i === 0 && typeof v === "number" && maxV > 0) {
              return h("td", { class: "num ranked" },
                h("span", { class: "cell-bar", style: { width: `${((Math.abs(v) / maxV) * 100).toFixed(1)}%` } }),
                h("span", {}, show(v)));
            }
            if (k === "status" || i === 0) {
              return h("td", { class: k === "status" ? null : "num", title: j.status === "failed" ? j.error : null },
                j.status === "failed" && i === 0 ? h("span", { class: "error" }, (j.error || "failed").split("\n")[0]) : show(v));
            }
            return h("td", { class: k === "status" ? null : "num" }, show(v));
          }),
          ...(rank ? [h("td", { class: "num" }, vs == null ? "–" : vs === 0 ? "best"
            : `+${value(Math.abs(vs))}${bestV ? ` (${((Math.abs(vs) / Math.abs(bestV)) * 100).toFixed(1)} %)` : ""}`)] : []),
          h("td", {}, j.claimed_by ? h("a", { href: nodeHref(j.claimed_by) }, j.claimed_by) : "–"));
      })));

    drawPivot(type, cols, rank, dir);
    const finished = jobs.filter((j) => isFinal(j.status)).length;
    setText(note, best
      ? `Best: job #${best.job.id} (${best.job.label || "no label"}) with ${cols[0][1].toLowerCase()} ${value(bestV)}. `
        + "Click a column heading to sort."
      : finished < jobs.length ? "The best scenario is highlighted once results arrive." : "No job in this batch succeeded.");
  }

  function render(b) {
    batch = b;
    const type = b.spec?.type || b.jobs[0]?.type || "";
    setText(title, b.label || b.spec?.label || `Batch ${b.id}`);
    const grid = b.spec?.grid ? Object.entries(b.spec.grid).map(([k, v]) => `${k} × ${v.join(", ")}`).join("; ") : "";
    setText(sub, [type, grid, `${b.total} ${b.total === 1 ? "job" : "jobs"}`].filter(Boolean).join(" · "));
    const by = {};
    for (const j of b.jobs) by[j.status] = (by[j.status] || 0) + 1;
    const statuses = [...new Set([...jobStatuses(), ...Object.keys(by)])];
    setText(counts, statuses.filter((s) => by[s]).map((s) => `${by[s]} ${s}`).join(" · "));
    const finished = b.jobs.filter((j) => isFinal(j.status)).length;
    progress.update({ percent: b.total ? (finished / b.total) * 100 : 100 });
    actions.hidden = finished >= b.total && !actionMsg.textContent;
    cancelBtn.hidden = finished >= b.total;
    setText(progress.text, `${finished} of ${b.total} finished`);
    draw();
    return finished < b.total;
  }

  const poller = new Poller(async () => {
    const vocab = await loadVocab();
    let b;
    try {
      b = await getJSON(`/api/batches/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        view.replaceChildren(h("div", { class: "empty" }, h("p", {}, `There is no batch ${id} on this hub.`),
          h("p", {}, h("a", { href: "#/jobs" }, "See all jobs"))));
        return false;
      }
      if (e.name === "AuthError") throw e;
      setText(loadError, `Could not load this batch: ${e.message}`);
      loadError.hidden = false;
      return true;
    }
    loadError.hidden = !vocab.error;
    if (vocab.error) setText(loadError, vocabError(vocab.error));
    return render(b);
  });
  poller.run();
  return () => poller.stop();
}
