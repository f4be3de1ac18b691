"""Authentication (API keys) and authorisation (roles, staff location scoping).

Every ``/v1`` request carries ``Authorization: Bearer <api-key>``, and nothing else
authenticates it: no cookie, so a page on another site cannot make a browser call
the API with credentials the browser holds. (The staff page has sessions of its own,
``staff_security.py``, valid on ``/staff`` only.) Each route declares what it needs
with ``opt=requires(...)`` (an ``Access`` under the ``access`` key); the edge
middleware (``service/api/edge.py``) checks it before the handler runs: no or
unknown key is 401, a key outside its role or locations is 403. Health and the
OpenAPI document declare nothing and stay public.

Why not Litestar guards: a guard call copies the route handler on every
request, a measurable cost on the availability read path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.types import Scope

from service.domain.access import Forbidden, Principal, Unauthorized

_BEARER = b"bearer "
Where = Literal["path", "global", "somewhere"]


ACCESS = "access"  # the route option that holds a route's Access


@dataclass(frozen=True, slots=True)
class Access:
    """What a caller must hold to use a route, and where.

    ``path``: at the path's ``location_id`` (anywhere when the route has none);
    ``global``: everywhere; ``somewhere``: at one location at least, the use case
    checking the record's own location once it is loaded."""

    permission: str
    where: Where = "path"


def requires(permission: str, *, at_path_location: bool = True) -> dict[str, Any]:
    """Route options: the caller must hold ``permission`` (at the path's
    ``location_id`` when the route has one and ``at_path_location`` is set)."""
    return {ACCESS: Access(permission, "path" if at_path_location else "global")}


def requires_somewhere(permission: str) -> dict[str, Any]:
    """Route options for routes whose location is known only once the record is
    loaded (``/v1/pickups/{pickup_id}``): the use case then checks the location."""
    return {ACCESS: Access(permission, "somewhere")}


def token_of(scope: Scope) -> str | None:
    """The API key of ``Authorization: Bearer <api-key>``; a cookie is never read."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value[:7].lower() != _BEARER:
                return None
            return value[len(_BEARER) :].decode("latin-1").strip()
    return None


def authorize(scope: Scope, access: Access | None) -> None:
    """Raises Unauthorized or Forbidden unless the caller may use this route."""
    if access is None:
        return
    principal = scope.get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized("send an API key: Authorization: Bearer <api-key>")
    if access.where == "somewhere":
        if not principal.may_somewhere(access.permission):
            raise Forbidden(f"a {principal.role} key may not {access.permission}")
        return
    location_id = scope["path_params"].get("location_id") if access.where == "path" else None
    principal.require(access.permission, location_id)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller. Raises Unauthorized."""
    principal = connection.scope.get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized("send an API key: Authorization: Bearer <api-key>")
    return principal


def location_check(
    connection: ASGIConnection[Any, Any, Any, Any], permission: str
) -> Callable[[str], None]:
    """``may_act_at`` for a use case: raises Forbidden outside the key's locations."""
    principal = principal_of(connection)
    return lambda location_id: principal.require(permission, location_id)


__all__ = [
    "Access",
    "Forbidden",
    "authorize",
    "location_check",
    "principal_of",
    "requires",
    "token_of",
]
