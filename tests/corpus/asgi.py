"""A bare ASGI client: sends exactly the request a step describes and keeps exactly
what the app sends back.

httpx would add and fix headers (Content-Length, Host, Transfer-Encoding); the corpus
needs requests httpx will not make: a body in several ``http.request`` messages
without a length, a declared length that the body does not match, a client that goes
away before the body is complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from litestar import Litestar

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string, percent-encoded as on the wire
    headers: Headers
    chunks: Sequence[bytes] = (b"",)  # one http.request message each, the last without more_body
    disconnect: bool = False  # the client goes away after the chunks, with more_body still set


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Headers  # as the app sent them, in its order
    body: bytes


async def call(app: Litestar, request: Request) -> Answer:
    raw_path, _, query = request.path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        "server": ("inventory.test", 80),
        "client": ("127.0.0.1", 50000),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i + 1 < len(request.chunks)}
        for i, chunk in enumerate(request.chunks)
    ]
    if request.disconnect:
        pending[-1]["more_body"] = True
        pending.append({"type": "http.disconnect"})
    answered = asyncio.Event()
    start: dict[str, Any] = {}
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return Answer(start.get("status", 0), headers, b"".join(body))
