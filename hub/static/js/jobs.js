// The job queue: filters (status, type, machine), live every 2 s, progress bars for
// running jobs. Also the small pieces the job and batch pages share.

import { getJSON } from "./api.js";
import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { uploadPanel } from "./upload.js";
import { jobStatuses, loadVocab, toneOf, vocabError } from "./vocab.js";

export const POLL_MS = 2000;
const PAGE_SIZE = 50;

export function jobHref(id) { return `#/jobs/${encodeURIComponent(id)}`; }
export function batchHref(id) { return `#/batch/${encodeURIComponent(id)}`; }
export function nodeHref(id) { return `#/node/${encodeURIComponent(id)}`; }

/** A status pill; `data-tone` (the hub's tone of the status, vocab.js) drives its colour. */
export function statusBadge(status) {
  return h("span", { class: "job-status", dataset: { status, tone: toneOf(status) } }, status);
}

const NO_SOLUTION = new Set(["infeasible", "unbounded", "infeasible_or_unbounded", "model_invalid", "unknown", "error",
                             "empty_model"]);

/**
 * What a job came to, as its pill says it: a run that ended without a solution (infeasible,
 * unbounded, or stopped before finding one) is its own amber outcome, never a green "succeeded".
 */
export function outcome(job) {
  if (job.status !== "succeeded" || !job.result) return { key: job.status, text: job.status, tone: toneOf(job.status) };
  const st = String(job.result.status || "").toLowerCase();
  const found = job.result.objective != null || job.result.makespan != null;
  if (NO_SOLUTION.has(st) || !found && (st || "objective" in job.result || "makespan" in job.result)) {
    const text = st.includes("infeasible") ? "infeasible" : st === "unbounded" ? "unbounded" : "no solution";
    return { key: "nosolution", text, tone: "warn" };
  }
  return { key: "succeeded", text: "succeeded", tone: toneOf("succeeded") };
}

export function setStatusBadge(el, status, text = status, tone = toneOf(status)) {
  if (el.dataset.status !== status) el.dataset.status = status;
  if (el.dataset.tone !== tone) el.dataset.tone = tone;
  setText(el, text);
}

export function outcomeBadge(job) {
  const o = outcome(job);
  return h("span", { class: "job-status", dataset: { status: o.key, tone: o.tone } }, o.text);
}

export function setOutcomeBadge(el, job) {
  const o = outcome(job);
  setStatusBadge(el, o.key, o.text, o.tone);
}

/** A number as people read it: integers whole, others to a few significant digits. */
export function value(v) {
  if (v == null) return "–";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString(undefined);
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString(undefined, { maximumFractionDigits: 1 });
  if (a >= 1 || a === 0) return v.toLocaleString(undefined, { maximumFractionDigits: 3 });
  return v.toPrecision(3);
}

export function gapText(g) {
  if (g == null || !Number.isFinite(g)) return "–";
  return g === 0 ? "0 %" : `${(g * 100).toFixed(g < 0.001 ? 3 : 2)} %`;
}

export function seconds(s) {
  if (s == null || !Number.isFinite(s)) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return fmt.duration(s);
}

/**
 * The share of its time limit a running job has used, as the solver reports it (`percent`),
 * or from `elapsed` and `time_limit`. The gap is a separate figure: a MIP can close most of
 * its gap early and still run to its limit, so mixing the two promised an early end.
 */
export function progressShare(progress) {
  if (!progress) return null;
  if (Number.isFinite(progress.percent)) return Math.max(0, Math.min(1, progress.percent / 100));
  if (Number.isFinite(progress.elapsed) && progress.time_limit > 0) return Math.min(1, progress.elapsed / progress.time_limit);
  return null;
}

/** A progress bar with its text beside it; `update(progress, text)` moves it in place (the
 * text of a job is the hub's `progress_text`, written once in forge_contracts). */
