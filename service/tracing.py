"""OpenTelemetry tracing of a request's story: off unless the standard OTEL_* variables
turn it on (``settings.traces_exporter``; docs/operations.md, "Tracing and correlation
ids").

Off (the default) costs nothing per request: the SDK is not even imported, the HTTP
middleware is not installed (``api/traced_requests.py``), the consumer's wrapper is
not installed (``messaging/traced_deliveries.py``), and every other hook site tests
``ON``, a module flag set once at start, before calling anything here.

On, a story is one trace:
- ``HTTP <method> <route>`` (server span), continuing a caller's ``traceparent``;
- ``process <routing key>`` (consumer span) for a consumed command, continuing the
  ``traceparent`` in its headers (for a reservation step it covers the hand-over to
  the engine, whose flush links to it);
- ``db.transaction`` for each transaction opened inside a traced story (the background
  loops' polling, outside any story, makes no traces);
- ``reservation.flush``: one flush decides many requests, so it is linked to each
  request's span rather than made the child of one (a flush of a single request is
  that request's child, and its trace is whole);
- every outbox row keeps the W3C ``traceparent`` of the span that wrote it (a flush's
  rows: their own request's), and the relay's ``publish <routing key>`` producer span
  continues it and puts its own ``traceparent`` in the published message's headers.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.util.types import AttributeValue

    from service.settings import TracesExporter

T = TypeVar("T")
Attributes = Mapping[str, "AttributeValue"]

ON = False  # set once by configure(); hook sites test it before calling anything here
SERVICE_NAME = "inventory-service"  # unless OTEL_SERVICE_NAME says otherwise
_PROPAGATOR = TraceContextTextMapPropagator()
_tracer: trace.Tracer = trace.NoOpTracer()
_provider: TracerProvider | None = None


def configure(exporter: TracesExporter | SpanExporter | SpanProcessor | None) -> None:
    """Turn tracing on, exporting with ``exporter`` (a name from
    ``settings.traces_exporter``, batched in the background; an exporter object, exported
    as each span ends: tests; or a span processor: the micro-benchmark), or off with
    None. Called once at start, before the app and the worker are built: they decide
    then whether to install their hooks."""
    global ON, _tracer, _provider
    shutdown()
    if exporter is None:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create()  # reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource)  # reads OTEL_TRACES_SAMPLER
    if isinstance(exporter, str):
        provider.add_span_processor(BatchSpanProcessor(_named_exporter(exporter)))
    elif isinstance(exporter, SpanProcessor):
        provider.add_span_processor(exporter)
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _provider, _tracer, ON = provider, provider.get_tracer("service"), True


def _named_exporter(name: TracesExporter) -> SpanExporter:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, ...


def shutdown() -> None:
    """Export what is pending and turn tracing off (at the process's end)."""
    global ON, _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer, ON = None, trace.NoOpTracer(), False


# -- the story's spans -------------------------------------------------------


@contextmanager
def story_span(
    name: str, kind: trace.SpanKind, carrier: Mapping[str, str], attributes: Attributes
) -> Iterator[trace.Span]:
    """The span of a story's entry (an HTTP request, a consumed message), current while
    the block runs; the child of the caller's span when ``carrier`` holds its
    ``traceparent``, else the root of a new trace."""
    parent = _PROPAGATOR.extract(carrier, context=otel_context.Context())
    with _tracer.start_as_current_span(name, parent, kind, attributes) as span:
        yield span


def traced_transaction(
    inner: AbstractAsyncContextManager[T], attributes: Attributes
) -> AbstractAsyncContextManager[T]:
    """``inner`` (a transaction) in a ``db.transaction`` span, when a story is traced."""
    if not trace.get_current_span().get_span_context().is_valid:
        return inner
    return _in_span("db.transaction", inner, attributes)


@asynccontextmanager
async def _in_span(
    name: str, inner: AbstractAsyncContextManager[T], attributes: Attributes
) -> AsyncIterator[T]:
    with _tracer.start_as_current_span(name, attributes=attributes):
        async with inner as value:
            yield value


@contextmanager
def linked_span(
    name: str, contexts: Sequence[contextvars.Context], attributes: Attributes
) -> Iterator[trace.Span]:
    """The span of work done for many stories at once (a flush), current while the block
    runs: linked to the span current in each of ``contexts``, the child of it when
    there is only one, else the root of a trace of its own (no story is its parent)."""
    spans = [ctx.run(trace.get_current_span).get_span_context() for ctx in contexts]
    links = [trace.Link(span) for span in spans if span.is_valid]
    parent = otel_context.Context()
    if len(contexts) == 1:
        parent = contexts[0].run(otel_context.get_current)
    with _tracer.start_as_current_span(name, parent, links=links, attributes=attributes) as span:
        yield span


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` value (kept with an outbox row)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def publish_span(
    name: str, stored_traceparent: str, attributes: Attributes
) -> Iterator[dict[str, str]]:
    """A producer span continuing the story that wrote an outbox row; yields the headers
    (``traceparent``, maybe ``tracestate``) that carry it in the published message."""
    parent = _PROPAGATOR.extract({"traceparent": stored_traceparent}, otel_context.Context())
    span = _tracer.start_span(name, parent, trace.SpanKind.PRODUCER, attributes)
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers, trace.set_span_in_context(span))
    with trace.use_span(span, end_on_exit=True):
        yield headers
