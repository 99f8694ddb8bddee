// The hub's vocabularies (GET /api/meta, from forge_contracts/vocabulary.py): job statuses,
// attempt outcomes, node statuses, time ranges and job types. Loaded once before a page
// that needs them renders (app.js); the exports are filled in place, so importers keep
// their bindings.

import { getJSON } from "./api.js";

export const STATUSES = [];
export const FINAL = new Set();
export const META = {};
let loading = null;

/** Fetch the vocabularies once; a failed load (an AuthError before sign-in) is retried next call. */
export function loadMeta() {
  if (!loading) {
    loading = getJSON("/api/meta").then((meta) => {
      Object.assign(META, meta);
      STATUSES.splice(0, STATUSES.length, ...meta.job_statuses.map((s) => s.name));
      FINAL.clear();
      for (const s of meta.job_statuses) if (s.final) FINAL.add(s.name);
      return META;
    }, (e) => { loading = null; throw e; });
  }
  return loading;
}