export class ProgressBar {
  constructor() {
    this.fill = h("i");
    this.bar = h("div", { class: "bar job-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, this.fill);
    this.text = h("span", { class: "job-progress-text" });
    this.el = h("div", { class: "job-progress" }, this.bar, this.text);
  }

  update(progress, text) {
    const share = progressShare(progress);
    const t = `scaleX(${(share ?? 0).toFixed(3)})`;
    if (this.fill.style.transform !== t) this.fill.style.transform = t;
    this.bar.classList.toggle("indeterminate", share == null);
    setAttr(this.bar, "aria-valuenow", share == null ? "0" : (share * 100).toFixed(0));
    setText(this.text, text ?? "");
  }
}

/** A poller that skips hidden tabs and stops when the page is left; `run()` fetches now. */
export class Poller {
  constructor(fn, ms = POLL_MS) {
    this.fn = fn;
    this.ms = ms;
    this.timer = 0;
    this.stopped = false;
    this.busy = false;
    this.onVisible = () => { if (!document.hidden) this.run(); };
    document.addEventListener("visibilitychange", this.onVisible);
  }

  async run() {
    clearTimeout(this.timer);
    if (this.stopped || this.busy) return;
    this.busy = true;
    let again = true;
    try { again = (await this.fn()) !== false; } catch (e) { if (e?.name === "AuthError") again = false; }
    this.busy = false;
    if (again && !this.stopped && !document.hidden) this.timer = setTimeout(() => this.run(), this.ms);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
  }
}

function sinceCreated(job, now) {
  return fmt.ago(now - job.created_at);
}

function runTime(job, now) {
  if (!job.claimed_at) return "–";
  return seconds((job.finished_at || now) - job.claimed_at);
}

/** One queue row, built once and updated in place as the job moves on. */
class Row {
  constructor(job) {
    this.id = job.id;
    this.status = statusBadge(job.status);
    this.label = h("td", { class: "job-label" });
    this.progress = new ProgressBar();
    this.summary = h("span", { class: "job-summary" });
    this.resultCell = h("td", { class: "job-result" }, this.progress.el, this.summary);
    this.node = h("td");
    this.attempts = h("td", { class: "num" });
    this.created = h("td", { class: "num" });
    this.took = h("td", { class: "num" });
    this.el = h("tr", { dataset: { job: job.id } },
      h("td", { class: "num" }, h("a", { href: jobHref(job.id) }, `#${job.id}`)),
      h("td", {}, job.type),
      this.label,
      h("td", {}, this.status),
      this.resultCell, this.node, this.attempts, this.created, this.took);
    this.key = "";
  }

  update(job, now) {
    setOutcomeBadge(this.status, job);
    this.el.dataset.status = job.status;
    const key = `${job.status}|${job.claimed_by}|${job.label}|${job.batch_id}|${job.attempt_count}|${JSON.stringify(job.result)}|${job.error}|${job.waiting}`;
    if (key !== this.key) {
      this.key = key;
      this.label.replaceChildren(...[
        job.label ? h("span", {}, job.label) : null,
        job.batch_id ? h("a", { class: "job-batch", href: batchHref(job.batch_id), title: "Compare this batch's results" },
          job.label ? "batch" : `batch ${job.batch_id}`) : null,
        !job.label && !job.batch_id ? h("span", { class: "muted" }, "–") : null].filter(Boolean));
      this.node.replaceChildren(job.claimed_by ? h("a", { href: nodeHref(job.claimed_by) }, job.claimed_by) : h("span", { class: "muted" }, "–"));
      setText(this.attempts, `${job.attempt_count}/${job.max_attempts}`);
      const summary = job.status === "pending" && job.waiting ? `waiting: ${job.waiting}` : job.summary || "";
      setText(this.summary, summary);
      this.summary.classList.toggle("error", job.status === "failed");
      this.summary.classList.toggle("job-waiting", job.status === "pending");
      setAttr(this.summary, "title", job.status === "failed" ? (job.error || "") : summary);
    }
    const running = job.status === "running";
    this.progress.el.hidden = !running;
    this.summary.hidden = running;
    if (running) this.progress.update(job.progress, job.progress_text);
    setText(this.created, sinceCreated(job, now));
    setAttr(this.created, "title", fmt.dateTime(job.created_at));
    setText(this.took, runTime(job, now));
  }
}

/** Filters live in the hash (#/jobs?status=failed&type=prodplan) so a view can be linked. */
function readFilters() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  return { status: q.get("status") || "", type: q.get("type") || "", node: q.get("node") || "",
           offset: Math.max(0, parseInt(q.get("offset") || "0", 10) || 0) };
}

function writeFilters(f) {
  const q = new URLSearchParams();
  for (const k of ["status", "type", "node"]) if (f[k]) q.set(k, f[k]);
  if (f.offset) q.set("offset", String(f.offset));
  const s = q.toString();
  history.replaceState(null, "", `#/jobs${s ? `?${s}` : ""}`);
}

function select(label, options, current) {
  const el = h("select", { "aria-label": label },
    ...options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = current;
  return el;
}

function fillOptions(el, options) {
  const want = options.map(([v, t]) => `${v}=${t}`).join("|");
  if (el.dataset.opts === want) return;
  const cur = el.value;
  el.replaceChildren(...options.map(([v, text]) => h("option", { value: v }, text)));
  el.dataset.opts = want;
  el.value = options.some(([v]) => v === cur) ? cur : options[0][0];
}

export function renderJobs(view) {
  const f = readFilters();
  const rows = new Map();
  let serverSkew = 0;

  const counts = h("span", { class: "counts", "aria-live": "polite" });
  const statusSel = select("Show status", [["", "All statuses"], ...(f.status ? [[f.status, f.status]] : [])], f.status);
  const typeSel = select("Show type", [["", "All types"], ...(f.type ? [[f.type, f.type]] : [])], f.type);
  const nodeSel = select("Show machine", [["", "All machines"], ...(f.node ? [[f.node, f.node]] : [])], f.node);
  const tbody = h("tbody");
  const table = h("table", { class: "jobs-table" },
    h("thead", {}, h("tr", {}, ...["Job", "Type", "Label", "Status", "Progress / result", "Machine", "Attempts", "Submitted", "Run time"]
      .map((t, i) => h("th", { scope: "col", class: i === 0 || i >= 6 ? "num" : null }, t)))),
    tbody);
  const empty = h("div", { class: "empty", hidden: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const prev = h("button", { type: "button" }, "← Newer");
  const next = h("button", { type: "button" }, "Older →");
  const pageInfo = h("span", { class: "muted" });
  const pager = h("div", { class: "pager jobs-pager" }, prev, pageInfo, next);
  const poller = new Poller(load);
  const upload = uploadPanel(() => poller.run());
  const uploadBtn = h("button", { type: "button", "aria-expanded": "false" }, "Submit a file…");
  uploadBtn.addEventListener("click", () => { upload.toggle(); setAttr(uploadBtn, "aria-expanded", String(!upload.el.hidden)); });
  view.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Jobs"), counts, h("span", { class: "grow" }), statusSel, typeSel, nodeSel,
      uploadBtn),
    upload.el, error, h("div", { class: "table-wrap" }, table), empty, pager);

  async function load() {
    const vocab = await loadVocab();
    const q = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(f.offset) });
    for (const k of ["status", "type", "node"]) if (f[k]) q.set(k, f[k]);
    let body;
    try {
      body = await getJSON(`/api/jobs?${q}`);
    } catch (e) {
      if (e.name === "AuthError") throw e;
      error.hidden = false;
      setText(error, `Could not load the queue: ${e.message}`);
      return true;
    }
    error.hidden = !vocab.error;
    if (vocab.error) setText(error, vocabError(vocab.error));
    render(body);
    return true;
  }

