// The fleet grid: one card per node, live over the fleet SSE, updated in place.

import { getJSON, Stream } from "./api.js";
import { firingNodes, onAlerts } from "./alertstate.js";
import { Sparkline } from "./charts.js";
import { h, setText, setAttr } from "./dom.js";
import * as fmt from "./format.js";

const STATUS_RANK = { online: 0, degraded: 1, offline: 2 };
const PREFS_KEY = "forge.fleetPrefs";
const LIVE_RESORT_MS = 10000;

const SORTS = {
  name: (a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id, undefined, { numeric: true }),
  status: (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || SORTS.name(a, b),
  cpu: (a, b) => (b.cpu ?? -1) - (a.cpu ?? -1) || SORTS.name(a, b),
  mem: (a, b) => (b.mem ?? -1) - (a.mem ?? -1) || SORTS.name(a, b),
  seen: (a, b) => b.last_seen - a.last_seen || SORTS.name(a, b),
};
/** Sort keys whose order changes with every sample: re-sorted at most every 10 s, so cards don't jump. */
const VOLATILE = new Set(["cpu", "mem", "seen"]);

function loadPrefs() {
  try { return { sort: "name", status: "all", q: "", ...JSON.parse(localStorage.getItem(PREFS_KEY) || "{}") }; }
  catch { return { sort: "name", status: "all", q: "" }; }
}

function savePrefs(p) {
  try { localStorage.setItem(PREFS_KEY, JSON.stringify(p)); } catch { /* ignore */ }
}

function nodeHref(id) {
  return `#/node/${encodeURIComponent(id)}`;
}

/** One node's card: built once, then `update` touches only what changed. */
class Card {
  constructor(node) {
    this.id = node.id;
    this.spark = new Sparkline(30, `CPU history of ${node.name}`);
    this.dot = h("span", { class: "dot", role: "img" });
    this.name = h("span", { class: "card-name" });
    this.os = h("span", { class: "card-os" });
    this.cpuBar = h("i");
    this.cpuVal = h("span", { class: "val" });
    this.memBar = h("i");
    this.memVal = h("span", { class: "val" });
    this.jobs = h("span", { class: "jobs" });
    this.seen = h("span", { class: "seen" });
    this.el = h("a", { class: "card", href: nodeHref(node.id), dataset: { node: node.id } },
      h("div", { class: "card-head" }, this.dot, this.name, this.os),
      h("div", { class: "metric" }, h("span", { class: "lbl" }, "CPU"),
        h("div", { class: "bar" }, this.cpuBar), this.cpuVal),
      h("div", { class: "metric" }, h("span", { class: "lbl" }, "Mem"),
        h("div", { class: "bar mem" }, this.memBar), this.memVal),
      this.spark.el,
      h("div", { class: "card-foot" }, this.jobs, this.seen));
    this.lastSampleTs = null;
    this.node = {};
  }

  update(node, full) {
    this.node = { ...this.node, ...node };
    const n = this.node;
    setText(this.name, n.name);
    setText(this.os, [n.os, n.arch].filter(Boolean).join(" · ") || "unknown OS");
    setAttr(this.el, "title", `${n.hostname || n.name} — ${n.os || ""} ${n.os_version || ""}`.trim());
    this.setStatus(n.status);
    this.setBar(this.cpuBar, this.cpuVal, n.cpu, "CPU");
    const memTitle = n.latest?.memory ? `${fmt.bytes(n.latest.memory.used)} of ${fmt.bytes(n.latest.memory.total)}` : null;
    this.setBar(this.memBar, this.memVal, n.mem, "Memory", memTitle);
    const j = n.jobs || { running: 0, done: 0 };
    setText(this.jobs, `${j.running} running · ${j.done} done`);
    if (full) {
      this.spark.set(n.spark || (node.spark_tail?.length ? node.spark_tail : (n.cpu != null ? [n.cpu] : [])));
    } else if (node.spark_tail && node.spark_tail.length) {
      for (const v of node.spark_tail) this.spark.push(v);
    } else if (n.last_sample_ts != null && n.last_sample_ts !== this.lastSampleTs) {
      this.spark.push(n.cpu);
    }
    this.lastSampleTs = n.last_sample_ts ?? this.lastSampleTs;
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
    const n = this.node;
    setText(this.seen, fmt.ago(coarseAge(serverNow - n.last_seen)));
    if (this.titledSeen !== n.last_seen) {
      this.titledSeen = n.last_seen;
      this.seen.title = `last push ${fmt.dateTime(n.last_seen)}`;
    }
  }
}

/** Ages rounded so the "last seen" text changes every 5 s, not every second, for 500 cards. */
function coarseAge(s) {
  if (s < 5) return 0;
  if (s < 60) return Math.floor(s / 5) * 5;
  return s;
}

export function renderFleet(view) {
  const prefs = loadPrefs();
  const cards = new Map();
  const pending = new Map();
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
  const grid = h("div", { class: "grid", role: "list" });
  const empty = h("div", { class: "empty", hidden: true });
  view.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Fleet"), counts, h("span", { class: "grow" }), search, statusSel, sortSel),
    grid, empty);

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
  }

  function refreshVisibility() {
    let shown = 0;
    const byStatus = { online: 0, degraded: 0, offline: 0 };
    for (const c of cards.values()) {
      const v = visible(c.node);
      if (c.el.hidden === v) c.el.hidden = !v;
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
    card.update(node, full || isNew);
    card.tick(now());
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
    clockOffset = body.now - Date.now() / 1000;
    thresholds = body.thresholds || thresholds;
    const seen = new Set();
    for (const n of body.nodes) { upsert(n, true); seen.add(n.id); }
    for (const [id, c] of cards) if (!seen.has(id)) { c.el.remove(); cards.delete(id); }
    arrange(true);
    refreshVisibility();
  }

  function localStatus(n, t) {
    const age = t - n.last_seen;
    return age < thresholds.degraded_s ? "online" : age <= thresholds.offline_s ? "degraded" : "offline";
  }

  /** Once a second: ages, and status from last_seen in case a status event was missed. */
  function tick() {
    const t = now();
    let changed = false;
    for (const c of cards.values()) {
      c.tick(t);
      const s = localStatus(c.node, t);
      if (s !== c.node.status && STATUS_RANK[s] > STATUS_RANK[c.node.status]) {
        c.node.status = s;
        c.setStatus(s);
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
      }
      schedule();
    },
    status: (d) => {
      const p = pending.get(d.id);
      if (p) p.status = d.status;
      const c = cards.get(d.id);
      if (c) { c.node.status = d.status; c.setStatus(d.status); }
      resortDue = true;
      schedule();
    },
  }, {
    onOpen: (again) => { if (again) loadAll().catch(() => {}); },
  });

  loadAll().catch((e) => { if (e.name !== "AuthError") showError(grid, e); });
  const timer = setInterval(tick, 1000);
  const offAlerts = onAlerts(() => {
    const firing = firingNodes();
    for (const [id, c] of cards) c.el.classList.toggle("alerting", firing.has(id));
  });

  return () => {
    offAlerts();
    stream.close();
    clearInterval(timer);
    cancelAnimationFrame(frame);
  };
}

function showError(where, e) {
  where.replaceChildren(h("p", { class: "error" }, `Could not load the fleet: ${e.message}`));
}
