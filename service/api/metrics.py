"""``/metrics`` for Prometheus: public like the health checks (no API key), and outside
the OpenAPI document (it is not JSON, and not part of the API's contract)."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as TEXT_FORMAT

from service.api.context import runtime
from service.observability.scrape import exposition


@get("/metrics", include_in_schema=False, media_type=TEXT_FORMAT)
async def metrics(state: State) -> Response[bytes]:
    """This process's metrics in Prometheus' text format (docs/operations.md, "Metrics")."""
    return Response(await exposition(runtime(state)), media_type=TEXT_FORMAT)
