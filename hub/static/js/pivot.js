// A 2-parameter sweep's results as a grid: one row per factor of the first parameter, one
// column per factor of the second, each cell the ranked result (objective or makespan) of
// the scenario with those factors, shaded from best to worst.

import { h } from "./dom.js";

/**
 * The grid of `jobs` over `grid` ({param: [factors]}, exactly two params), ranked by `rank`
 * with `dir` 1 when lower is better. Each cell is {job, v} or null; `best`/`worst` bound the shading.
 */
export function pivot(jobs, grid, factorsOf, rank, dir) {
  const [rowKey, colKey] = Object.keys(grid);
  const rows = grid[rowKey], cols = grid[colKey];
  const cells = rows.map(() => cols.map(() => null));
  for (const job of jobs) {
    const f = factorsOf(job);
    const i = rows.indexOf(f[rowKey]), j = cols.indexOf(f[colKey]);
    if (i < 0 || j < 0) continue;
    const v = job.status === "succeeded" && typeof job.result?.[rank] === "number" ? job.result[rank] : null;
    cells[i][j] = { job, v };
  }
  const values = cells.flat().filter((c) => c && c.v != null).map((c) => c.v);
  const best = values.length ? (dir > 0 ? Math.min(...values) : Math.max(...values)) : null;
  const worst = values.length ? (dir > 0 ? Math.max(...values) : Math.min(...values)) : null;
  return { rowKey, colKey, rows, cols, cells, best, worst };
}

/** The pivot as a table; `show(v)` formats a value, `href(job)` links a cell to its job. */
export function pivotTable(p, rankLabel, show, href, outcomeText) {
  const span = p.worst != null && p.best != null ? Math.abs(p.worst - p.best) : 0;
  const name = (k) => k.replace(/_/g, " ");
  return h("table", { class: "pivot-table", "aria-label": `${rankLabel} by ${name(p.rowKey)} and ${name(p.colKey)}` },
    h("thead", {},
      h("tr", {}, h("th", { scope: "col", class: "pivot-corner" }, `${name(p.rowKey)} ↓ · ${name(p.colKey)} →`),
        ...p.cols.map((c) => h("th", { scope: "col", class: "num" }, `× ${c}`)))),
    h("tbody", {}, ...p.rows.map((r, i) => h("tr", {},
      h("th", { scope: "row", class: "num" }, `× ${r}`),
      ...p.cols.map((c, j) => {
        const cell = p.cells[i][j];
        if (!cell) return h("td", { class: "num pivot-empty" }, "–");
        const { job, v } = cell;
        if (v == null) {
          return h("td", { class: "num pivot-none", dataset: { status: job.status } },
            h("a", { href: href(job) }, outcomeText(job)));
        }
        const isBest = v === p.best;
        // 0 at the best, 1 at the worst: the best cell is the strongest green, the worst the faintest.
        const t = span > 0 ? Math.abs(v - p.best) / span : 0;
        return h("td", { class: `num pivot-cell${isBest ? " best" : ""}`, dataset: { job: job.id },
                         style: { background: `color-mix(in srgb, var(--ok) ${Math.round(8 + (1 - t) * 42)}%, transparent)` },
                         title: `${name(p.rowKey)} × ${p.rows[i]}, ${name(p.colKey)} × ${c}: ${rankLabel.toLowerCase()} ${show(v)}` },
          h("a", { href: href(job) }, show(v)), isBest ? h("span", { class: "best-tag" }, "best") : null);
      })))));
}
