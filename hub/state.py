"""Typed application state shared by the routes and background tasks."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from .alerts.service import Alerts
from .auth import TokenCache
from .config import HubConfig
from .events import Broadcaster
from .fleet import FleetState
from .limits import AttemptWindow
from .store import JobQueue, NodeStore, SampleStore, Store


@dataclass
class HubState:
    config: HubConfig
    store: Store
    fleet: FleetState
    events: Broadcaster
    tokens: TokenCache
    join_attempts: AttemptWindow
    alerts: Alerts | None = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the hub starts shutting down: held requests (claims, event streams) end at once."""

    @property
    def samples(self) -> SampleStore:
        return self.store.samples

    @property
    def nodes(self) -> NodeStore:
        return self.store.nodes

    @property
    def jobs(self) -> JobQueue:
        return self.store.jobs


HUB = web.AppKey("hub", HubState)


def hub_state(request: web.Request) -> HubState:
    return request.app[HUB]
