"""Liveness and readiness, public and cheap."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from service.api.context import runtime
from service.usecases.health import readiness


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


@get("/health/live", tags=["health"], sync_to_thread=False)
def live() -> Health:
    """The process is up."""
    return Health("ok")


@get(
    "/health/ready",
    tags=["health"],
    responses={503: ResponseSpec(Health, description="Not ready: see the failing checks.")},
)
async def ready(state: State) -> Response[Health]:
    """The database answers and every migration is applied (503 otherwise)."""
    rt = runtime(state)
    checks = await readiness(rt.db)
    checks["availability_cache"] = "ok" if rt.warm else "warming"
    healthy = all(v == "ok" for v in checks.values()) and "migrations" in checks
    status = 200 if healthy else 503
    return Response(Health("ok" if healthy else "unavailable", checks), status_code=status)
