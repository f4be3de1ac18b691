"""The server span of an HTTP request (tracing on only: service/tracing.py).

Installed in front of the edge only when tracing is on at start (``traced_requests``),
so that with tracing off a request meets no code of tracing at all. Litestar runs it
after routing: the span is named by the route's template (``POST /v1/reservations``),
not by the path with its ids.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind, Status, StatusCode

from service import tracing


def traced_requests() -> list[type[TracedRequests]]:
    """The middleware to put first, when tracing is on."""
    return [TracedRequests] if tracing.ON else []


class TracedRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        route = str(scope.get("path_template") or scope["path"])
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        attributes = {"http.request.method": method, "http.route": route}
        with tracing.story_span(f"{method} {route}", SpanKind.SERVER, carrier, attributes) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_traced)
