"""Authentication (API keys) and authorisation (role and location guards).

Every ``/v1`` request carries ``Authorization: Bearer <api-key>``; the staff page
may carry the same key in its session cookie. The middleware only identifies the
caller; each route's guard decides: no or unknown key is 401, a key outside its
role or locations is 403. Health and the OpenAPI document stay public.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from service.domain.access import Forbidden, Principal, Unauthorized

SESSION_COOKIE = "inventory_session"
_BEARER = b"bearer "


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # type: ignore[comparison-overlap]
            token = _token(scope)
            if token:
                keys = scope["app"].state.runtime.keys
                principal = await keys.authenticate(token)
                if principal is not None:
                    scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
                    scope["actor"] = principal.name  # type: ignore[typeddict-unknown-key]
        await self.app(scope, receive, send)


def _token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return (
                value[len(_BEARER) :].decode("latin-1").strip()
                if value[:7].lower() == _BEARER
                else None
            )
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie = part.strip().partition("=")
                if key == SESSION_COOKIE and cookie:
                    return cookie
    return None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller. Raises Unauthorized."""
    principal = connection.scope.get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized("send an API key: Authorization: Bearer <api-key>")
    return principal


def requires(permission: str, *, at_path_location: bool = True) -> Guard:
    """A guard: the caller must hold ``permission`` (at the path's ``location_id``)."""

    # async: Litestar runs a sync guard in a worker thread, which costs on every request.
    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        location_id = connection.path_params.get("location_id") if at_path_location else None
        principal_of(connection).require(permission, location_id)

    guard.__name__ = f"requires_{permission.replace('.', '_')}"
    return guard


def requires_somewhere(permission: str) -> Guard:
    """A guard for routes whose location is known only once the record is loaded
    (``/v1/pickups/{pickup_id}``): the use case then checks the location."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        principal = principal_of(connection)
        if not principal.may_somewhere(permission):
            raise Forbidden(f"a {principal.role} key may not {permission}")

    guard.__name__ = f"requires_{permission.replace('.', '_')}_somewhere"
    return guard


def location_check(
    connection: ASGIConnection[Any, Any, Any, Any], permission: str
) -> Callable[[str], None]:
    """``may_act_at`` for a use case: raises Forbidden outside the key's locations."""
    principal = principal_of(connection)
    return lambda location_id: principal.require(permission, location_id)


__all__ = ["AuthMiddleware", "Forbidden", "principal_of", "requires"]
