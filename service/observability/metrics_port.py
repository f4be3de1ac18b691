"""``/metrics`` on a port of its own, for ``inventory worker`` (it has no HTTP server):
a minimal HTTP/1.1 answer on the worker's event loop, so scrapes read the same
loop-bound figures the worker counts. The body is prometheus_client's exposition.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as TEXT_FORMAT

from service.observability.scrape import exposition

if TYPE_CHECKING:
    from service.runtime import Runtime

REQUEST_DEADLINE_S = 5.0
MAX_REQUEST_HEAD = 8192


async def serve_metrics(runtime: Runtime, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port``: ``GET /metrics`` answers the metrics, anything else 404.
    Close the returned server to stop."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_DEADLINE_S):
                head = await reader.readuntil(b"\r\n\r\n")
                method, _, rest = head.partition(b" ")
                path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
                if method in (b"GET", b"HEAD") and path == b"/metrics":
                    body = await exposition(runtime)
                    status, media_type = b"200 OK", TEXT_FORMAT.encode()
                else:
                    body, status, media_type = b"not found\n", b"404 Not Found", b"text/plain"
                writer.write(_response(status, media_type, body, head_only=method == b"HEAD"))
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a client that sent no request in time, or went away: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port, limit=MAX_REQUEST_HEAD)


def _response(status: bytes, media_type: bytes, body: bytes, *, head_only: bool) -> bytes:
    head = (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: "
        + media_type
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    return head if head_only else head + body


async def metrics_port_of(runtime: Runtime) -> asyncio.Server | None:
    """The metrics port of ``inventory worker`` when INVENTORY_METRICS_PORT is set."""
    settings = runtime.settings
    if settings.metrics_port is None:
        return None
    return await serve_metrics(runtime, settings.host, settings.metrics_port)