  async function loadNodes() {
    try {
      const fleet = await getJSON("/api/fleet");
      serverSkew = fleet.now - Date.now() / 1000;
      const ids = fleet.nodes.map((n) => n.id).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      if (f.node && !ids.includes(f.node)) ids.push(f.node);
      fillOptions(nodeSel, [["", "All machines"], ...ids.map((id) => [id, id])]);
    } catch { /* the filter keeps what it has */ }
  }

  function render(body) {
    if (Number.isFinite(body.now)) serverSkew = body.now - Date.now() / 1000;
    const now = Date.now() / 1000 + serverSkew;
    const c = body.counts || {};
    const statuses = jobStatuses(c);
    setText(counts, statuses.map((s) => `${c[s] || 0} ${s}`).join(" · "));
    fillOptions(statusSel, [["", "All statuses"], ...statuses.map((s) => [s, s])]);
    const types = [...new Set([...(body.types || []), ...(f.type ? [f.type] : [])])];
    fillOptions(typeSel, [["", "All types"], ...types.map((t) => [t, t])]);
    upload.setTypes(body.types || []);

    const seen = new Set();
    const ordered = body.jobs.map((job) => {
      let row = rows.get(job.id);
      if (!row) { row = new Row(job); rows.set(job.id, row); }
      row.update(job, now);
      seen.add(job.id);
      return row.el;
    });
    for (const [id, row] of rows) if (!seen.has(id)) { row.el.remove(); rows.delete(id); }
    const current = tbody.children;
    let same = current.length === ordered.length;
    for (let i = 0; same && i < ordered.length; i++) same = current[i] === ordered[i];
    if (!same) tbody.append(...ordered);

    const filtered = f.status || f.type || f.node;
    table.hidden = !body.jobs.length;
    empty.hidden = body.jobs.length > 0;
    if (!body.jobs.length) {
      empty.replaceChildren(...(filtered
        ? [h("p", {}, "No job matches these filters.")]
        : [h("p", {}, "The queue is empty."),
           h("p", { class: "muted" }, "Submit work with Submit a file… above or ", h("code", {}, "forge jobs submit FILE"),
             " (a JSON job, a JSPLIB instance or an MPS/LP model), or POST it to ", h("code", {}, "/api/jobs"), ".")]));
    }
    const from = body.total ? f.offset + 1 : 0;
    setText(pageInfo, `${from}–${f.offset + body.jobs.length} of ${body.total}`);
    prev.disabled = f.offset === 0;
    next.disabled = f.offset + body.jobs.length >= body.total;
    pager.hidden = body.total <= PAGE_SIZE && f.offset === 0;
  }

  const onFilter = () => {
    f.status = statusSel.value;
    f.type = typeSel.value;
    f.node = nodeSel.value;
    f.offset = 0;
    writeFilters(f);
    poller.run();
  };
  statusSel.addEventListener("change", onFilter);
  typeSel.addEventListener("change", onFilter);
  nodeSel.addEventListener("change", onFilter);
  prev.addEventListener("click", () => { f.offset = Math.max(0, f.offset - PAGE_SIZE); writeFilters(f); poller.run(); });
  next.addEventListener("click", () => { f.offset += PAGE_SIZE; writeFilters(f); poller.run(); });

  loadNodes();
  const nodeTimer = setInterval(loadNodes, 30000);
  poller.run();
  return () => { poller.stop(); clearInterval(nodeTimer); };
}
