"""OPTIONS answers that list every method of their path.

Litestar 2.25 builds a path's OPTIONS handler when the path's first handler is
registered, and that handler keeps listing only the methods known then: on
``/v1/locations/{location_id}`` (GET and PUT) it answered ``Allow: GET, OPTIONS``
(litestar-org/litestar#4169, fixed only in 3.0). ``allow_every_method`` gives each
such handler the route's final methods. schemathesis's ``allow_header_conformance``
check found it (tests/integration/test_schemathesis.py).
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar, Response
from litestar.enums import MediaType
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import Scope

_LITESTARS_OWN = "HTTPRoute.create_options_handler.<locals>.options_handler"


def allow_every_method(app: Litestar) -> None:
    """Call once every route is registered."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map["OPTIONS"]
        if getattr(handler.fn, "__qualname__", "") == _LITESTARS_OWN:
            # The handler's signature (one ``scope`` argument) stays as Litestar parsed it.
            handler._fn = _options_handler(", ".join(sorted(route.methods)))  # type: ignore[assignment]


def _options_handler(allow: str) -> Callable[[Scope], Response[None]]:
    def options_handler(scope: Scope) -> Response[None]:
        return Response(
            content=None,
            status_code=HTTP_204_NO_CONTENT,
            headers={"Allow": allow},
            media_type=MediaType.TEXT,
        )

    return options_handler
