// Drawing: SVG sparklines for cards, canvas sparklines for the per-core grid, load
// colours, and a thin wrapper over uPlot (loaded only when a drill-down opens).

import { h } from "./dom.js";

const UPLOT_URL = "../vendor/uplot-1.6.32/uPlot.esm.js";
const UPLOT_CSS = "/static/vendor/uplot-1.6.32/uPlot.min.css";
let uPlotModule = null;

/** uPlot and its stylesheet, fetched when the first chart is drawn (the fleet page draws none). */
export async function loadUPlot() {
  if (!uPlotModule) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = UPLOT_CSS;
    const styled = new Promise((resolve) => { css.onload = css.onerror = resolve; });
    document.head.append(css);
    uPlotModule = Promise.all([import(UPLOT_URL), styled]).then(([m]) => m.default);
  }
  return uPlotModule;
}

/** Colour for a load percentage: calm blue-green at 0 %, amber mid-way, red at 100 %. */
export function loadColor(p) {
  if (p == null || !Number.isFinite(p)) return "var(--cell-empty)";
  const t = Math.max(0, Math.min(1, p / 100));
  const hue = 190 - 190 * t;
  return `hsl(${hue.toFixed(0)} 70% ${(34 + 14 * t).toFixed(0)}%)`;
}

/** An SVG line of up to `capacity` points scaled to 0–100; updated by setting one attribute. */
export class Sparkline {
  /** `el`: an empty sparkline's <svg> cloned from another (the fleet clones whole cards), to adopt. */
  constructor(capacity = 30, label = "CPU history", el = null) {
    this.capacity = capacity;
    if (el) {
      this.el = el;
      this.line = el.firstChild;
      el.setAttribute("aria-label", label);
    } else {
      this.line = h("svg:polyline", { class: "spark-line", fill: "none", "vector-effect": "non-scaling-stroke" });
      this.el = h("svg:svg", { class: "spark", viewBox: `0 -6 ${capacity - 1} 112`, preserveAspectRatio: "none",
                               role: "img", "aria-label": label }, this.line);
    }
    this.values = [];
    this.drawn = "";
  }

  set(values) {
    this.values = values.slice(-this.capacity);
    this.draw();
  }

  push(v) {
    this.values.push(v);
    if (this.values.length > this.capacity) this.values.shift();
    this.draw();
  }

  draw() {
    const off = this.capacity - this.values.length;
    let pts = "";
    this.values.forEach((v, i) => {
      if (v == null) return;
      const y = 100 - Math.max(0, Math.min(100, v));
      pts += `${off + i},${y.toFixed(1)} `;
    });
    if (pts !== this.drawn) {
      this.line.setAttribute("points", pts);
      this.drawn = pts;
    }
  }
}

/** Draw a 0–100 series into a small canvas (the per-core grid: dozens of them, 1 Hz). */
export function drawCanvasSpark(canvas, values, color) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, hgt = canvas.clientHeight;
  if (!w || !hgt) return;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(hgt * dpr)) canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const n = values.length;
  if (n < 2) return;
  ctx.beginPath();
  let started = false;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) { started = false; continue; }
    const x = (i / (n - 1)) * w;
    const y = hgt - (Math.max(0, Math.min(100, v)) / 100) * (hgt - 2) - 1;
    if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.25;
  ctx.stroke();
}

const pad = (n) => String(n).padStart(2, "0");

const WEEK_S = 8 * 86400;
const QUARTER_S = 100 * 86400;

/** Axis labels sized to the visible span: seconds for the live window, hours for a day,
 * weekday and day for a week (midnights), day and month for a month, and months (with the
 * year at January and on the first label) for longer: a weekday and a day repeat within a
 * year, so "Sun 1" could name two ticks of the 1 y chart. */
