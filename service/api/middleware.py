"""The edge middleware: request id, caller identity and route authorisation in one
plain ASGI layer, cheap enough for the availability read path.

Every request gets a request id (``X-Request-ID`` when the caller sent a sane
one, else a process prefix and a counter), bound into the log context and
echoed in the response. Litestar runs route middleware after routing, so the
route's ``opt`` (see ``service/api/auth.py``) is known here.

Two routes, the hottest of each kind, are answered from here, past Litestar's
handler, parameter and response machinery, when they can be; otherwise their handler
answers as usual, with the same bytes:
- ``answer_in_memory`` in a route's ``opt`` (the one-SKU availability read): given the
  scope, a ready JSON body for a 200, or None;
- ``answer_from_body`` (creating a reservation, the flash sale's request): given the
  scope and a JSON body read here (``Content-Type: application/json`` exactly, a
  ``Content-Length`` within the limit), an ``Answer``, or None when the body does not
  decode as it is; the body is then handed on to Litestar, which answers its error.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from service.api.auth import authorize, token_of
from service.api.errors import PROBLEM_MEDIA_TYPE, internal_error_body, problem_body, status_of
from service.domain.errors import DomainError
from service.logging import REQUEST_ID, get_logger

log = get_logger("service.api.access")
JSON_MEDIA_TYPE = "application/json"
Answer = tuple[int, bytes, str]  # status, body, media type
_JSON = JSON_MEDIA_TYPE.encode()
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool, max_body_bytes: int) -> None:
        self.app = app
        self.access_log = access_log
        self.max_body_bytes = max_body_bytes

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
            answer: Answer | None = None
            try:
                options = scope["route_handler"].opt
                authorize(scope, options)
                answer, receive = await self._shortcut(scope, receive, options)
            except DomainError as refused:  # answered here, so it carries the request id
                answer = _problem_of(refused)
            except Exception as failed:  # as the app's handler would, with the request id
                answer = 500, internal_error_body(failed), PROBLEM_MEDIA_TYPE
            if answer is not None:
                await _send(send_with_id, *answer)
                return
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                log.info(
                    "http_request", method=scope.get("method"), path=scope["path"], status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )  # fmt: skip
            REQUEST_ID.reset(token)

    async def _shortcut(
        self, scope: Scope, receive: Receive, options: dict[str, Any]
    ) -> tuple[Answer | None, Receive]:
        """The route's own answer, if it names a shortcut that can give one; else None
        and the ``receive`` the handler must read the body from."""
        in_memory = options.get("answer_in_memory")
        if in_memory is not None:
            body = in_memory(scope)
            return (None if body is None else (200, body, JSON_MEDIA_TYPE)), receive
        from_body = options.get("answer_from_body")
        if from_body is not None:
            return await self._answer_from_body(scope, receive, from_body)
        return None, receive

    async def _answer_from_body(
        self,
        scope: Scope,
        receive: Receive,
        answer: Callable[[Scope, bytes], Awaitable[Answer | None]],
    ) -> tuple[Answer | None, Receive]:
        """The route's answer to the JSON body, or None and a ``receive`` that hands the
        body (as read so far) on to Litestar."""
        length = _json_body_length(scope)
        if length is None or length > self.max_body_bytes:
            return None, receive
        read: list[ReceiveMessage] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":  # the client went away
                return None, _replaying(read, receive)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > length:  # more than declared: Litestar deals with it
                return None, _replaying(read, receive)
            if not message.get("more_body", False):
                break
        if size != length:
            return None, _replaying(read, receive)
        found = await answer(scope, b"".join(chunks))
        if found is None:
            return None, _replaying(read, receive)
        return found, receive

    async def _identify(self, scope: Scope) -> None:
        token = token_of(scope)
        if not token:
            return
        principal = await scope["app"].state.runtime.keys.authenticate(token)
        if principal is not None:
            scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
            scope["actor"] = principal.name  # type: ignore[typeddict-unknown-key]


def _problem_of(error: DomainError) -> Answer:
    """The same answer as ``domain_error_handler`` (service/api/errors.py)."""
    status = status_of(error)
    body = problem_body(
        status, error.code, error.detail, field=error.field,
        errors=getattr(error, "errors", None), short_lines=getattr(error, "short_lines", None),
    )  # fmt: skip
    return status, body, PROBLEM_MEDIA_TYPE


def _json_body_length(scope: Scope) -> int | None:
    """The declared Content-Length of a body sent as exactly ``application/json``;
    None for anything else (other media types, parameters, chunked bodies)."""
    media_type, length = None, None
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type = value.lower()
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return length if media_type == _JSON else None


def _replaying(read: list[ReceiveMessage], receive: Receive) -> Receive:
    """``receive`` that first gives back the messages already read."""
    pending = list(read)

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replay


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
