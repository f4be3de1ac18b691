"""The edge middleware: request id, caller identity and route authorisation in one
plain ASGI layer, cheap enough for the availability read path.

Every request gets a request id (``X-Request-ID`` when the caller sent a sane
one, else a process prefix and a counter), bound into the log context and
echoed in the response. Litestar runs route middleware after routing, so the
route's ``opt`` (see ``service/api/auth.py``) is known here.

A route may name an ``answer_in_memory`` function in its ``opt``: given the scope, it
returns a ready JSON body for a 200, or None. The answer is sent from here, past
Litestar's handler machinery; None lets the handler answer as usual. Only the
one-SKU availability read does this (``service/api/availability.py``).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from service.api.auth import authorize, token_of
from service.api.errors import PROBLEM_MEDIA_TYPE, problem_body, status_of
from service.domain.errors import DomainError
from service.logging import REQUEST_ID, get_logger

log = get_logger("service.api.access")
JSON_MEDIA_TYPE = "application/json"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        raw_id = request_id.encode()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw_id)]
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = time.perf_counter() if self.access_log else 0.0
        try:
            await self._identify(scope)
            options = scope["route_handler"].opt
            try:
                authorize(scope, options)
            except DomainError as refused:  # answered here, so it carries the request id
                await _send_problem(send_with_id, refused)
                return
            in_memory = options.get("answer_in_memory")
            body = in_memory(scope) if in_memory is not None else None
            if body is not None:
                await _send(send_with_id, 200, body, JSON_MEDIA_TYPE)
                return
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                log.info(
                    "http_request", method=scope.get("method"), path=scope["path"], status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )  # fmt: skip
            REQUEST_ID.reset(token)

    async def _identify(self, scope: Scope) -> None:
        token = token_of(scope)
        if not token:
            return
        principal = await scope["app"].state.runtime.keys.authenticate(token)
        if principal is not None:
            scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
            scope["actor"] = principal.name  # type: ignore[typeddict-unknown-key]


async def _send_problem(send: Send, error: DomainError) -> None:
    status = status_of(error)
    body = problem_body(status, error.code, error.detail, field=error.field)
    await _send(send, status, body, PROBLEM_MEDIA_TYPE)


async def _send(send: Send, status: int, body: bytes, media_type: str) -> None:
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="inventory"'))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _SANE_ID.match(value):
            return value.decode()
    return f"{_PREFIX}{next(_COUNTER):08x}"  # unique per process start, cheap
