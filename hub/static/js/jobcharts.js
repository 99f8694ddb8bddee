// Result charts for the job page, drawn as SVG at the box's pixel width (redrawn on
// resize) so text stays crisp: a job-shop Gantt chart and a lot-sizing capacity chart.

import { h } from "./dom.js";

/** A round tick step giving about `target` ticks up to `max`. */
export function niceStep(max, target = 6) {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
}

function ticks(max, target) {
  const step = niceStep(max, target);
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

/** A colour per job that stays apart from its neighbours (golden-angle hues). */
export function jobColor(job) {
  return `hsl(${Math.round((job * 137.508) % 360)} 58% 52%)`;
}

/**
 * A box that draws an SVG at its own width and again whenever that width changes, with
 * one tooltip element. `draw(width)` returns the SVG.
 */
class SvgBox {
  constructor(className, label, draw) {
    this.draw = draw;
    this.tip = h("div", { class: "chart-tip", role: "tooltip", hidden: true });
    this.el = h("div", { class: `svg-chart ${className}`, role: "figure", "aria-label": label }, this.tip);
    this.width = 0;
    this.resizer = new ResizeObserver(() => this.redraw());
    this.resizer.observe(this.el);
  }

  redraw() {
    const w = Math.floor(this.el.clientWidth);
    if (!w || w === this.width) return;
    this.width = w;
    const svg = this.draw(w);
    this.svg?.remove();
    this.svg = svg;
    this.el.prepend(svg);
  }

  /** Show `lines` near the pointer, kept inside the box. */
  showTip(ev, lines) {
    this.tip.replaceChildren(...lines.map((l, i) => h("div", { class: i ? null : "tip-head" }, l)));
    this.tip.hidden = false;
    const box = this.el.getBoundingClientRect();
    const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
    let x = ev.clientX - box.left + 14;
    let y = ev.clientY - box.top + 14;
    if (x + tw > box.width) x = Math.max(0, ev.clientX - box.left - tw - 10);
    if (y + th > box.height) y = Math.max(0, ev.clientY - box.top - th - 10);
    this.tip.style.transform = `translate(${x}px, ${y}px)`;
  }

  hideTip() { this.tip.hidden = true; }

  destroy() { this.resizer.disconnect(); }
}

function axisText(x, y, text, anchor = "middle", cls = "axis-text") {
  return h("svg:text", { x, y, "text-anchor": anchor, class: cls }, text);
}

/**
 * A job-shop schedule: one row per machine, one bar per operation coloured by job.
 * Hovering an operation names it and lights up the rest of its job.
 */
export function ganttChart(schedule, { makespan = null, machines = null } = {}) {
  const ids = [...new Set(schedule.map((s) => s.machine))];
  if (Number.isInteger(machines)) for (let m = 0; m < machines; m++) if (!ids.includes(m)) ids.push(m);
  ids.sort((a, b) => a - b);
  const end = Math.max(makespan ?? 0, ...schedule.map((s) => s.end), 1);
  const jobs = new Set(schedule.map((s) => s.job)).size;
  const rowH = ids.length > 30 ? 16 : 24, gap = 4, left = 74, right = 16, top = 8, bottom = 28;

  const box = new SvgBox("gantt", `Schedule: ${ids.length} machines, ${jobs} jobs, makespan ${end}`, (width) => {
    const plotW = Math.max(50, width - left - right);
    const height = top + ids.length * (rowH + gap) + bottom;
    const x = (t) => left + (t / end) * plotW;
    const svg = h("svg:svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "gantt-svg" });
    ids.forEach((m, i) => {
      const y = top + i * (rowH + gap);
      svg.append(h("svg:rect", { x: left, y, width: plotW, height: rowH, class: "gantt-lane", dataset: { machine: m } }),
        axisText(left - 8, y + rowH / 2 + 4, `Machine ${m}`, "end"));
    });
    for (const t of ticks(end, Math.max(2, Math.floor(plotW / 70)))) {
      svg.append(h("svg:line", { x1: x(t), x2: x(t), y1: top, y2: height - bottom + 4, class: "grid-line" }),
        axisText(x(t), height - bottom + 17, String(t)));
    }
    const row = new Map(ids.map((m, i) => [m, i]));
    for (const op of schedule) {
      const y = top + row.get(op.machine) * (rowH + gap);
      const w = Math.max(1, x(op.end) - x(op.start));
      const g = h("svg:g", { class: "gantt-op", dataset: { job: op.job, machine: op.machine } },
        h("svg:rect", { x: x(op.start), y: y + 1, width: w, height: rowH - 2, rx: 3, style: { fill: jobColor(op.job) } }));
      if (w >= 22 && rowH >= 20) g.append(axisText(x(op.start) + w / 2, y + rowH / 2 + 4, `J${op.job}`, "middle", "gantt-label"));
      g.addEventListener("pointerenter", (ev) => { svg.classList.add("dim"); mark(svg, op.job, true); tip(ev, op); });
      g.addEventListener("pointermove", (ev) => tip(ev, op));
      g.addEventListener("pointerleave", () => { svg.classList.remove("dim"); mark(svg, op.job, false); box.hideTip(); });
      svg.append(g);
    }
    if (makespan != null) {
      svg.append(h("svg:line", { x1: x(makespan), x2: x(makespan), y1: top - 4, y2: height - bottom + 4, class: "makespan-line" }));
    }
    return svg;
  });

  function mark(svg, job, on) {
    for (const g of svg.querySelectorAll(`.gantt-op[data-job="${job}"]`)) g.classList.toggle("hl", on);
  }

  function tip(ev, op) {
    box.showTip(ev, [`Job ${op.job}, operation ${op.op}`, `Machine ${op.machine}`,
      `${op.start} → ${op.end} (${op.end - op.start})`]);
  }

  queueMicrotask(() => box.redraw());
  return box;
}

/**
 * Capacity use per period of a lot-sizing plan: production and setup time stacked,
 * against each period's capacity (overtime shows as the part above it).
 */
export function capacityChart(use, fmtValue) {
  const periods = use.length;
  const top = 18, bottom = 30, left = 56, right = 12, height = 240;
  const maxV = 1.08 * Math.max(1, ...use.map((u) => Math.max(u.capacity + (u.overtime || 0), u.used, u.capacity)));
  const yTicks = ticks(maxV, 5);
  const yMax = yTicks[yTicks.length - 1];

  const box = new SvgBox("capacity", `Capacity use over ${periods} periods`, (width) => {
    const plotW = Math.max(50, width - left - right);
    const plotH = height - top - bottom;
    const y = (v) => top + plotH - (v / yMax) * plotH;
    const slot = plotW / Math.max(1, periods);
    const barW = Math.max(2, Math.min(64, slot * 0.62));
    const svg = h("svg:svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "capacity-svg" });
    for (const v of yTicks) {
      svg.append(h("svg:line", { x1: left, x2: left + plotW, y1: y(v), y2: y(v), class: "grid-line" }),
        axisText(left - 6, y(v) + 4, fmtValue(v), "end"));
    }
    const every = Math.ceil(periods / Math.max(1, Math.floor(plotW / 28)));
    use.forEach((u, i) => {
      const cx = left + slot * (i + 0.5);
      const x0 = cx - barW / 2;
      const prod = u.production_time || 0, setup = u.setup_time || 0;
      const share = u.capacity > 0 ? (u.used / u.capacity) * 100 : null;
      const g = h("svg:g", { class: "cap-period", dataset: { period: u.period } },
        h("svg:rect", { x: left + slot * i, y: top, width: slot, height: plotH, class: "cap-hit" }),
        h("svg:rect", { x: x0, y: y(prod), width: barW, height: Math.max(0, y(0) - y(prod)), class: "cap-prod" }),
        h("svg:rect", { x: x0, y: y(prod + setup), width: barW, height: Math.max(0, y(prod) - y(prod + setup)), class: "cap-setup" }));
      if (u.overtime > 0) {
        g.append(h("svg:rect", { x: x0, y: y(u.capacity + u.overtime), width: barW,
                                 height: Math.max(0, y(u.capacity) - y(u.capacity + u.overtime)), class: "cap-over" }));
      }
      g.append(h("svg:line", { x1: cx - slot * 0.45, x2: cx + slot * 0.45, y1: y(u.capacity), y2: y(u.capacity), class: "cap-line" }));
      if (i % every === 0) svg.append(axisText(cx, height - bottom + 17, String(u.period + 1)));
      if (share != null && slot >= 34) g.append(axisText(cx, y(Math.max(u.used, u.capacity)) - 6, `${share.toFixed(0)} %`, "middle", "cap-share"));
      g.addEventListener("pointerenter", (ev) => tip(ev, u, share));
      g.addEventListener("pointermove", (ev) => tip(ev, u, share));
      g.addEventListener("pointerleave", () => box.hideTip());
      svg.append(g);
    });
    return svg;
  });

  function tip(ev, u, share) {
    const lines = [`Period ${u.period + 1}`, `Production time ${fmtValue(u.production_time)}`,
      `Setup time ${fmtValue(u.setup_time)}`,
      `Used ${fmtValue(u.used)} of ${fmtValue(u.capacity)}${share == null ? "" : ` (${share.toFixed(0)} %)`}`];
    if (u.overtime > 0) lines.push(`Overtime ${fmtValue(u.overtime)}`);
    box.showTip(ev, lines);
  }

  queueMicrotask(() => box.redraw());
  return box;
}

/** The legend under a chart: [label, class] pairs drawn as swatches. */
export function legend(entries) {
  return h("div", { class: "chart-legend" },
    ...entries.map(([label, cls]) => h("span", {}, h("i", { class: `swatch ${cls}` }), label)));
}
