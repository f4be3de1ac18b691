"""What the tracing and correlation hooks cost per request, in nanoseconds, in-process
(no database, no broker): each hook timed against the same work without it.

    .venv/bin/python -m bench.tracing_hooks [--rounds 5]

Off is tracing as shipped by default; on exports every span to a sink that drops it
(the SDK's own work), and the OTLP encoding of a span, which the batch exporter does
later in its own thread, is timed apart. Prints one line per hook: the median of the
rounds' ns per call. docs/operations.md ("Tracing and correlation ids") keeps the
figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiormq.abc import DeliveredMessage
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind
from pamqp import commands
from pamqp.header import ContentHeader

from service import tracing
from service.api.traced_requests import TracedRequests
from service.logging import REQUEST_ID
from service.messaging.traced_deliveries import with_story
from service.storage.outbox import EVENTS_EXCHANGE, OutgoingMessage, event

PAYLOAD = b'{"type":"reservation.confirmed"}'


class Dropped(SpanExporter):
    """Keeps nothing: what is timed is the SDK's work, not an exporter's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def ns_per_call(work: Callable[[], object], calls: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(calls):
        work()
    return (time.perf_counter_ns() - started) / calls


def async_ns_per_call(work: Callable[[], Any], calls: int) -> float:
    async def loop() -> float:
        started = time.perf_counter_ns()
        for _ in range(calls):
            await work()
        return (time.perf_counter_ns() - started) / calls

    return asyncio.run(loop())


def delivery() -> DeliveredMessage:
    properties = commands.Basic.Properties(message_id="m-1", correlation_id="c-1")
    deliver = commands.Basic.Deliver("ctag", 1, False, "inventory.commands", "reservation.create")
    return DeliveredMessage(deliver, ContentHeader(0, 0, properties), b"{}", None)  # type: ignore[arg-type]


async def handled(_message: DeliveredMessage) -> None:
    return None


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


async def ignore(_message: Any) -> None:
    return None


SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/v1/availability/S1",
    "path_template": "/v1/availability/{sku}",
    "headers": [(b"host", b"t")],
}


@asynccontextmanager
async def nothing() -> AsyncIterator[None]:
    yield None


async def transaction_in_a_story(traced: bool) -> None:
    with tracing.story_span("story", SpanKind.SERVER, {}, {}):
        if traced:
            async with tracing.traced_transaction(nothing(), {"db.system.name": "postgresql"}):
                pass
        else:
            async with nothing():
                pass


def old_event() -> OutgoingMessage:
    """What event() built before correlation ids and tracing."""
    return OutgoingMessage(EVENTS_EXCHANGE, "reservation.confirmed", PAYLOAD, "e-1")


def hooks_off(calls: int) -> dict[str, float]:
    tracing.configure(None)
    message, request = delivery(), contextvars.copy_context()
    request.run(REQUEST_ID.set, "req-1")

    bare, wrapped = handled, with_story(handled)
    return {
        "event(): correlation id and the tracing flag": ns_per_call(
            lambda: event("reservation.confirmed", PAYLOAD, "e-1"), calls
        )
        - ns_per_call(old_event, calls),
        "flush: event() in its request's context (Context.run)": ns_per_call(
            lambda: request.run(event, "reservation.confirmed", PAYLOAD, "e-1"), calls
        )
        - ns_per_call(lambda: event("reservation.confirmed", PAYLOAD, "e-1"), calls),
        "consumer: the correlated delivery wrapper": async_ns_per_call(
            lambda: wrapped(message), calls
        )
        - async_ns_per_call(lambda: bare(message), calls),
        "transaction: the flag test": ns_per_call(lambda: tracing.ON and None, calls),
    }


def hooks_on(calls: int) -> dict[str, float]:
    message, plain = delivery(), with_story(handled)  # built while tracing is off
    tracing.configure(BatchSpanProcessor(Dropped()))
    traced = with_story(handled)
    middleware = TracedRequests(asgi_app)

    def in_story(work: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with tracing.story_span("story", SpanKind.SERVER, {}, {}):
                return work()

        return run

    many = [contextvars.copy_context() for _ in range(100)]
    stored = in_story(tracing.traceparent)()
    assert isinstance(stored, str)

    def publish() -> None:
        with tracing.publish_span("publish reservation.confirmed", stored, {}):
            pass

    def flush() -> None:
        with tracing.linked_span("reservation.flush", many, {}):
            pass

    figures = {
        "HTTP: the server span middleware": async_ns_per_call(
            lambda: middleware(SCOPE, None, ignore), calls
        )
        - async_ns_per_call(lambda: asgi_app(SCOPE, None, ignore), calls),
        "consumer: the consumer span wrapper": async_ns_per_call(lambda: traced(message), calls)
        - async_ns_per_call(lambda: plain(message), calls),
        "transaction: its span": async_ns_per_call(lambda: transaction_in_a_story(True), calls)
        - async_ns_per_call(lambda: transaction_in_a_story(False), calls),
        "event(): correlation id and traceparent, in a story": in_story(
            lambda: ns_per_call(lambda: event("reservation.confirmed", PAYLOAD, "e-1"), calls)
        )()
        - ns_per_call(old_event, calls),
        "flush of 100 requests: its linked span, per request": ns_per_call(flush, calls) / 100,
        "relay: the publish span and its headers": ns_per_call(publish, calls),
        "OTLP encoding of one span (exporter thread)": otlp_ns_per_span(calls),
    }
    tracing.configure(None)
    return figures


def sampled_out(calls: int) -> dict[str, float]:
    """On, with every trace sampled out at its root (OTEL_TRACES_SAMPLER=always_off; a
    ratio sampler keeps a share of requests at the cost above, the rest at this)."""
    os.environ["OTEL_TRACES_SAMPLER"] = "always_off"  # read by the SDK's TracerProvider
    try:
        tracing.configure(BatchSpanProcessor(Dropped()))
    finally:
        del os.environ["OTEL_TRACES_SAMPLER"]
    middleware = TracedRequests(asgi_app)
    figure = async_ns_per_call(lambda: middleware(SCOPE, None, ignore), calls)
    figure -= async_ns_per_call(lambda: asgi_app(SCOPE, None, ignore), calls)
    tracing.configure(None)
    return {"HTTP: the server span middleware, sampled out": figure}


def otlp_ns_per_span(calls: int) -> float:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    kept = InMemorySpanExporter()
    tracing.configure(kept)
    for _ in range(100):
        with tracing.story_span("GET /v1/availability/{sku}", SpanKind.SERVER, {}, {"a": 1}):
            pass
    spans = kept.get_finished_spans()
    tracing.configure(BatchSpanProcessor(Dropped()))
    rounds = max(calls // 100, 1)
    return ns_per_call(lambda: encode_spans(spans).SerializeToString(), rounds) / len(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    rounds = [
        hooks_off(args.calls) | hooks_on(args.calls) | sampled_out(args.calls)
        for _ in range(args.rounds)
    ]
    for name in rounds[0]:
        figures = [r[name] for r in rounds]
        print(
            f"{name:58s} {statistics.median(figures):9.0f} ns  (rounds: {min(figures):.0f} to {max(figures):.0f})"
        )


if __name__ == "__main__":
    main()
