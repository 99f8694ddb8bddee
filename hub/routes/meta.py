"""GET /api/meta: the vocabularies every view reads (forge_contracts/vocabulary.py)."""
from __future__ import annotations

import msgspec
from aiohttp import web

from forge_contracts.vocabulary import JobTypeInfo, Meta, meta

from ..auth import access
from ..openapi import described
from ..state import hub_state
from .fleet import require_viewer
from .jobs import job_types

routes = web.RouteTableDef()


@routes.get("/api/meta")
@access("viewer")
@described("Vocabularies for views: job statuses, outcomes, node statuses, time ranges and job types, with meanings "
           "and colours", Meta)
async def show_meta(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    types = [JobTypeInfo(t.name, t.description, t.test_only) for t in job_types(hub).values()]
    return web.Response(body=msgspec.json.encode(meta(types)), content_type="application/json")
