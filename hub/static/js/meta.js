// The hub's vocabularies (GET /api/meta, from forge_contracts/vocabulary.py): job statuses,
// attempt outcomes, node statuses, time ranges and job types. Loaded once before a page
// that needs them renders (app.js); the exports are filled in place, so importers keep
// their bindings.

import { getJSON } from "./api.js";

export const STATUSES = [];
export const FINAL = new Set();
export const META = {};
/** A node chart's ranges by key, in the hub's order; `step` is the tier's point spacing (s). */
export const TIME_RANGES = {};
const TIER_STEP_S = { "1s": 1, "1m": 60, "1h": 3600 };
let loading = null;

/** Fetch the vocabularies once; a failed load (an AuthError before sign-in) is retried next call. */
export function loadMeta() {
  if (!loading) {
    loading = getJSON("/api/meta").then((meta) => {
      Object.assign(META, meta);
      STATUSES.splice(0, STATUSES.length, ...meta.job_statuses.map((s) => s.name));
      FINAL.clear();
      for (const s of meta.job_statuses) if (s.final) FINAL.add(s.name);
      for (const r of meta.time_ranges) {
        TIME_RANGES[r.key] = { ...r, step: TIER_STEP_S[r.resolution], refreshS: r.refresh_s };
      }
      return META;
    }, (e) => { loading = null; throw e; });
  }
  return loading;
}
