// Schema 2 tables on the node page: the top processes (sortable by CPU and memory, the full
// command line on hover) and the containers of a Docker or Podman engine.

import { h } from "./dom.js";
import * as fmt from "./format.js";

const SORT_KEY = "forge.processSort";

function loadSort() {
  try {
    const s = JSON.parse(localStorage.getItem(SORT_KEY) || "null");
    if (s && (s.col === "cpu" || s.col === "mem")) return { col: s.col, desc: s.desc !== false };
  } catch { /* ignore */ }
  return { col: "cpu", desc: true };
}

/**
 * A bar of `v` out of `whole`: CPU as a share of the whole machine (`cores` × 100 % of one
 * core, so a process with three busy threads never overflows), memory of its total.
 */
function barCell(v, whole, text, title, cls = "") {
  const f = v == null || !whole ? 0 : Math.max(0, Math.min(1, v / whole));
  return h("td", { class: "num", title },
    h("div", { class: "cell-bar" }, h("div", { class: `bar ${cls}` }, h("i", { style: { transform: `scaleX(${f.toFixed(3)})` } })),
      h("span", { class: "val" }, text)));
}

export class ProcessTable {
  constructor() {
    this.sort = loadSort();
    this.list = null;
    this.ctx = { cores: 1, memTotal: null };
    this.drawnKey = "";
    this.tbody = h("tbody");
    const sortable = (col, label) => {
      const th = h("th", { scope: "col", class: "num", dataset: { col } },
        h("button", { type: "button", class: "sort", onclick: () => this.sortBy(col) }, label));
      return th;
    };
    this.heads = { cpu: sortable("cpu", "CPU"), mem: sortable("mem", "Memory") };
    this.heads.cpu.title = "% of one core, as top shows it; the bar is the share of the whole machine";
    this.table = h("table", { class: "proc-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "num" }, "PID"), h("th", { scope: "col" }, "Name"),
        h("th", { scope: "col" }, "User"), this.heads.cpu, this.heads.mem, h("th", { scope: "col" }, "Command"))),
      this.tbody);
    this.el = h("div", { class: "table-wrap" }, this.table);
    this.markSort();
  }

  sortBy(col) {
    this.sort = this.sort.col === col ? { col, desc: !this.sort.desc } : { col, desc: true };
    try { localStorage.setItem(SORT_KEY, JSON.stringify(this.sort)); } catch { /* ignore */ }
    this.markSort();
    this.draw(true);
  }

  markSort() {
    for (const [col, th] of Object.entries(this.heads)) {
      th.setAttribute("aria-sort", col === this.sort.col ? (this.sort.desc ? "descending" : "ascending") : "none");
    }
  }

  /** A new list `{ts, items}` (or the same one again: drawn only when it changed). */
  set(list, { cores, memTotal }) {
    this.list = list;
    this.ctx = { cores: cores || 1, memTotal: memTotal || null };
    this.draw(false);
  }

  draw(force) {
    const key = `${this.list?.ts}|${this.ctx.cores}|${this.ctx.memTotal}`;
    if (!force && key === this.drawnKey) return;
    this.drawnKey = key;
    const items = [...(this.list?.items || [])];
    const field = this.sort.col === "cpu" ? (p) => p.cpu_percent : (p) => p.rss;
    const dir = this.sort.desc ? -1 : 1;
    items.sort((a, b) => dir * ((field(a) ?? -1) - (field(b) ?? -1)) || a.pid - b.pid);
    const { cores, memTotal } = this.ctx;
    this.tbody.replaceChildren(...items.map((p) => {
      const cmd = p.cmdline || (p.name ? `[${p.name}]` : "");
      const mem = memTotal && p.rss != null ? ` (${fmt.pct((100 * p.rss) / memTotal, 1)} of memory)` : "";
      return h("tr", { dataset: { pid: String(p.pid) }, title: cmd },
        h("td", { class: "num" }, String(p.pid)),
        h("td", { class: "proc-name" }, p.name || "?"),
        h("td", { class: "muted" }, p.user ?? "–"),
        barCell(p.cpu_percent, 100 * cores, fmt.pct(p.cpu_percent, 1),
          p.cpu_percent == null ? "not measured yet" : `${p.cpu_percent.toFixed(1)} % of one core (${cores} cores)`),
        barCell(p.rss, memTotal, fmt.bytes(p.rss), p.rss == null ? "" : `${p.rss.toLocaleString()} bytes resident${mem}`, "mem"),
        h("td", { class: "proc-cmd" }, cmd));
    }));
  }
}

const STATE_LEVEL = { running: "ok", paused: "warn", restarting: "warn", created: "", exited: "off", dead: "bad", removing: "warn" };

export class ContainerTable {
  constructor() {
    this.tbody = h("tbody");
    this.drawnKey = "";
    this.el = h("div", { class: "table-wrap" }, h("table", { class: "proc-table container-table" },
      h("thead", {}, h("tr", {}, ...["Name", "Image", "State"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "num", title: "% of one core, as docker stats shows it" }, "CPU"),
        h("th", { scope: "col", class: "num" }, "Memory"))),
      this.tbody));
  }

  set(items, { cores, memTotal }) {
    const list = [...(items || [])].sort((a, b) => (a.state === "running" ? 0 : 1) - (b.state === "running" ? 0 : 1) ||
      String(a.name).localeCompare(String(b.name)));
    const key = JSON.stringify([list, cores, memTotal]);
    if (key === this.drawnKey) return;
    this.drawnKey = key;
    this.tbody.replaceChildren(...list.map((c) => h("tr", { dataset: { container: c.id, state: c.state || "" } },
      h("td", { class: "proc-name", title: c.id }, c.name || c.id),
      h("td", { class: "muted proc-cmd", title: c.image }, c.image || ""),
      h("td", {}, h("span", { class: "state-chip", dataset: { level: STATE_LEVEL[c.state] ?? "" } }, c.state || "unknown")),
      barCell(c.cpu_percent, 100 * (cores || 1), fmt.pct(c.cpu_percent, 1),
        c.cpu_percent == null ? (c.state === "running" ? "measured from the next poll" : "not running") : `${c.cpu_percent.toFixed(1)} % of one core`),
      barCell(c.mem_used, memTotal, fmt.bytes(c.mem_used), c.mem_used == null ? "not running" : `${c.mem_used.toLocaleString()} bytes`, "mem"))));
  }
}
