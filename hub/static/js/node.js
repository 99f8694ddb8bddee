// One node's drill-down: live 5-minute window at 1 s, or 1 h … 1 y from the history tiers.
// A node that stopped reporting says so (banner, greyed values labelled "last seen") and
// opens on a range that still holds its data.

import { ApiError, getJSON, Stream } from "./api.js";
import { drawCanvasSpark, loadColor, loadUPlot, TimeChart } from "./charts.js";
import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { nodeAlerts } from "./alertstate.js";
import { diskCharts, gpuCards, interfaceCharts } from "./devices.js";
import { ContainerTable, ProcessTable } from "./processes.js";
import { loadVocab, rangesError, timeRanges } from "./vocab.js";

/**
 * The ranges (buttons, tier, points, `every`, `step`, live or refreshed) are the hub's
 * `time_ranges` (GET /api/meta, vocab.js). Without the meta the page shows LATEST only: the
 * snapshot route's default answer (its newest 300 raw samples), followed live, and no buttons.
 */
const LATEST = { key: "latest", label: "latest samples", seconds: 300, resolution: "1s", points: 300, step: 1, live: true };
const TIER_NAMES = { "1s": "1 s samples", "1m": "1-minute averages", "1h": "1-hour averages" };
const HOT_PCT = 80;
const CORES_PER_PAGE = 64;
const STATUS_POLL_MS = 5000;

/** Samples of the chosen range, oldest first, with `null` rows marking gaps. */
class History {
  constructor(step) {
    this.step = step;
    this.rows = [];
  }

  lastTs() { return this.rows.length ? this.rows[this.rows.length - 1].ts : -Infinity; }

  push(sample) {
    const last = this.lastTs();
    if (!(sample.ts > last)) return false;
    if (Number.isFinite(last) && sample.ts - last > this.step * 3) this.rows.push({ ts: last + this.step, s: null });
    this.rows.push({ ts: sample.ts, s: sample });
    return true;
  }

  trimBefore(t) {
    let i = 0;
    while (i < this.rows.length && this.rows[i].ts < t) i++;
    if (i) this.rows.splice(0, i);
  }

  xs() { return this.rows.map((r) => r.ts); }

  col(fn) {
    return this.rows.map((r) => {
      if (!r.s) return null;
      try { const v = fn(r.s); return v == null || !Number.isFinite(v) ? null : v; } catch { return null; }
    });
  }
}

function coreStats(perCore) {
  const vals = (perCore || []).filter((v) => v != null);
  if (!vals.length) return null;
  const avg = vals.reduce((a, b) => a + b, 0) / vals.length;
  const sd = Math.sqrt(vals.reduce((a, b) => a + (b - avg) ** 2, 0) / vals.length);
  let maxI = 0;
  perCore.forEach((v, i) => { if (v != null && v > (perCore[maxI] ?? -1)) maxI = i; });
  return { avg, sd, max: perCore[maxI], maxI, hot: vals.filter((v) => v >= HOT_PCT).length };
}

function fact(label) {
  const value = h("dd"), labelEl = h("dt", {}, label);
  return { el: h("div", { class: "fact" }, labelEl, value), value, label: labelEl };
}

function stat(label) {
  const value = h("span", { class: "stat-v" }), labelEl = h("span", { class: "stat-l" }, label);
  return { el: h("div", { class: "stat" }, labelEl, value), value, label: labelEl };
}

function panel(title, ...body) {
  const extra = h("span", { class: "panel-extra" });
  return { el: h("section", { class: "panel" }, h("h2", {}, h("span", {}, title), extra), ...body), extra };
}

