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
    """The database answers, every migration is applied, the change feed listens, the
    availability cache is warm and, where the worker runs in this process, the broker is
    connected (503 otherwise, naming what is not)."""
    rt = runtime(state)
    checks = await readiness(rt.db, rt.settings.readiness_timeout_s)
    checks["change_feed"] = rt.listening()
    checks["availability_cache"] = "ok" if rt.warm else "warming"
    checks.update({name: check() for name, check in rt.checks.items()})
    healthy = all(v == "ok" for v in checks.values()) and "migrations" in checks
    status = 200 if healthy else 503
    return Response(Health("ok" if healthy else "unavailable", checks), status_code=status)
