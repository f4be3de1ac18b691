"""Tracing on (service/tracing.py), exported to the SDK's InMemorySpanExporter: a request's
story is one trace from the HTTP request or the consumed message, through the
transaction, to the relay's publish of the events it caused, whose ``traceparent``
header names that trace."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable, Iterator

import aio_pika
import httpx
import msgspec
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service import tracing
from service.api.app import create_app
from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.reservation_steps import Origin
from service.usecases.reservations import create_step
from tests.conftest import KeyMaker
from tests.integration.test_cli import inventory
from tests.reservation_helpers import Inbox, create_body, create_message, eventually, given_stock

Client = httpx.AsyncClient
CALLER_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CALLER_SPAN = 0x00F067AA0BA902B7
CALLER_TRACEPARENT = f"00-{CALLER_TRACE:032x}-{CALLER_SPAN:016x}-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure(exporter)
    yield exporter
    tracing.configure(None)


@pytest.fixture
def traced_worker(spans: InMemorySpanExporter, request: pytest.FixtureRequest) -> Worker:
    """The running worker, built once tracing is on (it installs its hooks when built)."""
    running: Worker = request.getfixturevalue("worker")
    return running


@pytest.fixture
async def traced_client(
    spans: InMemorySpanExporter, runtime: Runtime, make_key: KeyMaker
) -> AsyncIterator[Client]:
    """A client of an app built while tracing is on (the server spans' middleware)."""
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    headers = {"Authorization": f"Bearer {await make_key('admin')}"}
    async with Client(transport=transport, base_url="http://t", headers=headers) as http:
        yield http


@pytest.fixture
async def events(broker: AbstractRobustConnection) -> AsyncIterator[Inbox]:
    inbox = await Inbox.open(broker, "inventory.events", "reservation.*")
    yield inbox
    await inbox.close()


async def finished(spans: InMemorySpanExporter, *names: str) -> dict[str, ReadableSpan]:
    """The first finished span of each name, once all are in."""

    async def probe() -> dict[str, ReadableSpan] | None:
        found: dict[str, ReadableSpan] = {}
        for span in spans.get_finished_spans():
            found.setdefault(span.name, span)
        return found if all(name in found for name in names) else None

    return await eventually(probe, f"spans {names}")


async def received(
    inbox: Inbox, match: Callable[[AbstractIncomingMessage], bool]
) -> AbstractIncomingMessage:
    async def probe() -> AbstractIncomingMessage | None:
        return next((m for m in inbox.received if match(m)), None)

    return await eventually(probe, "a matching message")


def ids(span: ReadableSpan) -> tuple[int, int]:
    assert span.context is not None
    return span.context.trace_id, span.context.span_id


def traceparent_of(message: AbstractIncomingMessage) -> str:
    value = (message.headers or {})["traceparent"]
    return value.decode() if isinstance(value, bytes) else str(value)


async def test_an_http_reservation_its_transaction_and_its_event_publish_share_one_trace(
    traced_worker: Worker,
    traced_client: Client,
    events: Inbox,
    spans: InMemorySpanExporter,
    db: Database,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))

    made = await traced_client.post("/v1/reservations", json=create_body("r-1", "ST-A", ("S1", 1)))

    assert made.status_code == 201
    event = await received(events, lambda m: m.routing_key == "reservation.confirmed")
    found = await finished(
        spans,
        "POST /v1/reservations",
        "reservation.flush",
        "db.transaction",
        "publish reservation.confirmed",
    )
    server, flush = found["POST /v1/reservations"], found["reservation.flush"]
    transaction, publish = found["db.transaction"], found["publish reservation.confirmed"]
    trace_id = ids(server)[0]
    assert {ids(s)[0] for s in found.values()} == {trace_id}
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 201
    # A flush of one request is its child, and linked to it too.
    assert flush.parent is not None
    assert flush.parent.span_id == ids(server)[1]
    assert [link.context.span_id for link in flush.links] == [ids(server)[1]]
    assert transaction.parent is not None
    assert transaction.parent.span_id == ids(flush)[1]
    # The event's row kept the request's span; the publish continues it.
    assert publish.kind is SpanKind.PRODUCER
    assert publish.parent is not None
    assert publish.parent.span_id == ids(server)[1]
    version, trace, parent, _flags = traceparent_of(event).split("-")
    assert (version, trace, parent) == ("00", f"{trace_id:032x}", f"{ids(publish)[1]:016x}")
    assert event.correlation_id == made.headers["x-request-id"]