export function renderNode(view, { id }, { home = false } = {}) {
  let ranges = []; // the hub's time ranges, shortest first, once the meta is read
  let range = null; // the range shown; null until the meta answers
  let rangeKey = null;
  let hist = new History(1);
  let node = null;
  let latest = null;
  let procs = null; // the newest process list {ts, items}: the snapshot's, then each sample's that has one
  let dirty = true;
  let loadSeq = 0;
  let clockOffset = 0;
  let charts = null;
  let cellCount = -1;
  let corePage = 0;
  let destroyed = false;
  let zoom = null; // [min, max] seconds while zoomed in, else the range slides to now
  let autoRange = true; // until the user picks a range, a stale node opens on one with data
  const coreCells = [];
  const mountRows = new Map();

  // --- DOM, built once ------------------------------------------------------------
  const dot = h("span", { class: "dot", role: "img" });
  const title = h("h1");
  const sub = h("span", { class: "sub" });
  const facts = { status: fact("Status"), uptime: fact("Uptime"), load: fact("Load 1 / 5 / 15"),
                  seen: fact("Last seen"), memory: fact("Memory"), battery: fact("Battery"), job: fact("Running job") };
  facts.battery.el.hidden = true;
  let rangeButtons = [];
  const rangeGroup = h("div", { class: "ranges", role: "group", "aria-label": "Time range" });
  const rangeNote = h("span", { class: "muted range-note" });
  const banner = h("div", { class: "stale-banner", role: "status", hidden: true });
  const zoomReset = h("button", { type: "button", class: "zoom-reset", hidden: true, onclick: () => setZoom(null) },
    "Reset zoom");
  const head = h("header", { class: "node-head", dataset: { status: "online" } },
    h("div", { class: "node-title" }, dot, title, sub),
    h("dl", { class: "facts" }, ...Object.values(facts).map((f) => f.el)));

  const stats = { now: stat("CPU now"), avg: stat("Core avg"), hot: stat(`Hot (≥ ${HOT_PCT} %)`),
                  max: stat("Max core"), sd: stat("Std dev"), temp: stat("Package") };
  const strip = h("div", { class: "strip", role: "list", "aria-label": "Per-core load" });
  const coreGrid = h("div", { class: "core-grid" });
  const pager = h("div", { class: "pager" });
  const coreDetails = h("details", { class: "cores-detail" },
    h("summary", {}, "Per-core history"), pager, coreGrid);
  coreDetails.addEventListener("toggle", () => { buildCoreGrid(); dirty = true; render(); });

  const cpuBox = h("div", { class: "chart" });
  const memBox = h("div", { class: "chart" });
  const diskBox = h("div", { class: "chart" });
  const netBox = h("div", { class: "chart" });
  const loadBox = h("div", { class: "chart" });
  const mounts = h("div", { class: "mounts" });
  const cpuPanel = panel("CPU", h("div", { class: "stats" }, ...Object.values(stats).map((s) => s.el)),
    strip, cpuBox, coreDetails);
  const memPanel = panel("Memory & swap", memBox);
  const diskPanel = panel("Disk", diskBox, mounts);
  const netPanel = panel("Network", netBox);
  const loadPanel = panel("Load average", loadBox);
  cpuPanel.el.classList.add("wide");
  // Schema 2: each part shows only when the node sends it (a schema 1 agent's page is as before).
  const procTable = new ProcessTable();
  const procPanel = panel("Top processes", procTable.el);
  procPanel.el.classList.add("wide", "proc-panel");
  procPanel.el.hidden = true;
  const gpuBox = h("div", { class: "gpu-cards", hidden: true });
  const gpus = gpuCards(gpuBox);
  const diskDevBox = h("div", { class: "minis" });
  const diskDevs = h("details", { class: "devices-detail", open: true, hidden: true }, h("summary", {}, "Per disk"), diskDevBox);
  diskPanel.el.append(diskDevs);
  const disks = diskCharts(diskDevBox);
  const nicBox = h("div", { class: "minis" });
  const nicDevs = h("details", { class: "devices-detail", open: true, hidden: true }, h("summary", {}, "Per interface"), nicBox);
  netPanel.el.append(nicDevs);
  const nics = interfaceCharts(nicBox);
  const containerTable = new ContainerTable();
  const containerPanel = panel("Containers", containerTable.el);
  containerPanel.el.classList.add("wide", "container-panel");
  containerPanel.el.hidden = true;
  const keyed = [gpus, disks, nics];
  // A server with dozens of disks opens with its per-disk charts folded: each is a chart redrawn every second.
  const FOLD_OVER = 8;
  for (const d of [diskDevs, nicDevs]) d.addEventListener("toggle", () => { dirty = true; render(); });
  const message = h("p", { class: "error", hidden: true });
  const rangeError = h("p", { class: "error range-error", hidden: true });

  const alertsBox = nodeAlerts(id);
  view.append(head, alertsBox.el, banner, message, rangeError,
    h("div", { class: "toolbar" }, rangeGroup,
      rangeNote, zoomReset),
    h("div", { class: "panels" }, cpuPanel.el, procPanel.el, gpuBox, memPanel.el, diskPanel.el, netPanel.el, loadPanel.el,
      containerPanel.el));

  const now = () => Date.now() / 1000 + clockOffset;

  // --- header and CPU widgets -----------------------------------------------------
  function renderHead() {
    if (!node) return;
    setText(title, node.name);
    document.title = `${node.name} · Forge`;
    setText(sub, [home ? "this machine" : null, node.hostname !== node.name ? node.hostname : null,
                  fmt.friendlyOS(node.os, node.os_version), fmt.arch(node.arch),
                  node.cores ? `${node.cores} cores` : null, node.agent_version ? `agent ${node.agent_version}` : null]
      .filter(Boolean).join(" · "));
    if (head.dataset.status !== node.status) head.dataset.status = node.status;
    setAttr(dot, "aria-label", node.status);
    setText(facts.status.value, node.status);
    renderStale();
    // The newest reading's time: what the banner and the greyed values refer to.
    const seenAt = node.last_sample_ts ?? node.last_seen;
    setText(facts.seen.value, fmt.ago(Math.round(now() - seenAt)));
    setAttr(facts.seen.value, "title", `${fmt.dateTime(seenAt)} (last push ${fmt.dateTime(node.last_seen)})`);
    const s = latest;
    setText(facts.uptime.value, fmt.duration(s?.uptime_s));
    setText(facts.load.value, s?.load ? s.load.map((v) => fmt.num(v)).join(" / ") : "–");
    setText(facts.memory.value, s?.memory ? `${fmt.bytes(s.memory.used)} / ${fmt.bytes(s.memory.total)}` : "–");
    setAttr(facts.memory.value, "title", s?.memory ? `${s.memory.used} of ${s.memory.total} bytes (${fmt.pct(s.memory.percent, 1)})` : "");
    const b = s?.battery;
    facts.battery.el.hidden = !b;
    if (b) setText(facts.battery.value, `${fmt.pct(b.percent)}${b.plugged ? " · plugged in" : b.secs_left ? ` · ${fmt.duration(b.secs_left)} left` : ""}`);
  }

  /** Offline or degraded: a banner with since when, and every reading marked as the last one seen. */
  function renderStale() {
    const stale = node.status === "offline" || node.status === "degraded";
    const since = node.last_sample_ts ?? node.last_seen;
    view.classList.toggle("stale", stale);
    if (view.dataset.stale !== (stale ? node.status : "")) view.dataset.stale = stale ? node.status : "";
    banner.hidden = !stale;
    if (stale) {
      const at = fmt.sinceTime(since, now());
      const age = fmt.ago(Math.round(now() - since));
      setText(banner, node.status === "offline"
        ? `Offline since ${at} (${age}). The values below are the last it sent, not live readings.`
        : `Degraded: no report since ${at} (${age}). The values below may be out of date.`);
      setAttr(banner, "data-status", node.status);
    }
    setText(stats.now.label, stale ? "CPU last seen" : "CPU now");
    setText(facts.load.label, stale ? "Load (last seen)" : "Load 1 / 5 / 15");
    setText(facts.memory.label, stale ? "Memory (last seen)" : "Memory");
    setText(facts.uptime.label, stale ? "Uptime (last seen)" : "Uptime");
  }

  function ensureStrip(n) {
    if (n === cellCount) return;
    cellCount = n;
    coreCells.length = 0;
    const cells = [];
    for (let i = 0; i < n; i++) {
      const t = h("span", { class: "t" });
      const cell = h("div", { class: "core", role: "listitem", tabindex: "0", dataset: { core: String(i) } }, t);
      coreCells.push({ cell, t, key: "" });
      cells.push(cell);
    }
    strip.replaceChildren(...cells);
    strip.style.setProperty("--cols", String(Math.min(n, 32)));
    buildCoreGrid();
  }

  function renderCpu() {
    const cpu = latest?.cpu;
    const per = cpu?.per_core || [];
    ensureStrip(per.length || node?.cores || 0);
    coreCells.forEach((c, i) => {
      const load = per[i], temp = cpu?.temp_c?.[i], freq = cpu?.freq_mhz?.[i];
      const key = `${load}|${temp}|${freq}`;
      if (key === c.key) return;
      c.key = key;
      c.cell.style.background = loadColor(load);
      setText(c.t, temp != null ? `${Math.round(temp)}°C` : "");
      c.cell.title = `Core ${i}: ${load == null ? "no data" : `${load.toFixed(1)} %`}` +
        (freq != null ? ` · ${fmt.mhz(freq)}` : "") + (temp != null ? ` · ${temp.toFixed(1)} °C` : "");
    });
    const st = coreStats(per);
    setText(stats.now.value, fmt.pct(cpu?.percent, 1));
    setText(stats.avg.value, st ? fmt.pct(st.avg, 1) : "–");
    setText(stats.hot.value, st ? `${st.hot} of ${per.length}` : "–");
    setText(stats.max.value, st ? `${fmt.pct(st.max, 0)} (core ${st.maxI})` : "–");
    setText(stats.sd.value, st ? `${st.sd.toFixed(1)} pts` : "–");
    setText(stats.temp.value, fmt.temp(cpu?.package_temp_c));
    const freqs = (cpu?.freq_mhz || []).filter((v) => v != null);
    setText(cpuPanel.extra, freqs.length ? `avg ${fmt.mhz(freqs.reduce((a, b) => a + b, 0) / freqs.length)}` : "");
  }

  function renderMounts() {
    const list = latest?.disk?.mounts || [];
    const seen = new Set();
    for (const m of list) {
      seen.add(m.mount);
      let row = mountRows.get(m.mount);
      if (!row) {
        const bar = h("i"), val = h("span", { class: "val" });
        row = { el: h("div", { class: "mount" }, h("span", { class: "mount-name", title: m.mount }, m.mount),
                      h("span", { class: "muted fstype" }, m.fstype || ""), h("div", { class: "bar" }, bar), val), bar, val };
        mountRows.set(m.mount, row);
        mounts.append(row.el);
      }
      const t = `scaleX(${(Math.max(0, Math.min(100, m.percent ?? 0)) / 100).toFixed(3)})`;
      if (row.bar.style.transform !== t) row.bar.style.transform = t;
      const lvl = fmt.level(m.percent, 85, 95); // the fleet's disk thresholds
      row.bar.style.background = lvl === "bad" ? "var(--bad)" : lvl === "warn" ? "var(--warn)" : "";
      setText(row.val, `${fmt.bytes(m.used)} / ${fmt.bytes(m.total)} (${fmt.pct(m.percent)})`);
      setAttr(row.el, "title", `${m.mount}: ${m.used} of ${m.total} bytes used, ${m.free} free`);
    }
    for (const [k, row] of mountRows) if (!seen.has(k)) { row.el.remove(); mountRows.delete(k); }
    const d = latest?.disk;
    // One disk has no chart of its own (it would repeat the total): its busy time goes here.
    const busy = d?.devices?.length === 1 ? d.devices[0].busy_percent : null;
    setText(diskPanel.extra, d ? `read ${fmt.rate(d.read_bps)} · write ${fmt.rate(d.write_bps)}` +
      (busy != null ? ` · busy ${fmt.pct(busy, 1)}` : "") : "");
    const n = latest?.net;
    setText(netPanel.extra, n ? `rx ${fmt.rate(n.rx_bps)} · tx ${fmt.rate(n.tx_bps)}` : "");
    const sw = latest?.swap;
    setText(memPanel.extra, latest?.memory ? `${fmt.pct(latest.memory.percent)} used${sw?.total ? ` · swap ${fmt.pct(sw.percent)}` : " · no swap"}` : "");
  }

  /** Processes, GPUs, per-disk and per-interface charts, containers: absent parts stay hidden. */
  function renderSchema2() {
    const ctx = { cores: node?.cores || latest?.cpu?.per_core?.length || 1, memTotal: latest?.memory?.total };
    procPanel.el.hidden = !procs;
    if (procs) {
      procTable.set(procs, ctx);
      setText(procPanel.extra, `${procs.items.length} processes · as of ${fmt.clockTime(procs.ts)} · CPU in % of one core`);
    }
    gpuBox.hidden = !gpus.sync(latest);
    for (const [details, cells] of [[diskDevs, disks], [nicDevs, nics]]) {
      const n = cells.sync(latest);
      if (n && details.hidden && !details.dataset.shown) { details.dataset.shown = "1"; details.open = n <= FOLD_OVER; }
      details.hidden = !n;
    }
    const cs = Array.isArray(latest?.containers) ? latest.containers : null;
    containerPanel.el.hidden = !cs;
    if (cs) {
      containerTable.set(cs, ctx);
      setText(containerPanel.extra, `${cs.filter((c) => c.state === "running").length} running of ${cs.length}`);
    }
  }

  function takeProcesses(list) {
    if (list && Array.isArray(list.items) && (!procs || list.ts > procs.ts)) { procs = list; dirty = true; }
  }

  // --- per-core sparkline grid (8 × 8 per page) ----------------------------------
  function buildCoreGrid() {
    if (!coreDetails.open) { coreGrid.replaceChildren(); pager.replaceChildren(); return; }
    const n = cellCount;
    const pages = Math.max(1, Math.ceil(n / CORES_PER_PAGE));
    corePage = Math.min(corePage, pages - 1);
    pager.replaceChildren();
    if (pages > 1) {
      for (let p = 0; p < pages; p++) {
        pager.append(h("button", { type: "button", "aria-pressed": String(p === corePage),
          onclick: () => { corePage = p; buildCoreGrid(); dirty = true; render(); } },
          `Cores ${p * CORES_PER_PAGE}–${Math.min(n, (p + 1) * CORES_PER_PAGE) - 1}`));
      }
    }
    const cells = [];
    for (let i = corePage * CORES_PER_PAGE; i < Math.min(n, (corePage + 1) * CORES_PER_PAGE); i++) {
      cells.push(h("div", { class: "core-cell", dataset: { coreSpark: String(i) } },
        h("span", { class: "core-lbl" }, `${i}`), h("span", { class: "core-val" }), h("canvas")));
    }
    coreGrid.replaceChildren(...cells);
  }

  function renderCoreGrid() {
    if (!coreDetails.open) return;
    const color = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    for (const cell of coreGrid.children) {
      const i = Number(cell.dataset.coreSpark);
      const vals = hist.col((s) => s.cpu.per_core[i]);
      drawCanvasSpark(cell.lastChild, vals.slice(-300), color);
      const last = vals[vals.length - 1];
      setText(cell.children[1], last == null ? "no data" : fmt.pct(last));
      cell.title = `Core ${i}: ${last == null ? "no data" : `${last.toFixed(1)} %`}`;
    }
  }

  // --- charts --------------------------------------------------------------------
  async function buildCharts() {
    const uPlot = await loadUPlot();
    if (destroyed) return;
    const exactBytes = (v) => (v == null ? "–" : `${fmt.bytes(v)} (${Math.round(v).toLocaleString()} B)`);
    const exactRate = (v) => (v == null ? "–" : `${fmt.rate(v)} (${Math.round(v).toLocaleString()} B/s)`);
    const pct1 = (v) => fmt.pct(v, 1);
    const shared = { syncKey: `node-${id}`, onZoom: (lo, hi) => setZoom(lo == null ? null : [lo, hi]) };
    const TimeChartShared = (box, opts) => new TimeChart(uPlot, box, { ...opts, ...shared });
    charts = {
      cpu: TimeChartShared(cpuBox, { series: [{ label: "CPU", color: "#4aa8ff", fmt: pct1, fill: true }],
                                          axisFmt: (v) => `${v} %`, yRange: [0, 100] }),
      mem: TimeChartShared(memBox, { series: [{ label: "Memory used", color: "#b07cff", fmt: exactBytes, fill: true },
                                                   { label: "Swap used", color: "#ff9f43", fmt: exactBytes }],
                                          axisFmt: fmt.bytes, yFloor: 1024 ** 3 }),
      disk: TimeChartShared(diskBox, { series: [{ label: "Read", color: "#2ecc71", fmt: exactRate },
                                                     { label: "Write", color: "#ff6b6b", fmt: exactRate }],
                                            axisFmt: fmt.rate, yFloor: 10_000 }),
      net: TimeChartShared(netBox, { series: [{ label: "Receive", color: "#22c1c3", fmt: exactRate },
                                                   { label: "Send", color: "#f7b731", fmt: exactRate }],
                                          axisFmt: fmt.rate, yFloor: 10_000 }),
      load: TimeChartShared(loadBox, { series: [{ label: "1 min", color: "#4aa8ff", fmt: (v) => fmt.num(v) },
                                                     { label: "5 min", color: "#b07cff", fmt: (v) => fmt.num(v) },
                                                     { label: "15 min", color: "#8a94a6", fmt: (v) => fmt.num(v) }],
                                            axisFmt: (v) => fmt.num(v, 1) }),
    };
    for (const k of keyed) k.setChartMaker(TimeChartShared);
    dirty = true;
    render();
  }

  function renderCharts() {
    if (!charts) return;
    const xs = hist.xs();
    const t = now();
    const xRange = zoom || [t - range.seconds, t];
    charts.cpu.setData([xs, hist.col((s) => s.cpu.percent)], xRange);
    charts.mem.setData([xs, hist.col((s) => s.memory.used), hist.col((s) => s.swap.used)], xRange);
    charts.disk.setData([xs, hist.col((s) => s.disk.read_bps), hist.col((s) => s.disk.write_bps)], xRange);
    charts.net.setData([xs, hist.col((s) => s.net.rx_bps), hist.col((s) => s.net.tx_bps)], xRange);
    charts.load.setData([xs, hist.col((s) => s.load[0]), hist.col((s) => s.load[1]), hist.col((s) => s.load[2])], xRange);
    for (const k of keyed) k.draw(hist, xRange);
  }

  /** Redraw what changed; called at most once a second (and after loads). */
  function render() {
    if (destroyed || document.hidden || !range) return;
    if (range.live) hist.trimBefore(now() - range.seconds - 2);
    renderHead();
    if (!dirty && !range.live) return;
    renderCpu();
    renderMounts();
    renderSchema2();
    renderCharts();
    renderCoreGrid();
    dirty = false;
  }

  // --- data ----------------------------------------------------------------------
  async function load() {
    const seq = ++loadSeq;
    const since = now() - range.seconds;
    const q = `points=${range.points}&resolution=${range.resolution}&since=${since.toFixed(3)}` +
      (range.every ? `&every=${range.every}` : "");
    setText(rangeNote, "loading…");
    try {
      const body = await getJSON(`/api/nodes/${encodeURIComponent(id)}/snapshot?${q}`);
      if (seq !== loadSeq || destroyed) return;
      node = body.node;
      takeProcesses(body.processes);
      if (autoRange && node.status !== "online") {
        autoRange = false;
        const better = rangeWithData();
        if (better && better !== rangeKey && rangeOf(better).seconds > range.seconds) { setRange(better, { auto: true }); return; }
      }
      autoRange = false;
      const next = new History(range.step);
      for (const s of body.samples) next.push(s);
      if (range.live) for (const r of hist.rows) if (r.s && r.ts > next.lastTs()) next.push(r.s);
      hist = next;
      const last = hist.rows.length ? hist.rows[hist.rows.length - 1].s : null;
      if (range.live || !latest) latest = last || latest;
      if (!latest) latest = await latestSample();
      message.hidden = true;
      const points = hist.rows.filter((r) => r.s).length;
      setText(rangeNote, `${TIER_NAMES[range.resolution]}${range.every ? `, one per ${fmt.duration(range.every)}` : ""}` +
        `${range.live ? " · live" : ""} · ${points} points` +
        (points ? "" : " · no history in this range yet"));
      setAttr(rangeNote, "data-resolution", body.resolution);
      dirty = true;
      render();
    } catch (e) {
      if (seq !== loadSeq || destroyed || e.name === "AuthError") return;
      message.hidden = false;
      if (e instanceof ApiError && e.status === 404) {
        message.replaceChildren(`No node “${id}” has reported to this hub. `, h("a", { href: "#/fleet" }, "Back to the fleet"));
      } else {
        setText(message, `Could not load this node's history: ${e.message}`);
      }
    }
  }

  async function latestSample() {
    const body = await getJSON(`/api/nodes/${encodeURIComponent(id)}/snapshot?points=1&resolution=1s`);
    return body.samples[0] || null;
  }

  /** The job (or jobs) this node runs now, linked, from GET /api/jobs. */
  async function loadJob() {
    try {
      const body = await getJSON(`/api/jobs?status=running&node=${encodeURIComponent(id)}&limit=5`);
      if (destroyed) return;
      const jobs = body.jobs;
      const key = jobs.map((j) => j.id).join(",");
      if (facts.job.value.dataset.key === key) return;
      facts.job.value.dataset.key = key;
      facts.job.value.replaceChildren(...(jobs.length ? jobs.flatMap((j, i) => [i ? ", " : "",
        h("a", { href: `#/jobs/${j.id}` }, `#${j.id} ${j.type}`)]) : ["none"]));
    } catch { /* the stream state says so */ }
  }

  async function pollStatus() {
    loadJob();
    try {
      const body = await getJSON(`/api/nodes/${encodeURIComponent(id)}/snapshot?points=1&resolution=1s`);
      if (destroyed) return;
      node = body.node;
      if (!latest && body.samples[0]) { latest = body.samples[0]; dirty = true; }
      takeProcesses(body.processes);
      renderHead();
    } catch { /* shown by the stream state */ }
  }

  function setZoom(z) {
    zoom = z && z[1] - z[0] >= 1 ? z : null;
    zoomReset.hidden = !zoom;
    dirty = true;
    render();
  }

  /** The shortest range that still shows the stale node's last data (most of the range, not a sliver). */
  function rangeWithData() {
    const last = node?.last_sample_ts;
    if (last == null || !ranges.length) return null;
    const age = now() - last;
    return (ranges.find((r) => r.seconds >= age * 1.25 + 60) || ranges[ranges.length - 1]).key;
  }

  function rangeOf(key) { return ranges.find((r) => r.key === key); }

  function setRange(key, { auto = false } = {}) {
    if (!auto) autoRange = false;
    if (key === rangeKey) return;
    rangeKey = key;
    zoom = null;
    zoomReset.hidden = true;
    range = rangeOf(key);
    for (const b of rangeButtons) b.setAttribute("aria-pressed", String(b.dataset.range === key));
    hist = new History(range.step);
    load();
  }

  const stream = new Stream(`/api/nodes/${encodeURIComponent(id)}/events`, {
    hello: (d) => { clockOffset = d.now - Date.now() / 1000; },
    sample: (s) => {
      latest = s;
      if (node) {
        node.last_seen = Math.max(node.last_seen, now());
        node.last_sample_ts = Math.max(node.last_sample_ts ?? -Infinity, s.ts);
      }
      if (range?.live) hist.push(s);
      if (Array.isArray(s.processes)) takeProcesses({ ts: s.ts, items: s.processes });
      dirty = true;
    },
  }, { onOpen: (again) => { if (again && range) load(); } });

  const onTheme = () => {
    if (charts) { for (const c of Object.values(charts)) c.retheme(); for (const k of keyed) k.retheme(); dirty = true; render(); }
  };
  window.addEventListener("forge-theme", onTheme);
  let lastRefresh = Date.now();
  const timer = setInterval(() => {
    if (range?.refresh_s && Date.now() - lastRefresh > range.refresh_s * 1000) { lastRefresh = Date.now(); load(); }
    render();
  }, 1000);
  const statusTimer = setInterval(pollStatus, STATUS_POLL_MS);

  // The ranges come from the hub (once per page load); the first load waits for them.
  loadVocab().then((vocab) => {
    if (destroyed) return;
    ranges = timeRanges() || [];
    rangeButtons = ranges.map((r) =>
      h("button", { type: "button", "aria-pressed": "false", dataset: { range: r.key }, onclick: () => setRange(r.key) },
        r.label));
    rangeGroup.replaceChildren(...rangeButtons);
    if (vocab.error || !ranges.length) {
      rangeError.hidden = false;
      setText(rangeError, rangesError(vocab.error || new Error("it lists no time ranges")));
      range = LATEST;
      rangeKey = LATEST.key;
      hist = new History(range.step);
      load();
    } else {
      setRange(ranges[0].key, { auto: true });
    }
  }, () => { /* an AuthError: the app asks for the token */ });
  loadJob();
  buildCharts();

  return () => {
    destroyed = true;
    alertsBox.close();
    stream.close();
    clearInterval(timer);
    clearInterval(statusTimer);
    window.removeEventListener("forge-theme", onTheme);
    if (charts) for (const c of Object.values(charts)) c.destroy();
    for (const k of keyed) k.destroy();
  };
}
