"""Typed application state shared by the routes and background tasks."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .alerts.service import Alerts
from .auth import TokenCache
from .config import HubConfig
from .events import Broadcaster
from .fleet import FleetState
from .group_commit import GroupCommit
from .rollup import Rollups
from .store import AsyncStore


@dataclass
class HubState:
    config: HubConfig
    db: AsyncStore
    fleet: FleetState
    events: Broadcaster
    tokens: TokenCache
    rollups: Rollups
    join_attempts: dict
    ingest_writes: GroupCommit
    alerts: Alerts | None = None


HUB = web.AppKey("hub", HubState)


def hub_state(request: web.Request) -> HubState:
    return request.app[HUB]
