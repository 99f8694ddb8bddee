// Schema 2 on the node page: one card per GPU and one small chart per disk and per network
// interface. Entries are matched across samples by their key (a GPU's vendor and index, a
// device's name), never by position: a disk may appear or vanish between two samples.

import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";

export const gpuKey = (g) => `${g.vendor ?? ""}:${g.index ?? ""}`;
const nameKey = (d) => d.name;

const indexes = new WeakMap(); // sample -> {list name -> Map(key -> entry)}

/** The entry of `list(sample)` with key `key`, through a per-sample index built once. */
function entryOf(sample, listName, list, keyOf, key) {
  let byList = indexes.get(sample);
  if (!byList) { byList = {}; indexes.set(sample, byList); }
  let map = byList[listName];
  if (!map) {
    map = new Map();
    let items = null;
    try { items = list(sample); } catch { /* a sample without the section */ }
    if (Array.isArray(items)) for (const e of items) if (e && typeof e === "object") map.set(keyOf(e), e);
    byList[listName] = map;
  }
  return map.get(key);
}

const finite = (v) => (v == null || !Number.isFinite(v) ? null : v);

/**
 * A set of cells, one per entry of a keyed list in the latest sample, each holding charts of
 * that entry's fields over the page's history. `make(entry)` builds a cell: {el, charts: [{box,
 * opts, fields}], update(entry)}; the charts are created once uPlot is loaded (`setChartMaker`).
 */
class KeyedCells {
  /** `min`: fewer entries than this show no cells (one disk's chart would repeat the total's). */
  constructor(box, listName, list, keyOf, make, min = 1) {
    Object.assign(this, { box, listName, list, keyOf, make, min });
    this.cells = new Map();
    this.makeChart = null;
  }

  setChartMaker(makeChart) {
    this.makeChart = makeChart;
    for (const c of this.cells.values()) this.buildCharts(c);
  }

  buildCharts(cell) {
    if (!this.makeChart) return;
    for (const c of cell.charts) if (!c.chart) c.chart = this.makeChart(c.box, c.opts);
  }

  /** Cells for the entries of the latest sample; returns how many there are. */
  sync(latest) {
    let items = null;
    try { items = latest ? this.list(latest) : null; } catch { /* none */ }
    const seen = new Set();
    if (!Array.isArray(items) || items.length < this.min) items = [];
    for (const e of items) {
      if (!e || typeof e !== "object") continue;
      const key = this.keyOf(e);
      seen.add(key);
      let cell = this.cells.get(key);
      if (!cell) {
        cell = this.make(e);
        cell.el.dataset.key = key;
        this.cells.set(key, cell);
        this.box.append(cell.el);
        this.buildCharts(cell);
      }
      cell.update(e);
    }
    for (const [key, cell] of this.cells) {
      if (seen.has(key)) continue;
      for (const c of cell.charts) c.chart?.destroy();
      cell.el.remove();
      this.cells.delete(key);
    }
    return this.cells.size;
  }

  draw(hist, xRange) {
    if (!this.cells.size || this.box.closest("details")?.open === false) return;
    const xs = hist.xs();
    for (const [key, cell] of this.cells) {
      const entries = hist.rows.map((r) => (r.s ? entryOf(r.s, this.listName, this.list, this.keyOf, key) : undefined));
      for (const c of cell.charts) {
        if (!c.chart) continue;
        c.chart.setData([xs, ...c.fields.map((f) => entries.map((e) => (e ? finite(f(e)) : null)))], xRange);
      }
    }
  }

  retheme() { for (const cell of this.cells.values()) for (const c of cell.charts) c.chart?.retheme(); }

  destroy() { for (const cell of this.cells.values()) for (const c of cell.charts) c.chart?.destroy(); }
}

const exactRate = (v) => (v == null ? "–" : `${fmt.rate(v)} (${Math.round(v).toLocaleString()} B/s)`);
const SMALL = 110;

function small(title) {
  const head = h("span", { class: "mini-title" }, title);
  const extra = h("span", { class: "mini-extra" });
  const box = h("div", { class: "chart mini-chart" });
  return { el: h("div", { class: "mini" }, h("div", { class: "mini-head" }, head, extra), box), box, extra };
}

