// The alerts firing now, shared by every page: the header count, the tab title, the red
// edge on fleet cards and the node page's list. Kept fresh by the alerts-only SSE stream
// (/api/alerts/events) and re-read every 30 s and after every reconnect.

import { getJSON, Stream } from "./api.js";
import { h, setText } from "./dom.js";

const listeners = new Set();
let open = [];   // alerts not yet resolved (firing or paused), newest first
let started = false;

export const UNITS = { offline: "s", cpu: "%", memory: "%", swap: "%", disk: "%", temperature: "°C",
  load: "per core", net_rx: "B/s", net_tx: "B/s", gpu: "%", battery: "%", reboot: "", disk_fill_hours: "h" };

export function openAlerts() { return open; }

/** Ids of nodes with an alert firing (paused ones excluded: their node is offline). */
export function firingNodes() {
  return new Set(open.filter((a) => a.state === "firing").map((a) => a.node_id));
}

/** Call `fn(openAlerts)` now and on every change; returns the unsubscribe function. */
export function onAlerts(fn) {
  listeners.add(fn);
  fn(open);
  return () => listeners.delete(fn);
}

async function refresh() {
  try {
    const body = await getJSON("/api/alerts?state=firing&limit=1000");
    open = body.alerts || [];
    for (const fn of listeners) fn(open);
  } catch { /* the hub is away: keep the last known list */ }
}

function firingCount() { return open.filter((a) => a.state === "firing").length; }

/** The header link ("3 firing") and the "(3) " prefix of the tab title. */
function mountHeader() {
  const link = h("a", { id: "alert-count", class: "alert-count", href: "#/alerts", hidden: true,
                        "aria-live": "polite" });
  document.getElementById("conn")?.before(link);
  const titled = (t) => t.replace(/^\(\d+\) /, "");
  const setTitle = () => {
    const n = firingCount();
    const want = n ? `(${n}) ${titled(document.title)}` : titled(document.title);
    if (document.title !== want) document.title = want;
  };
  // Pages set their own titles (a node's name); keep the count in front of whatever they set.
  const titleEl = document.querySelector("title");
  if (titleEl) new MutationObserver(setTitle).observe(titleEl, { childList: true, characterData: true, subtree: true });
  onAlerts(() => {
    const n = firingCount();
    link.hidden = n === 0;
    setText(link, `${n} firing`);
    link.setAttribute("aria-label", `${n} alert${n === 1 ? "" : "s"} firing: open the alerts page`);
    setTitle();
  });
}

export function startAlerts() {
  if (started) return;
  started = true;
  mountHeader();
  refresh();
  new Stream("/api/alerts/events", { alert: () => refresh() },
    { onOpen: () => refresh(), onState: () => {} });
  setInterval(refresh, 30000);
}

/** A self-updating list of one node's open alerts (for the node page). */
export function nodeAlerts(nodeId) {
  const box = h("div", { class: "node-alerts", hidden: true, role: "status" });
  const off = onAlerts((alerts) => {
    const mine = alerts.filter((a) => a.node_id === nodeId);
    box.hidden = mine.length === 0;
    box.replaceChildren(...mine.map((a) => h("div", { class: "node-alert", dataset: { severity: a.severity, state: a.state } },
      h("strong", {}, a.state === "paused" ? "Paused" : "Firing"), " ",
      h("a", { href: "#/alerts" }, a.rule_name), ": ", describe(a))));
  });
  return { el: box, close: off };
}

export function describe(a) {
  const unit = UNITS[a.metric] ?? "";
  if (a.metric === "reboot") return "rebooted";
  const v = a.value == null ? "?" : (Math.abs(a.value) >= 100 ? a.value.toFixed(0) : a.value.toFixed(1));
  return `${a.metric} ${v} ${unit} (${a.op} ${a.threshold} ${unit})`.replace(/\s+/g, " ").trim();
}
