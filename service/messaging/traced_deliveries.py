"""A consumed message's story: its correlation id bound for everything its handling
logs and writes (service/correlation.py), and, with tracing on, a consumer span that
continues the ``traceparent`` of its headers (service/tracing.py).

Which wrapper a consumer gets is decided once, when it is built: with tracing off it
never calls OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from aiormq.abc import DeliveredMessage
from opentelemetry.trace import SpanKind

from service import tracing
from service.correlation import bind_message

Handler = Callable[[DeliveredMessage], Coroutine[Any, Any, None]]


def with_story(handle: Handler) -> Handler:
    """``handle`` run in each delivery's story. Each delivery runs in a task of its own
    (aiormq's), so what is bound here is that delivery's alone."""

    async def correlated(message: DeliveredMessage) -> None:
        properties = message.header.properties
        bind_message(properties.correlation_id, properties.message_id)
        await handle(message)

    async def traced(message: DeliveredMessage) -> None:
        properties = message.header.properties
        correlation_id = bind_message(properties.correlation_id, properties.message_id)
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.message.id": properties.message_id or "",
            "messaging.message.conversation_id": correlation_id,
        }
        name = f"process {message.routing_key}"
        carrier = _trace_headers(properties.headers)
        with tracing.story_span(name, SpanKind.CONSUMER, carrier, attributes):
            await handle(message)

    return traced if tracing.ON else correlated


def _trace_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The W3C headers of a message (AMQP tables may give them as bytes)."""
    carrier: dict[str, str] = {}
    for name in ("traceparent", "tracestate"):
        value = (headers or {}).get(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            carrier[name] = value
    return carrier
