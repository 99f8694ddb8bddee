// The hub's vocabularies (GET /api/meta, from forge_contracts/vocabulary.py): the job
// statuses in their order, which of them are final, the tone of each status and
// outcome, and the node charts' time ranges. Read once per page load; pages await
// `loadVocab()` before they first draw.
//
// Without it (the hub is unreachable or too old to serve it) a page still draws: the job
// statuses are the keys of the queue's own `counts`, every pill is neutral, no status
// counts as final (pages keep polling and offer every action, which the hub refuses if
// it must), the node page shows only its newest samples, live, without range buttons,
// and the page says that the vocabularies could not be read. There is no list of
// statuses or ranges here to drift from the hub's.

import { getJSON } from "./api.js";

let meta = null;
let pending = null;

/** The meta, or null with `error` set; a failed read is tried again by the next caller. */
export async function loadVocab() {
  if (meta) return { meta, error: null };
  pending ??= getJSON("/api/meta").then((m) => { meta = m; }).finally(() => { pending = null; });
  try {
    await pending;
    return { meta, error: null };
  } catch (e) {
    if (e.name === "AuthError") throw e;
    return { meta: null, error: e };
  }
}

/** The job statuses, in the hub's order; `counts` (the queue's, status -> n) stands in without the meta. */
export function jobStatuses(counts = {}) {
  return meta ? meta.job_statuses.map((t) => t.name) : Object.keys(counts);
}

export function isFinal(status) {
  return Boolean(meta?.job_statuses.find((t) => t.name === status)?.final);
}

/** The colour role of a job status or attempt outcome: neutral, active, good, warn, bad or muted (app.css). */
export function toneOf(name) {
  const term = meta && [...meta.job_statuses, ...meta.attempt_outcomes].find((t) => t.name === name);
  return term ? term.tone : "neutral";
}

/** The words that say why `meta` is missing, for a page's notice. */
export function vocabError(error) {
  return `Could not read this hub's statuses (GET /api/meta: ${error.message}); status colours are plain.`;
}

/** The node charts' time ranges, shortest first ({key, label, seconds, resolution, points, step, every, live, refresh_s}); null without the meta. */
export function timeRanges() {
  return meta ? meta.time_ranges : null;
}

/** The words that say why the node page has no time ranges. */
export function rangesError(error) {
  return `Could not read this hub's time ranges (GET /api/meta: ${error.message}); showing the newest samples only, live.`;
}
