"""How a handler reaches the running service and the caller's identity."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from service.runtime import Runtime


def runtime(state: State) -> Runtime:
    value: Runtime = state.runtime
    return value


def actor_of(request: Request[Any, Any, Any]) -> str:
    """Who is acting: the API key's name once authentication is on, else "api"."""
    return str(request.scope.get("actor", "api"))
