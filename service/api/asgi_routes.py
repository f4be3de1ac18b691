"""What a route answered at the ASGI level needs from Litestar's HTTP machinery,
done once, with Litestar's own answers: the method, the path parameters and a JSON
body, each refused exactly as an ordinary route handler refuses it.

Why such routes exist: the one-SKU availability read and reservation creation are
the hottest requests, and Litestar's per-request handler machinery (request object,
parameter parsing, response building) is about 40 % of the read's cost on this
machine (docs/performance.md). An ``@asgi`` route handler is Litestar's own way past
it: routing, the edge middleware, guards and exception handling still apply; a
dependency, a response header or cookie or a request hook does not, so such routes
take none: ``refuse_what_asgi_routes_skip`` stops the app from starting when one of
their layers (the app, a router, the controller) names one. A middleware applies to
every route, these two included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Litestar
from litestar._asgi.routing_trie.types import RouteTrieNode
from litestar.connection import ASGIConnection
from litestar.datastructures import URL
from litestar.exceptions import (
    ClientException,
    ImproperlyConfiguredException,
    InternalServerException,
    MethodNotAllowedException,
    SerializationException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import ASGIRouteHandler
from litestar.serialization import decode_json
from litestar.types import (
    HTTPReceiveMessage,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Send,
)

T = TypeVar("T")
_AT_PATH = "`$."


async def other_method(scope: HTTPScope, send: Send, method: str) -> None:
    """Answer a request whose method is not the route's ``method``: OPTIONS as Litestar
    answers it on every other route (204, ``Allow``); anything else is refused with 405."""
    allow = f"{method}, OPTIONS"
    if scope["method"] != "OPTIONS":
        raise MethodNotAllowedException(headers={"Allow": allow})
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 204,
        "headers": [(b"allow", allow.encode())],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(end)


def path_parameters(scope: HTTPScope, patterns: dict[str, re.Pattern[str]]) -> dict[str, str]:
    """The path parameters, each checked against its pattern. Raises ValidationException
    listing every bad one, with msgspec's message, as Litestar does for a route handler's
    ``PathParameter(pattern=...)``."""
    values: dict[str, str] = scope["path_params"]
    for name, pattern in patterns.items():
        if pattern.search(values[name]) is None:
            failed = [
                {"message": _mismatch(values[bad], regex), "key": bad, "source": "path"}
                for bad, regex in patterns.items()
                if regex.search(values[bad]) is None
            ]
            raise _validation_failed(scope, failed)
    return values


def _mismatch(value: str, pattern: re.Pattern[str]) -> str:
    try:
        msgspec.convert(value, Annotated[str, msgspec.Meta(pattern=pattern.pattern)])
    except msgspec.ValidationError as exc:
        return str(exc).split(" - ", 1)[0]
    raise AssertionError("msgspec and re disagree on a pattern")  # pragma: no cover


async def json_body(scope: HTTPScope, receive: Receive, target: type[T], max_bytes: int) -> T:
    """The request body decoded as JSON and converted to ``target`` as Litestar does for
    a ``data`` parameter (lax conversion, so ``"3"`` is a 3). Raises RequestEntityTooLarge,
    ClientException (not JSON: 400), ValidationException (not a ``target``: 422)."""
    body = await _read_body(scope, receive, max_bytes)
    if not body:  # no ``data`` at all, as Litestar words it
        raise _validation_failed(scope, [{"message": "'data'", "key": "data", "source": "body"}])
    try:
        decoded = decode_json(body)
    except SerializationException as exc:
        raise ClientException(str(exc)) from exc
    try:
        return msgspec.convert(decoded, target, strict=False, str_keys=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = text.rfind(_AT_PATH)
        key = text[at + len(_AT_PATH) : -1] if at >= 0 and text.endswith("`") else "data"
        message = {"message": text.split(" - ", 1)[0], "key": key, "source": "body"}
        raise _validation_failed(scope, [message]) from exc


async def _read_body(scope: HTTPScope, receive: Receive, max_bytes: int) -> bytes:
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestEntityTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        event = cast(HTTPReceiveMessage, await receive())
        if event["type"] == "http.disconnect":
            raise InternalServerException("client disconnected prematurely")
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise RequestEntityTooLarge
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


def _validation_failed(scope: HTTPScope, messages: list[dict[str, Any]]) -> ValidationException:
    url = ASGIConnection[Any, Any, Any, Any](scope).url
    path = URL.from_components(path=url.path, query=url.query)
    return ValidationException(
        detail=f"Validation failed for {scope['method']} {path}", extra=messages
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class _UnderAnyMethod(dict[str, Any]):
    """An ASGI route's path parameters, found under whatever method a request names:
    the usual ones as keys (a plain lookup on the hot path), any other (QUERY,
    PROPFIND, BREW: the route itself then answers 405) through ``__missing__``."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        super().__init__(parameters)
        for method in _METHODS:
            self[method] = parameters["asgi"]

    def __missing__(self, method: str) -> Any:
        return self["asgi"]


def route_asgi_path_parameters(app: Litestar) -> None:
    """Let ``@asgi`` route handlers have path parameters. Litestar 2.25 stores such a
    route's parameters under "asgi" but looks them up under the request's method (an
    HTTP request to it fails with a KeyError, a 500); find them under every method,
    including those no enum lists. Call once every route is registered."""
    for node in _nodes(app.asgi_router.root_route_map_node):
        if node.is_asgi and "asgi" in node.path_parameters:
            node.path_parameters = _UnderAnyMethod(node.path_parameters)  # type: ignore[arg-type, assignment]


def _nodes(node: RouteTrieNode) -> Iterator[RouteTrieNode]:
    yield node
    for child in node.children.values():
        yield from _nodes(child)


# What Litestar applies to an ordinary route handler and skips for an ASGI one.
SKIPPED_BY_ASGI_ROUTES = (
    "dependencies",
    "response_headers",
    "response_cookies",
    "before_request",
    "after_request",
    "after_response",
)


def refuse_what_asgi_routes_skip(app: Litestar) -> None:
    """Raise ImproperlyConfiguredException when a layer of an ``@asgi`` route (the app,
    a router, its controller, the handler) names something Litestar would silently skip
    for it: a header added to a controller must not vanish from its hottest route."""
    for route in app.routes:
        handler = getattr(route, "route_handler", None)
        if not isinstance(handler, ASGIRouteHandler):
            continue
        for layer in handler.ownership_layers:
            named = [a for a in SKIPPED_BY_ASGI_ROUTES if getattr(layer, a, None)]
            if named:
                raise ImproperlyConfiguredException(
                    f"{handler} is an @asgi route: {', '.join(named)} of "
                    f"{type(layer).__name__} would not apply to it (see "
                    "service/api/asgi_routes.py); use a middleware, or leave them out"
                )
