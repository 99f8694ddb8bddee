// "/": the hub's own machine, like the single-node dashboard this project grew from.

import { getJSON } from "./api.js";
import { renderFleet } from "./fleet.js";
import { renderNode } from "./node.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

function short(name) {
  return (name || "").toLowerCase().split(".")[0];
}

/**
 * The node on the hub's machine: the hub's hostname when `/api/health` reports it,
 * else the host name in the address bar (a Tailscale name such as `studio` or
 * `studio.tailnet.ts.net`), else the first node. Null when no node has reported yet.
 */
export function pickHomeNode(nodes, hubHostname, pageHost) {
  if (!nodes.length) return null;
  for (const want of [hubHostname, LOOPBACK.has(pageHost) ? null : pageHost]) {
    if (!want) continue;
    const w = short(want);
    const hit = nodes.find((n) => short(n.hostname) === w || short(n.name) === w || short(n.id) === w);
    if (hit) return hit;
  }
  return nodes.find((n) => n.status === "online") || nodes[0];
}

export async function renderHome(view) {
  const [fleet, health] = await Promise.all([
    getJSON("/api/fleet"),
    getJSON("/api/health").catch(() => ({})),
  ]);
  const node = pickHomeNode(fleet.nodes, health.hostname, location.hostname);
  if (!node) return renderFleet(view);
  return renderNode(view, { id: node.id }, { home: true });
}
