"""structlog, configured once: JSON lines in production, readable lines in development.

Standard-library loggers (asyncpg, aio-pika, granian) are routed through the same
renderer. Context such as ``sku`` or ``message_id`` is bound with
``structlog.contextvars`` and appears on every line logged while it is bound; the HTTP
``request_id`` has its own ContextVar (``REQUEST_ID``), added to every line the same way,
and so has the story's ``correlation_id`` (``CORRELATION_ID``, service/correlation.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

# The HTTP request being served. A plain ContextVar set once per request by the edge
# middleware: structlog's bind/reset per request cost a measurable share of a cached read.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# The story's correlation id when it is not an HTTP request's (whose id is its request
# id): a consumed message's, a background round's. See service/correlation.py.
CORRELATION_ID: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def add_request_id(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``request_id`` and ``correlation_id`` on every line logged while they are bound."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    correlation_id = CORRELATION_ID.get() or request_id
    if correlation_id is not None:
        event.setdefault("correlation_id", correlation_id)
    return event


def configure_logging(level: str = "info", *, json: bool = False) -> None:
    numeric = logging.getLevelName(level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in ("aiormq", "aio_pika"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
