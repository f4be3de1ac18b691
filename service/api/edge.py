"""The edge of every route: request id, caller identity, authorisation and, under
``/v1``, bodies only as JSON (``json_only.py``), in one plain ASGI middleware (cheap
enough for the availability read path).

Litestar runs route middleware after routing, so the route's ``Access`` (its
``opt``, see ``service/api/auth.py``) is known here. Every answer leaves through
``send`` wrapped here, which echoes the request id; a caller refused here is
answered by ``api/errors.py`` like any other error, through that same ``send``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from service.api.auth import ACCESS, authorize, token_of
from service.api.errors import Answer, exception_answer, problem
from service.api.json_only import body_refusal
from service.logging import REQUEST_ID, get_logger
from service.observability.metrics import HTTP_REQUESTS, UNMATCHED

log = get_logger("service.api.access")
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

        # Each request runs in a task of its own: the id stays bound for the errors
        # Litestar's exception handling logs, too.
        REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            refusal = await self._refusal(scope)
            if refusal is None:
                await self.app(scope, receive, send_with_id)
            else:
                await refusal.send(send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.observe((scope.get("path_template") or UNMATCHED, status), elapsed)
            if self.access_log:
                duration_ms = round(elapsed * 1000, 2)
                log.info(
                    "http_request",
                    method=scope.get("method"),
                    path=scope["path"],
                    status=status,
                    duration_ms=duration_ms,
                )

    async def _refusal(self, scope: Scope) -> Answer | None:
        """None when the caller may use this route; else the answer that refuses it."""
        try:
            token = token_of(scope)
            if token:
                keys = scope["app"].state.runtime.keys
                principal = keys.remembered(token) or await keys.authenticate(token)
                if principal is not None:
                    scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
                    scope["actor"] = principal.name  # type: ignore[typeddict-unknown-key]
            method = cast(HTTPScope, scope)["method"]
            if method != "OPTIONS":  # public on every route, as Litestar answers it
                authorize(scope, scope["route_handler"].opt.get(ACCESS))
            not_json = body_refusal(method, scope["path"], scope["headers"])
            if not_json is not None:
                return problem(415, "unsupported_media_type", not_json)
        except Exception as refused:  # a domain error, the key store's database down, …
            return exception_answer(refused, cast(HTTPScope, scope)["method"], scope["app"].state)
        return None


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _SANE_ID.match(value):
            return value.decode()
    return f"{_PREFIX}{next(_COUNTER):08x}"  # unique per process start, cheap
