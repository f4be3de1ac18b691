"""The outbox: events and replies stored in the transaction of the change they describe.

Each message takes the story's correlation id (service/correlation.py) and, when
tracing is on, the W3C traceparent of the span that wrote it (service/tracing.py), both
read where ``event`` or ``reply`` is called: a batched flush calls them in each
request's own context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from service import tracing
from service.correlation import current_correlation_id
from service.ids import new_id
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("outbox.sql")
EVENTS_EXCHANGE = "inventory.events"
DEFAULT_EXCHANGE = ""  # replies go straight to the reply_to queue


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    exchange: str
    routing_key: str
    payload: bytes
    message_id: str
    correlation_id: str | None = None
    trace_context: str | None = None  # the writer's W3C traceparent (tracing on)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the outbox holds, not yet published."""

    events: int
    replies: int
    oldest: datetime | None  # when the oldest waiting row was written


def event(routing_key: str, payload: bytes, message_id: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        EVENTS_EXCHANGE,
        routing_key,
        payload,
        message_id or new_id(),
        current_correlation_id(),
        tracing.traceparent() if tracing.ON else None,
    )


def reply(
    reply_to: str, payload: bytes, correlation_id: str | None, answering: tuple[str, str]
) -> OutgoingMessage:
    """A reply to a command message. Its AMQP message_id is the same for every reply to
    the same message (``answering``: the command's message id and content fingerprint),
    so that a consumer deduplicating on message_id sees a repeated reply as one; a
    message id reused with other content gets replies of its own. Its correlation_id is
    the command's, else the story's (the command's message id)."""
    message_id, fingerprint = answering
    reply_id = uuid.uuid5(uuid.NAMESPACE_URL, f"reply/{message_id}/{fingerprint}").hex
    return OutgoingMessage(
        DEFAULT_EXCHANGE,
        reply_to,
        payload,
        reply_id,
        correlation_id or current_correlation_id(),
        tracing.traceparent() if tracing.ON else None,
    )


@dataclass(frozen=True, slots=True)
class StoredMessage:
    event_id: int
    message: OutgoingMessage


class OutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        await self.conn.execute(
            Q.add,
            [m.exchange for m in messages],
            [m.routing_key for m in messages],
            [m.message_id for m in messages],
            [m.correlation_id for m in messages],
            [m.payload for m in messages],
            [m.trace_context for m in messages],
        )
        await self.notify_outbox()

    async def notify_outbox(self) -> None:
        """Wake the outbox relays (sent at commit)."""
        await self.conn.execute(Q.notify_outbox)

    async def claim_batch(self, limit: int) -> list[StoredMessage]:
        rows = await self.conn.fetch(Q.claim_batch, limit)
        return [
            StoredMessage(
                r["event_id"],
                OutgoingMessage(
                    r["exchange"],
                    r["routing_key"],
                    bytes(r["payload"]),
                    r["message_id"],
                    r["correlation_id"],
                    r["trace_context"],
                ),
            )
            for r in rows
        ]

    async def backlog(self) -> Backlog:
        row = await self.conn.fetchrow(Q.backlog)
        assert row is not None
        return Backlog(row["events"], row["replies"], row["oldest"])

    async def delete_published(self, event_ids: Sequence[int]) -> None:
        await self.conn.execute(Q.delete_published, list(event_ids))