async def test_an_http_request_continues_its_callers_trace(
    traced_client: Client, spans: InMemorySpanExporter
) -> None:
    await traced_client.get("/v1/reservations/r-none", headers={"traceparent": CALLER_TRACEPARENT})

    named = "GET /v1/reservations/{reservation_id}"  # the route's template, not the path
    server = (await finished(spans, named))[named]
    assert server.parent is not None
    assert (server.parent.trace_id, server.parent.span_id) == (CALLER_TRACE, CALLER_SPAN)
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 404


async def test_a_consumed_command_continues_the_trace_in_its_headers_to_its_reply_and_event(
    traced_worker: Worker,
    broker: AbstractRobustConnection,
    events: Inbox,
    spans: InMemorySpanExporter,
    db: Database,
) -> None:
    await given_stock(db, "ST-A", ("S1", 5))
    replies = await Inbox.open(broker)
    channel = await broker.channel()
    commands = await channel.get_exchange("inventory.commands")
    await commands.publish(
        aio_pika.Message(
            msgspec.json.encode(create_message("m-1", "r-1", "ST-A", ("S1", 1))),
            content_type="application/json",
            message_id="m-1",
            reply_to=replies.name,
            headers={"traceparent": CALLER_TRACEPARENT},
        ),
        routing_key="reservation.create",
    )

    reply = (await replies.wait_for(1))[0]
    event = await received(events, lambda m: m.routing_key == "reservation.confirmed")
    process = (await finished(spans, "process reservation.create"))["process reservation.create"]
    await channel.close()
    await replies.close()
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None
    assert (process.parent.trace_id, process.parent.span_id) == (CALLER_TRACE, CALLER_SPAN)
    for message in (reply, event):
        assert traceparent_of(message).startswith(f"00-{CALLER_TRACE:032x}-")
        assert message.correlation_id == "m-1"


async def test_a_flush_of_several_requests_is_linked_to_each_and_their_events_keep_their_traces(
    spans: InMemorySpanExporter, runtime: Runtime, clean: None, pool: Pool
) -> None:
    await given_stock(runtime.db, "ST-A", ("S1", 10))

    def submit(n: int) -> tuple[int, object]:
        command = CreateReservation(
            reservation_id=f"r-{n}",
            location_id="ST-A",
            lines=[ReservationLineIn(sku="S1", quantity=1)],
        )
        step = create_step(command, runtime.settings)
        with tracing.story_span(f"request {n}", SpanKind.SERVER, {}, {}) as span:
            decided = runtime.engine.enqueue(step, Origin(actor="test"))
        return span.get_span_context().trace_id, decided

    submitted = [contextvars.Context().run(submit, n) for n in (1, 2, 3)]
    for _, decided in submitted:
        await decided  # type: ignore[misc]

    flush = (await finished(spans, "reservation.flush"))["reservation.flush"]
    requests = [trace_id for trace_id, _ in submitted]
    assert flush.parent is None
    assert ids(flush)[0] not in requests
    assert [link.context.trace_id for link in flush.links] == requests
    rows = await pool.fetch(
        "SELECT trace_context FROM outbox WHERE routing_key = 'reservation.confirmed'"
        " ORDER BY convert_from(payload, 'UTF8') ~ 'r-3', convert_from(payload, 'UTF8') ~ 'r-2'"
    )
    assert [row["trace_context"].split("-")[1] for row in rows] == [f"{t:032x}" for t in requests]


async def test_an_exporter_not_shipped_stops_the_worker_with_one_line_naming_its_variable() -> None:
    code, _, err = await inventory("worker", OTEL_TRACES_EXPORTER="jaeger")

    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "OTEL_TRACES_EXPORTER" in err
