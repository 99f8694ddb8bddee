// The fleet: one card per node, or a sortable table (the choice remembered), live over the
// fleet SSE and updated in place; a summary line of cores busy with jobs and the queue.

import { getJSON, Stream } from "./api.js";
import { firingNodes, onAlerts } from "./alertstate.js";
import { Sparkline } from "./charts.js";
import { h, setText, setAttr } from "./dom.js";
import * as fmt from "./format.js";

const STATUS_RANK = { online: 0, degraded: 1, offline: 2 };
const PREFS_KEY = "forge.fleetPrefs";
const LIVE_RESORT_MS = 10000;
const DETAIL_REFRESH_MS = 15000; // the table's columns beyond CPU and memory come from GET /api/fleet
const JOBS_REFRESH_MS = 5000;
// Amber / red thresholds for bars, in both views.
export const LIMITS = { cpu: [75, 90], mem: [80, 92], gpu: [75, 90], disk: [85, 95], temp: [80, 90] };

// fmt.naturalCompare, not localeCompare with options, which builds a collator per call (73 ms of a 500-card sort).
const SORTS = {
  name: (a, b) => fmt.naturalCompare(a.name ?? a.id, b.name ?? b.id),
  status: (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || SORTS.name(a, b),
  cpu: (a, b) => (b.cpu ?? -1) - (a.cpu ?? -1) || SORTS.name(a, b),
  mem: (a, b) => (b.mem ?? -1) - (a.mem ?? -1) || SORTS.name(a, b),
  gpu: (a, b) => (b.gpu_percent ?? -1) - (a.gpu_percent ?? -1) || SORTS.name(a, b),
  seen: (a, b) => b.last_seen - a.last_seen || SORTS.name(a, b),
};

/** What the table shows beyond the fleet summary, from the node's latest sample. */
function details(n) {
  const s = n.latest || {};
  const mounts = s.disk?.mounts || [];
  const fullest = mounts.reduce((m, x) => (x.percent != null && (!m || x.percent > m.percent) ? x : m), null);
  const temps = (s.cpu?.temp_c || []).filter((v) => v != null && Number.isFinite(v));
  const temp = s.cpu?.package_temp_c ?? (temps.length ? Math.max(...temps) : null);
  const cores = n.cores || s.cpu?.per_core?.length || null;
  return { disk: fullest, temp, loadPerCore: s.load && cores ? s.load[0] / cores : null, uptime: s.uptime_s ?? null,
           rx: s.net?.rx_bps ?? null, tx: s.net?.tx_bps ?? null };
}

const num = (f) => (a, b) => {
  const x = f(a), y = f(b);
  return (y ?? -Infinity) - (x ?? -Infinity) || SORTS.name(a, b);
};
const text = (f) => (a, b) => fmt.naturalCompare(String(f(a) || ""), String(f(b) || "")) || SORTS.name(a, b);

/** The table's columns: key, header, sort (the natural direction: busiest, newest first), cell class. */
const COLUMNS = [
  ["status", "Status", SORTS.status],
  ["name", "Name", SORTS.name],
  ["os", "OS", text((n) => fmt.friendlyOS(n.os, n.os_version))],
  ["cpu", "CPU", SORTS.cpu, "num"],
  ["mem", "Memory", SORTS.mem, "num"],
  ["gpu", "GPU", SORTS.gpu, "num"],
  ["disk", "Fullest disk", num((n) => details(n).disk?.percent), "num"],
  ["net", "Net rx / tx", num((n) => (details(n).rx ?? 0) + (details(n).tx ?? 0)), "num"],
  ["temp", "Hottest", num((n) => details(n).temp), "num"],
  ["load", "Load / core", num((n) => details(n).loadPerCore), "num"],
  ["uptime", "Uptime", num((n) => details(n).uptime), "num"],
  ["agent", "Agent", text((n) => n.agent_version)],
  ["job", "Current job", text((n) => n.currentJob?.id)],
  ["seen", "Last seen", SORTS.seen, "num"],
];
const COLUMN_SORT = Object.fromEntries(COLUMNS.map(([k, , f]) => [k, f]));

function setLevel(el, lvl) {
  if ((el.dataset.level || "") !== lvl) { if (lvl) el.dataset.level = lvl; else delete el.dataset.level; }
}

/** "python3 (99.5 % of one core)": the busiest process of the node's newest list, for tooltips. */
function topText(top) {
  return top ? `${top.name || "?"} (${fmt.pct(top.cpu_percent, 1)} of one core)` : "";
}

function jobText(job) {
  return job ? `#${job.id} ${job.type}` : "";
}
/** Sort keys whose order changes with every sample: re-sorted at most every 10 s, so cards don't jump. */
const VOLATILE = new Set(["cpu", "mem", "seen"]);

function loadPrefs() {
  const base = { sort: "name", status: "all", q: "", view: "cards", tableSort: "name", tableDesc: false };
  try { return { ...base, ...JSON.parse(localStorage.getItem(PREFS_KEY) || "{}") }; }
  catch { return base; }
}

function savePrefs(p) {
  try { localStorage.setItem(PREFS_KEY, JSON.stringify(p)); } catch { /* ignore */ }
}

function nodeHref(id) {
  return `#/node/${encodeURIComponent(id)}`;
}

let cardTemplate = null;

/** The empty card, built once with `h`; each card is a deep clone (500 clones cost a fraction of 500 builds). */
function cardSkeleton() {
  if (!cardTemplate) {
    const bar = (cls) => h("div", { class: cls }, h("i"));
    cardTemplate = h("a", { class: "card" },
      h("div", { class: "card-head" }, h("span", { class: "dot", role: "img" }), h("span", { class: "card-name" }),
        h("span", { class: "card-os" })),
      h("div", { class: "metric" }, h("span", { class: "lbl" }, "CPU"), bar("bar"), h("span", { class: "val" })),
      h("div", { class: "metric" }, h("span", { class: "lbl" }, "Mem"), bar("bar mem"), h("span", { class: "val" })),
      new Sparkline(30).el,
      h("div", { class: "card-foot" }, h("span", { class: "jobs" }), h("span", { class: "seen" })));
  }
  return cardTemplate.cloneNode(true);
}

/** One node's card: built once, then `update` touches only what changed. */
class Card {
  constructor(node) {
    this.id = node.id;
    this.el = cardSkeleton();
    const [head, cpu, mem, spark, foot] = this.el.children;
    [this.dot, this.name, this.os] = head.children;
    this.cpuBar = cpu.children[1].firstChild;
    this.cpuVal = cpu.children[2];
    this.memBar = mem.children[1].firstChild;
    this.memVal = mem.children[2];
    this.spark = new Sparkline(30, `CPU history of ${node.name}`, spark);
    [this.jobs, this.seen] = foot.children;
    this.el.href = nodeHref(node.id);
    this.el.dataset.node = node.id;
    this.lastSampleTs = null;
    this.node = {};
  }

  update(node, full) {
    this.node = { ...this.node, ...node };
    const n = this.node;
    setText(this.name, n.name);
    setText(this.os, [fmt.friendlyOS(n.os, n.os_version), fmt.arch(n.arch)].filter(Boolean).join(" · "));
    setAttr(this.el, "title", `${n.hostname || n.name} — ${n.os || ""} ${n.os_version || ""} ${n.arch || ""}`.trim() +
      (n.top_process ? `\nBusiest process: ${topText(n.top_process)}` : ""));
    this.setStatus(n.status);
    this.setBar(this.cpuBar, this.cpuVal, n.cpu, "CPU");
    setLevel(this.cpuBar.parentNode, fmt.level(n.cpu, ...LIMITS.cpu));
    const memTitle = n.latest?.memory ? `${fmt.bytes(n.latest.memory.used)} of ${fmt.bytes(n.latest.memory.total)}` : null;
    this.setBar(this.memBar, this.memVal, n.mem, "Memory", memTitle);
    setLevel(this.memBar.parentNode, fmt.level(n.mem, ...LIMITS.mem));
    this.setGpu(n.gpu_percent);
    this.setJob(n.currentJob);
    if (full) {
      this.spark.set(n.spark || (node.spark_tail?.length ? node.spark_tail : (n.cpu != null ? [n.cpu] : [])));
    } else if (node.spark_tail && node.spark_tail.length) {
      for (const v of node.spark_tail) this.spark.push(v);
    } else if (n.last_sample_ts != null && n.last_sample_ts !== this.lastSampleTs) {
      this.spark.push(n.cpu);
    }
    this.lastSampleTs = n.last_sample_ts ?? this.lastSampleTs;
  }

  /** The GPU row, built the first time the node reports a GPU (most cards never pay for it). */
  setGpu(v) {
    if (v == null && !this.gpuRow) return;
    if (!this.gpuRow) {
      this.gpuBar = h("i");
      this.gpuVal = h("span", { class: "val" });
      this.gpuRow = h("div", { class: "metric gpu" }, h("span", { class: "lbl" }, "GPU"),
        h("div", { class: "bar gpu" }, this.gpuBar), this.gpuVal);
      this.el.insertBefore(this.gpuRow, this.spark.el);
    }
    this.gpuRow.hidden = v == null;
    if (v != null) {
      this.setBar(this.gpuBar, this.gpuVal, v, "GPU (mean of its GPUs)");
      setLevel(this.gpuBar.parentNode, fmt.level(v, ...LIMITS.gpu));
    }
  }

  setJob(job) {
    const j = this.node.jobs || { running: 0, done: 0 };
    setText(this.jobs, job ? `running ${jobText(job)}${j.running > 1 ? ` +${j.running - 1}` : ""} · ${j.done} done`
      : `${j.running} running · ${j.done} done`);
  }

  setStatus(status) {
    if (this.el.dataset.status !== status) {
      this.el.dataset.status = status;
      setAttr(this.dot, "aria-label", status);
      setAttr(this.dot, "title", status);
    }
  }

  setBar(bar, label, v, what, extra = null) {
    const clamped = v == null ? 0 : Math.max(0, Math.min(100, v));
    const t = `scaleX(${(clamped / 100).toFixed(3)})`;
    if (bar.style.transform !== t) bar.style.transform = t;
    setText(label, fmt.pct(v));
    setAttr(label, "title", v == null ? `${what}: no data` : `${what} ${v.toFixed(1)} %${extra ? ` (${extra})` : ""}`);
  }

  tick(serverNow) {
    setText(this.seen, fmt.ago(coarseAge(serverNow - this.node.last_seen)));
  }

  /** The "last seen" tooltip, written when the pointer reaches it: formatting 500 dates on every push
   * was the largest script cost of a live fleet page, for tooltips nobody was looking at. */
  titleSeen() {
    setAttr(this.seen, "title", `last push ${fmt.dateTime(this.node.last_seen)}`);
  }
}

/**
 * One node's table row: cells built once, texts set only when they change, and only while the
 * row is on screen (`onScreen`, kept by an IntersectionObserver): 500 rows changing text every
 * few seconds cost a table layout each time, where the 30 in view cost little.
 */
class TableRow {
  constructor(node) {
    this.id = node.id;
    this.onScreen = false;
    this.stale = true;
    this.cells = {};
    this.dot = h("span", { class: "dot", role: "img" });
    this.statusText = h("span", { class: "status-text" });
    this.nameLink = h("a", { href: nodeHref(node.id) });
    this.cpuBar = h("i"); this.memBar = h("i"); this.gpuBar = h("i"); this.diskBar = h("i");
    this.jobLink = h("a");
    const bar = (i, cls) => h("div", { class: `bar ${cls}` }, i);
    const td = (key, ...kids) => (this.cells[key] = h("td", { class: COLUMNS.find((c) => c[0] === key)[3] || null,
                                                             dataset: { col: key } }, ...kids));
    this.vals = {};
    const val = (key) => (this.vals[key] = h("span", { class: "val" }));
    this.el = h("tr", { dataset: { node: node.id } },
      td("status", h("span", { class: "cell-status" }, this.dot, this.statusText)), td("name", this.nameLink), td("os"),
      td("cpu", h("div", { class: "cell-bar" }, bar(this.cpuBar, "cpu"), val("cpu"))),
      td("mem", h("div", { class: "cell-bar" }, bar(this.memBar, "mem"), val("mem"))),
      td("gpu", h("div", { class: "cell-bar" }, bar(this.gpuBar, "gpu"), val("gpu"))),
      td("disk", h("div", { class: "cell-bar" }, bar(this.diskBar, "disk"), val("disk"))),
      td("net"), td("temp"), td("load"), td("uptime"), td("agent"), td("job", this.jobLink), td("seen"));
  }

  update(n) {
    this.node = n;
    if (!this.onScreen) { this.stale = true; return; }
    this.stale = false;
    if (this.el.dataset.status !== n.status) { this.el.dataset.status = n.status; setAttr(this.dot, "aria-label", n.status); }
    setText(this.statusText, n.status);
    setText(this.nameLink, n.name);
    setText(this.cells.os, [fmt.friendlyOS(n.os, n.os_version), fmt.arch(n.arch)].filter(Boolean).join(" · "));
    const d = details(n);
    this.bar(this.cpuBar, this.vals.cpu, n.cpu, fmt.pct(n.cpu), LIMITS.cpu);
    this.bar(this.memBar, this.vals.mem, n.mem, fmt.pct(n.mem), LIMITS.mem);
    this.bar(this.gpuBar, this.vals.gpu, n.gpu_percent, n.gpu_percent == null ? "–" : fmt.pct(n.gpu_percent), LIMITS.gpu);
    this.cells.gpu.classList.toggle("none", n.gpu_percent == null);
    setAttr(this.cells.gpu, "title", n.gpu_percent == null ? "no GPU reported" : `mean GPU utilisation ${fmt.pct(n.gpu_percent, 1)}`);
    setAttr(this.nameLink, "title", n.top_process ? `Busiest process: ${topText(n.top_process)}` : "");
    this.bar(this.diskBar, this.vals.disk, d.disk?.percent, fmt.pct(d.disk?.percent), LIMITS.disk);
    setAttr(this.cells.disk, "title", d.disk ? `${d.disk.mount}: ${fmt.bytes(d.disk.used)} of ${fmt.bytes(d.disk.total)}` : "no disk data");
    setText(this.cells.net, d.rx == null && d.tx == null ? "–" : `${fmt.rate(d.rx)} / ${fmt.rate(d.tx)}`);
    setText(this.cells.temp, fmt.temp(d.temp));
    setLevel(this.cells.temp, fmt.level(d.temp, ...LIMITS.temp));
    setText(this.cells.load, d.loadPerCore == null ? "–" : d.loadPerCore.toFixed(2));
    setText(this.cells.uptime, fmt.duration(d.uptime));
    setText(this.cells.agent, n.agent_version || "–");
    const job = n.currentJob;
    setText(this.jobLink, job ? jobText(job) : "–");
    if (job) setAttr(this.jobLink, "href", `#/jobs/${job.id}`); else this.jobLink.removeAttribute("href");
  }

  bar(i, label, v, textValue, limits) {
    const t = `scaleX(${((v == null ? 0 : Math.max(0, Math.min(100, v))) / 100).toFixed(3)})`;
    if (i.style.transform !== t) i.style.transform = t;
    setLevel(i.parentNode, fmt.level(v, ...limits));
    setText(label, textValue);
  }

  tick(serverNow) {
    if (this.onScreen) setText(this.cells.seen, fmt.ago(coarseAge(serverNow - this.node.last_seen)));
  }

  show(onScreen, serverNow) {
    this.onScreen = onScreen;
    if (onScreen && this.stale) { this.update(this.node); this.tick(serverNow); }
  }
}

/** Ages rounded so the "last seen" text changes every 5 s, not every second, for 500 cards. */
function coarseAge(s) {
  if (s < 5) return 0;
  if (s < 60) return Math.floor(s / 5) * 5;
  return s;
}

/** Performance marks of the page's first load (bench/dashboard_bench.py reports them); later loads add none. */
let marked = false;
function mark(name) {
  if (!marked) performance.mark(name);
}

export function renderFleet(view) {
  mark("fleet:render");
  const prefs = loadPrefs();
  const cards = new Map();
  const rows = new Map();
  const pending = new Map();
  const pendingAt = new Map(); // the hub's clock at a pending node's newest event
  let runningByNode = new Map();
  let cardsBehind = false;
  let queue = null;
  let thresholds = { degraded_s: 15, offline_s: 60 };
  let clockOffset = 0;
  let frame = 0;
  let resortDue = true;
  let lastResort = 0;

  const search = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter by name", value: prefs.q });
  const statusSel = h("select", { "aria-label": "Show status" },
    ...["all", "online", "degraded", "offline"].map((s) => h("option", { value: s }, s === "all" ? "All statuses" : s)));
  const sortSel = h("select", { "aria-label": "Sort by" },
    ...[["name", "Name"], ["status", "Status"], ["cpu", "CPU"], ["mem", "Memory"], ["seen", "Last seen"]]
      .map(([v, l]) => h("option", { value: v }, `Sort: ${l}`)));
  statusSel.value = prefs.status;
  sortSel.value = prefs.sort;
  const counts = h("span", { class: "counts", "aria-live": "polite" });
  const summary = h("p", { class: "fleet-summary muted", "aria-live": "polite" });
  const grid = h("div", { class: "grid", role: "list" });
  grid.addEventListener("pointerover", (ev) => {
    if (ev.target.classList?.contains("seen")) cards.get(ev.target.closest(".card")?.dataset.node)?.titleSeen();
  });
  const empty = h("div", { class: "empty", hidden: true });
  const viewButtons = ["cards", "table"].map((v) => h("button", { type: "button", dataset: { view: v },
    "aria-pressed": String(prefs.view === v), onclick: () => setView(v) }, v === "cards" ? "Cards" : "Table"));
  const headCells = COLUMNS.map(([key, label, , cls]) => h("th", { scope: "col", class: cls || null, dataset: { col: key } },
    h("button", { type: "button", class: "sort", onclick: () => sortTable(key) }, label)));
  const tbody = h("tbody");
  const table = h("table", { class: "fleet-table" }, h("thead", {}, h("tr", {}, ...headCells)), tbody);
  const tableWrap = h("div", { class: "table-wrap fleet-table-wrap" }, table);
  view.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Fleet"), counts, h("span", { class: "grow" }), search, statusSel, sortSel,
      h("div", { class: "ranges view-toggle", role: "group", "aria-label": "View" }, ...viewButtons)),
    summary, grid, tableWrap, empty);

  function setView(v) {
    prefs.view = v;
    savePrefs(prefs);
    for (const b of viewButtons) b.setAttribute("aria-pressed", String(b.dataset.view === v));
    grid.hidden = v !== "cards";
    tableWrap.hidden = v !== "table";
    sortSel.hidden = v !== "cards";
    if (v === "cards" && cardsBehind) { cardsBehind = false; loadAll().catch(() => {}); }
    if (v === "table") {
      const t = now();
      for (const c of cards.values()) ensureRow(c).tick(t);
      arrangeTable();
      refreshDetails();
    }
  }

  const rowByEl = new WeakMap();
  const rowWatch = new IntersectionObserver((entries) => {
    const t = now();
    for (const e of entries) rowByEl.get(e.target)?.show(e.isIntersecting, t);
  }, { rootMargin: "200px 0px" });

  function ensureRow(card) {
    let row = rows.get(card.id);
    if (!row) {
      row = new TableRow(card.node);
      rows.set(card.id, row);
      rowByEl.set(row.el, row);
      rowWatch.observe(row.el);
      row.el.hidden = !visible(card.node);
    }
    row.update(card.node);
    return row;
  }

  function sortTable(key) {
    if (prefs.tableSort === key) prefs.tableDesc = !prefs.tableDesc;
    else { prefs.tableSort = key; prefs.tableDesc = false; }
    savePrefs(prefs);
    arrangeTable();
  }

  function arrangeTable() {
    for (const th of headCells) {
      const on = th.dataset.col === prefs.tableSort;
      th.setAttribute("aria-sort", on ? (prefs.tableDesc ? "descending" : "ascending") : "none");
    }
    if (tableWrap.hidden) return;
    const f = COLUMN_SORT[prefs.tableSort] || SORTS.name;
    const ordered = [...rows.values()].sort((a, b) => (prefs.tableDesc ? -1 : 1) * f(a.node, b.node));
    const current = tbody.children;
    let same = current.length === ordered.length;
    for (let i = 0; same && i < ordered.length; i++) same = current[i] === ordered[i].el;
    if (!same) tbody.append(...ordered.map((r) => r.el));
  }

  const now = () => Date.now() / 1000 + clockOffset;

  function visible(n) {
    if (prefs.status !== "all" && n.status !== prefs.status) return false;
    const q = prefs.q.trim().toLowerCase();
    return !q || n.name.toLowerCase().includes(q) || (n.hostname || "").toLowerCase().includes(q) || n.id.toLowerCase().includes(q);
  }

  function arrange(force = false) {
    const t = performance.now();
    if (!force && VOLATILE.has(prefs.sort) && t - lastResort < LIVE_RESORT_MS) return;
    lastResort = t;
    resortDue = false;
    const ordered = [...cards.values()].sort((a, b) => SORTS[prefs.sort](a.node, b.node));
    const current = grid.children;
    let same = current.length === ordered.length;
    for (let i = 0; same && i < ordered.length; i++) same = current[i] === ordered[i].el;
    if (!same) grid.append(...ordered.map((c) => c.el));
    arrangeTable();
  }

  function refreshVisibility() {
    let shown = 0;
    const byStatus = { online: 0, degraded: 0, offline: 0 };
    for (const c of cards.values()) {
      const v = visible(c.node);
      if (c.el.hidden === v) c.el.hidden = !v;
      const r = rows.get(c.id);
      if (r && r.el.hidden === v) r.el.hidden = !v;
      if (v) shown++;
      byStatus[c.node.status] = (byStatus[c.node.status] || 0) + 1;
    }
    const total = cards.size;
    setText(counts, `${total} ${total === 1 ? "machine" : "machines"} · ${byStatus.online} online · ${byStatus.degraded} degraded · ${byStatus.offline} offline`);
    empty.hidden = shown > 0;
    if (!total) {
      setText(empty, "");
      empty.append(h("p", {}, "No machine has reported to this hub yet."),
        h("p", { class: "muted" }, "Start an agent on a machine: ", h("code", {}, `forge agent --hub ${location.origin} --node-id NAME --token TOKEN`)));
    } else if (!shown) {
      setText(empty, "No machine matches this filter.");
    }
  }

  function upsert(node, full) {
    let card = cards.get(node.id);
    const isNew = !card;
    if (isNew) {
      card = new Card(node);
      cards.set(node.id, card);
      card.el.classList.toggle("alerting", firingNodes().has(node.id));
      resortDue = true;
    }
    const before = card.node.status;
    card.node.currentJob = runningByNode.get(node.id) || null;
    if (grid.hidden && !isNew) {
      // The table is shown: keep the card's data, draw it when the cards come back (refetched whole then).
      card.node = { ...card.node, ...node };
      cardsBehind = true;
    } else {
      card.update(node, full || isNew);
      card.tick(now());
    }
    // Table rows exist only once the table has been shown: the card view's first paint builds no rows.
    if (!tableWrap.hidden) ensureRow(card).tick(now());
    if (before !== card.node.status && (prefs.sort === "status" || prefs.status !== "all")) resortDue = true;
  }

  function flush() {
    frame = 0;
    const hadNew = [...pending.keys()].some((id) => !cards.has(id));
    let unknown = false;
    for (const n of pending.values()) {
      // Events carry identity only when it changes; a node we have never seen in full
      // (its identity went out before this page connected) is fetched whole instead.
      if (!cards.has(n.id) && n.name == null) { unknown = true; continue; }
      upsert(n, false);
    }
    pending.clear();
    pendingAt.clear();
    if (unknown) refetchSoon();
    if (resortDue) arrange(hadNew);
    refreshVisibility();
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(flush);
  }

  let refetching = null;
  function refetchSoon() {
    if (!refetching) refetching = loadAll().catch(() => {}).finally(() => { refetching = null; });
  }

  async function loadAll() {
    const body = await getJSON("/api/fleet");
    mark("fleet:data");
    clockOffset = body.now - Date.now() / 1000;
    thresholds = body.thresholds || thresholds;
    // Events the hub sent before it answered are in this answer already: applying them after it
    // would redo the first paint's work and push their sparkline points twice.
    for (const [id, at] of pendingAt) if (at <= body.now) { pending.delete(id); pendingAt.delete(id); }
    const seen = new Set();
    for (const n of body.nodes) { upsert(n, true); seen.add(n.id); }
    for (const [id, c] of cards) if (!seen.has(id)) { c.el.remove(); cards.delete(id); rows.get(id)?.el.remove(); rows.delete(id); }
    arrange(true);
    refreshVisibility();
    renderSummary();
  }

  /** The table's disk, network, temperature... columns, which fleet events do not carry. */
  async function refreshDetails() {
    if (tableWrap.hidden) return;
    try { await loadAll(); } catch { /* the stream state says so */ }
  }

  /** Which job each node runs, and the queue: GET /api/jobs (running), for cards, rows and the summary. */
  async function loadJobs() {
    let body;
    try { body = await getJSON("/api/jobs?status=running&limit=1000"); } catch { return; }
    const next = new Map();
    let busy = 0;
    for (const j of body.jobs) {
      busy += j.cores || 1;
      if (j.claimed_by && !next.has(j.claimed_by)) next.set(j.claimed_by, { id: j.id, type: j.type });
    }
    runningByNode = next;
    queue = { busy, pending: body.counts?.pending ?? 0, running: body.counts?.running ?? body.jobs.length };
    for (const c of cards.values()) {
      const job = next.get(c.id) || null;
      if ((c.node.currentJob?.id ?? null) !== (job?.id ?? null)) {
        c.node.currentJob = job;
        c.setJob(job);
        rows.get(c.id)?.update(c.node);
      }
    }
    renderSummary();
  }

  function renderSummary() {
    let cores = 0;
    for (const c of cards.values()) if (c.node.status === "online") cores += c.node.cores || 0;
    if (!queue) { setText(summary, cores ? `${cores} cores online` : ""); return; }
    const free = Math.max(0, cores - queue.busy);
    setText(summary, `${queue.busy} of ${cores} online cores busy with jobs · ${free} free · ` +
      `${queue.running} running · queue: ${queue.pending} pending`);
  }

  function localStatus(n, t) {
    const age = t - n.last_seen;
    return age < thresholds.degraded_s ? "online" : age <= thresholds.offline_s ? "degraded" : "offline";
  }

  /** Once a second: ages, and status from last_seen in case a status event was missed. */
  function tick() {
    const t = now();
    let changed = false;
    for (const r of tableWrap.hidden ? [] : rows.values()) r.tick(t);
    for (const c of cards.values()) {
      if (!grid.hidden) c.tick(t);
      const s = localStatus(c.node, t);
      if (s !== c.node.status && STATUS_RANK[s] > STATUS_RANK[c.node.status]) {
        c.node.status = s;
        c.setStatus(s);
        rows.get(c.id)?.update(c.node);
        changed = true;
      }
    }
    if (changed) { if (prefs.sort === "status") arrange(true); refreshVisibility(); }
    else if (resortDue) arrange();
  }

  const onPrefs = () => {
    prefs.q = search.value;
    prefs.status = statusSel.value;
    const sortChanged = prefs.sort !== sortSel.value;
    prefs.sort = sortSel.value;
    savePrefs(prefs);
    if (sortChanged) arrange(true);
    refreshVisibility();
  };
  search.addEventListener("input", onPrefs);
  statusSel.addEventListener("change", onPrefs);
  sortSel.addEventListener("change", onPrefs);

  const stream = new Stream("/api/fleet/events", {
    hello: (d) => { clockOffset = d.now - Date.now() / 1000; },
    fleet: (d) => {
      clockOffset = d.now - Date.now() / 1000;
      for (const n of d.nodes) {
        const prev = pending.get(n.id) || {};
        const tail = [...(prev.spark_tail || []), ...(n.spark_tail || [])];
        pending.set(n.id, { ...prev, ...n, spark_tail: tail });
        pendingAt.set(n.id, d.now);
      }
      schedule();
    },
    status: (d) => {
      const p = pending.get(d.id);
      if (p) p.status = d.status;
      const c = cards.get(d.id);
      if (c) { c.node.status = d.status; c.setStatus(d.status); rows.get(d.id)?.update(c.node); }
      resortDue = true;
      schedule();
    },
  }, {
    onOpen: (again) => { if (again) loadAll().catch(() => {}); },
  });

  setView(prefs.view === "table" ? "table" : "cards");
  // Which node runs which job comes after the cards' first paint, not in its way.
  loadAll().then(() => { mark("fleet:built"); marked = true; setTimeout(loadJobs, 0); }, (e) => { if (e.name !== "AuthError") showError(grid, e); });
  const timer = setInterval(tick, 1000);
  const detailTimer = setInterval(refreshDetails, DETAIL_REFRESH_MS);
  const jobsTimer = setInterval(loadJobs, JOBS_REFRESH_MS);
  const offAlerts = onAlerts(() => {
    const firing = firingNodes();
    for (const [id, c] of cards) c.el.classList.toggle("alerting", firing.has(id));
  });

  return () => {
    offAlerts();
    stream.close();
    clearInterval(timer);
    clearInterval(detailTimer);
    clearInterval(jobsTimer);
    rowWatch.disconnect();
    cancelAnimationFrame(frame);
  };
}

function showError(where, e) {
  where.replaceChildren(h("p", { class: "error" }, `Could not load the fleet: ${e.message}`));
}