/** Per-disk read/write charts (disk.devices), for two disks or more. */
export function diskCharts(box) {
  return new KeyedCells(box, "disks", (s) => s.disk.devices, nameKey, (d) => {
    const m = small(d.name);
    return {
      el: m.el,
      charts: [{ box: m.box, fields: [(e) => e.read_bps, (e) => e.write_bps],
                 opts: { series: [{ label: "Read", color: "#2ecc71", fmt: exactRate }, { label: "Write", color: "#ff6b6b", fmt: exactRate }],
                         axisFmt: fmt.rate, yFloor: 10_000, height: SMALL } }],
      update(e) {
        setText(m.extra, e.busy_percent == null ? "" : `busy ${fmt.pct(e.busy_percent, 1)}`);
        setAttr(m.el, "title", `${e.name}: read ${fmt.rate(e.read_bps)}, write ${fmt.rate(e.write_bps)}` +
          (e.busy_percent == null ? "" : `, busy ${fmt.pct(e.busy_percent, 1)} of the time`));
      },
    };
  }, 2);
}

/** Per-interface receive/send charts (net.interfaces), for two interfaces or more. */
export function interfaceCharts(box) {
  return new KeyedCells(box, "nics", (s) => s.net.interfaces, nameKey, (d) => {
    const m = small(d.name);
    return {
      el: m.el,
      charts: [{ box: m.box, fields: [(e) => e.rx_bps, (e) => e.tx_bps],
                 opts: { series: [{ label: "Receive", color: "#22c1c3", fmt: exactRate }, { label: "Send", color: "#f7b731", fmt: exactRate }],
                         axisFmt: fmt.rate, yFloor: 10_000, height: SMALL } }],
      update(e) {
        setText(m.extra, e.up === false ? "link down" : "");
        m.el.classList.toggle("down", e.up === false);
      },
    };
  }, 2);
}

function gpuStat(label) {
  const v = h("span", { class: "stat-v" });
  return { el: h("div", { class: "stat" }, h("span", { class: "stat-l" }, label), v), v };
}

/** One card per GPU (gpus): figures now, and utilisation, memory, temperature and power charts. */
export function gpuCards(box) {
  return new KeyedCells(box, "gpus", (s) => s.gpus, gpuKey, (g) => {
    const name = h("span");
    const extra = h("span", { class: "panel-extra" });
    const stats = { util: gpuStat("Utilisation"), mem: gpuStat("Memory"), temp: gpuStat("Temperature"), power: gpuStat("Power") };
    const minis = { util: small("Utilisation"), mem: small("Memory used"), temp: small("Temperature"), power: small("Power") };
    const el = h("section", { class: "panel wide gpu-card" }, h("h2", {}, name, extra),
      h("div", { class: "stats" }, ...Object.values(stats).map((s) => s.el)),
      h("div", { class: "minis gpu-charts" }, ...Object.values(minis).map((m) => m.el)));
    const bytesExact = (v) => (v == null ? "–" : fmt.bytes(v));
    return {
      el,
      charts: [
        { box: minis.util.box, fields: [(e) => e.util_percent],
          opts: { series: [{ label: "Utilisation", color: "#76b900", fmt: (v) => fmt.pct(v, 1), fill: true }],
                  axisFmt: (v) => `${v} %`, yRange: [0, 100], height: SMALL } },
        { box: minis.mem.box, fields: [(e) => e.mem_used],
          opts: { series: [{ label: "Used", color: "#b07cff", fmt: bytesExact, fill: true }], axisFmt: fmt.bytes,
                  yFloor: g.mem_total || 1024 ** 3, height: SMALL } },
        { box: minis.temp.box, fields: [(e) => e.temp_c],
          opts: { series: [{ label: "Temperature", color: "#ff9f43", fmt: (v) => (v == null ? "–" : `${v.toFixed(0)} °C`) }],
                  axisFmt: (v) => `${v} °C`, yFloor: 50, height: SMALL } },
        { box: minis.power.box, fields: [(e) => e.power_w],
          opts: { series: [{ label: "Power", color: "#f7b731", fmt: (v) => (v == null ? "–" : `${v.toFixed(1)} W`) }],
                  axisFmt: (v) => `${v} W`, yFloor: 50, height: SMALL } },
      ],
      update(e) {
        setText(name, `GPU ${e.index ?? ""} · ${e.name || "unnamed"}`);
        setText(extra, e.vendor === "nvidia" ? "NVIDIA" : e.vendor === "amd" ? "AMD" : e.vendor || "");
        setText(stats.util.v, fmt.pct(e.util_percent, 0));
        setText(stats.mem.v, e.mem_used == null ? "–" : `${fmt.bytes(e.mem_used)} / ${fmt.bytes(e.mem_total)}`);
        setText(stats.temp.v, fmt.temp(e.temp_c));
        setText(stats.power.v, e.power_w == null ? "unavailable" : `${e.power_w.toFixed(0)} W`);
        setText(minis.mem.extra, e.mem_total ? `of ${fmt.bytes(e.mem_total)}` : "");
      },
    };
  });
}
