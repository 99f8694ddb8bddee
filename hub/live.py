"""What a stored push changes in the live picture: the in-memory fleet and the SSE streams.

The same for a push this hub stored and for one another hub on the same store stored and
told us about (`Store.peer_news`), so every hub's fleet view and streams show every node.
"""
from __future__ import annotations

import time

from .events import encode
from .fleet import NodeState
from .state import HubState
from .store import PeerNews

WATCH_ANNOUNCE_S = 5.0  # how often a hub says which nodes its dashboards follow live


def show_push(hub: HubState, node_id: str, identity: dict, samples: list[dict], now: float) -> NodeState:
    node = hub.fleet.apply_ingest(node_id, identity, samples, now)
    hub.alerts.observe(node_id, identity, samples, now)
    hub.events.dirty.add(node_id)
    if hub.events.watched(node_id):
        for s in sorted(samples, key=lambda s: s["ts"]):
            hub.events.publish_node(node_id, encode("sample", s))
    if node.status != "online" and hub.fleet.status(node, now) == "online":
        previous, node.status = node.status, "online"
        chunk = encode("status", {"id": node_id, "status": "online", "previous": previous})
        hub.events.publish_fleet(chunk)
        hub.events.publish_node(node_id, chunk)
    return node


def show_peer_news(hub: HubState, news: PeerNews) -> None:
    for p in news.pushes:
        show_push(hub, p.node_id, p.identity, p.samples, p.now)
    if news.jobs_changed:
        hub.events.jobs_dirty = True
    if news.tokens_changed:
        hub.tokens.forget_all()
    if news.alerts_changed and hub.alerts is not None:
        hub.alerts.changed_elsewhere()
    until = time.monotonic() + WATCH_ANNOUNCE_S * 2.5
    for node_id in news.watched:
        hub.events.watched_elsewhere[node_id] = until