function timeLabels(splits, span) {
  return splits.map((ts, i) => {
    const d = new Date(ts * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (span <= 900) return `${hm}:${pad(d.getSeconds())}`;
    if (span <= 86400 + 3600) return hm;
    if (span <= WEEK_S) {
      return d.getHours() === 0 && d.getMinutes() === 0
        ? d.toLocaleDateString(undefined, { weekday: "short", day: "numeric" }) : hm;
    }
    if (span <= QUARTER_S) return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
    return i === 0 || d.getMonth() === 0
      ? d.toLocaleDateString(undefined, { month: "short", year: "numeric" })
      : d.toLocaleDateString(undefined, { month: "short" });
  });
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Smallest drag (in CSS pixels) taken as a zoom rather than a click. */
const MIN_ZOOM_PX = 6;

/**
 * A time-series chart. `series` is [{label, color, fmt}], `axisFmt` formats the y axis.
 * `setData([xs, ys1, ys2, ...])` updates in place; the chart follows its box's width.
 * Charts given the same `syncKey` share one cursor (pointing at one shows the same moment in
 * all); dragging across a chart calls `onZoom(min, max)` with the time span selected, and a
 * double click calls `onZoom(null)`.
 */
export class TimeChart {
  constructor(uPlot, container, { series, axisFmt, yRange = null, yFloor = 1, height = 180, syncKey = null,
                                  onZoom = null }) {
    this.uPlot = uPlot;
    this.container = container;
    this.opts = { series, axisFmt, yRange, yFloor, height, syncKey, onZoom };
    this.data = [[], ...series.map(() => [])];
    this.xRange = null;
    this.plot = null;
    this.build();
    this.hovering = false;
    container.addEventListener("pointerenter", () => { this.hovering = true; });
    container.addEventListener("pointerleave", () => {
      this.hovering = false;
      // After uPlot's own mouseleave handler, which blanks the legend.
      setTimeout(() => { if (!this.hovering && this.data[0].length) this.plot?.setLegend({ idx: this.data[0].length - 1 }, false); }, 0);
    });
    this.resizer = new ResizeObserver(() => this.fit());
    this.resizer.observe(container);
  }

  build() {
    const { series, axisFmt, yRange, yFloor, height, syncKey, onZoom } = this.opts;
    const grid = cssVar("--grid"), text = cssVar("--muted");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
                   font: "11px system-ui, sans-serif" };
    const opts = {
      width: Math.max(200, this.container.clientWidth),
      height,
      cursor: {
        drag: { x: Boolean(onZoom), y: false, setScale: false },
        points: { size: 6 },
        ...(syncKey ? { sync: { key: syncKey, setSeries: false } } : {}),
      },
      hooks: onZoom ? {
        setSelect: [(u) => {
          const { left, width } = u.select;
          // Synced charts replay the drag too: only the one under the pointer decides the zoom.
          if (width < MIN_ZOOM_PX || !this.hovering) return;
          const lo = u.posToVal(left, "x"), hi = u.posToVal(left + width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          onZoom(lo, hi);
        }],
      } : {},
      legend: { live: true },
      scales: { x: { time: true }, y: yRange ? { range: yRange } : { range: (u, lo, hi) => [0, Math.max(hi ?? 0, yFloor) * 1.1] } },
      axes: [
        { ...axis, values: (u, splits) => {
          const labels = timeLabels(splits, u.scales.x.max - u.scales.x.min);
          this.container.dataset.xLabels = labels.join("|");  // what the canvas shows, for tests and tools
          return labels;
        } },
        { ...axis, size: 64, values: (u, vals) => vals.map((v) => axisFmt(v)) },
      ],
      series: [
        { value: (u, ts) => (ts == null ? "–" : new Date(ts * 1000).toLocaleString(undefined, { hour12: false })) },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: 1.5, fill: s.fill ? `${s.color}22` : undefined,
          spanGaps: false, points: { show: false },
          value: (u, v) => s.fmt(v),
        })),
      ],
    };
    this.plot?.destroy();
    this.plot = new this.uPlot(opts, this.data, this.container);
    if (onZoom && !this.dblBound) {
      this.dblBound = true;
      // uPlot's own double click zooms out to the data; the page decides what "out" is.
      this.container.addEventListener("dblclick", (ev) => { ev.stopPropagation(); onZoom(null); }, true);
    }
    if (this.xRange) this.setData(this.data, this.xRange);
  }

  fit() {
    const w = this.container.clientWidth;
    if (this.plot && w && Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: this.opts.height });
  }

  /** New data; `xRange` [min, max] pins the time axis (the live window slides even between samples). */
  setData(data, xRange = null) {
    this.data = data;
    this.xRange = xRange;
    const p = this.plot;
    if (!p) return;
    p.batch(() => {
      p.setData(data);
      if (xRange) p.setScale("x", { min: xRange[0], max: xRange[1] });
    });
    if (xRange) {
      this.container.dataset.xMin = xRange[0].toFixed(3);
      this.container.dataset.xMax = xRange[1].toFixed(3);
    }
    // With the pointer elsewhere, the legend reads out the newest point instead of dashes.
    if (!this.hovering && data[0].length) p.setLegend({ idx: data[0].length - 1 }, false);
  }

  /** Rebuild with the current theme's colours. */
  retheme() { this.build(); }

  destroy() {
    this.resizer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
