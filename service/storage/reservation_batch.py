"""The write of one reservation-engine flush, in one statement (reservation_batch.sql).

A flush changes four aggregates at once: reservations and their lines, the ledger
(movements, balances, availability marks), the outbox and the message answers. Their
usual repositories write each with its own statement; the flush holds a hot
balance's row lock while it writes, so here they go in a single round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from service.domain.ledger import Balance, BalanceKey, Delta
from service.domain.reservations import ReservationState
from service.storage.arrays import ArrayStatement, Column, Rows, Scalar
from service.storage.database import note_changes
from service.storage.ledger import balance_from_row, change_notices, summed
from service.storage.outbox import OutgoingMessage
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("reservation_batch.sql")
_json = msgspec.json.Encoder()


@dataclass
class BatchWrite:
    """Everything one flush writes. Created and updated reservations never overlap, and
    every row is stamped ``occurred_at`` (the reservations' created_at and updated_at
    too: the domain stamps them with the flush's ``now``)."""

    occurred_at: datetime
    created: Sequence[ReservationState] = ()
    updated: Sequence[ReservationState] = ()
    deltas: Sequence[Delta] = ()
    actors: Sequence[str] = ()  # one per delta
    messages: Sequence[OutgoingMessage] = ()
    answer_scope: str = ""
    answers: dict[str, tuple[int, object]] = field(default_factory=dict)  # key -> status, body


# Every parameter of the write, in one place: {name} in reservation_batch.sql.
WRITE_BATCH = ArrayStatement(
    Q.write_batch,
    Scalar("occurred_at", "timestamptz"),
    Rows(
        "created",
        "reservation",
        Column("location_id", "text"),
        Column("reservation_id", "text"),
        Column("status", "text"),
        Column("channel", "text"),
        Column("external_ref", "text"),
        Column("fingerprint", "text"),
        Column("expires_at", "timestamptz"),
    ),
    Rows(
        "created_lines",
        "reservation, line in reservation.lines",
        Column("location_id", "text", "reservation.location_id"),
        Column("reservation_id", "text", "reservation.reservation_id"),
        Column("sku", "text", "line.sku"),
        Column("quantity", "bigint", "line.quantity"),
        Column("fulfilled", "bigint", "line.fulfilled"),
    ),
    Rows(
        "updated",
        "reservation",
        Column("location_id", "text"),
        Column("reservation_id", "text"),
        Column("status", "text"),
    ),
    Rows(
        "updated_lines",  # the lines with units fulfilled
        "reservation, line",
        Column("location_id", "text", "reservation.location_id"),
        Column("reservation_id", "text", "reservation.reservation_id"),
        Column("sku", "text", "line.sku"),
        Column("fulfilled", "bigint", "line.fulfilled"),
    ),
    Rows(
        "deltas",
        "delta, actor",
        Column("location_id", "text", "delta.location_id"),
        Column("sku", "text", "delta.sku"),
        Column("kind", "text", "delta.kind"),
        Column("on_hand", "bigint", "delta.on_hand"),
        Column("reserved", "bigint", "delta.reserved"),
        Column("incoming", "bigint", "delta.incoming"),
        Column("reference", "text", "delta.reference"),
        Column("reason", "text", "delta.reason"),
        Column("actor", "text"),
    ),
    Rows(
        "balance_totals",  # summed(): (location_id, sku) -> [on_hand, reserved, incoming]
        "key, total",
        Column("location_id", "text", "key[0]"),
        Column("sku", "text", "key[1]"),
        Column("on_hand", "bigint", "total[0]"),
        Column("reserved", "bigint", "total[1]"),
        Column("incoming", "bigint", "total[2]"),
    ),
    Rows(
        "messages",
        "message",
        Column("exchange", "text"),
        Column("routing_key", "text"),
        Column("message_id", "text"),
        Column("correlation_id", "text"),
        Column("payload", "bytea"),
        Column("trace_context", "text"),
    ),
    Scalar("answer_scope", "text"),
    Rows(
        "answers",
        "key, answer",  # idempotency key, (status, body)
        Column("key", "text"),
        Column("status_code", "integer", "answer[0]"),
        Column("response", "bytea", "answer[1]", _json.encode),  # JSON as UTF-8
    ),
    Scalar("balance_notices", "text[]"),
    Scalar("wake_relays", "boolean"),  # any messages
)


class ReservationBatchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock_for_creates(
        self, reservation_ids: Sequence[str], balance_keys: Sequence[BalanceKey]
    ) -> tuple[list[str], dict[BalanceKey, Balance], dict[str, bool]]:
        """Lock, in one statement and in the global order, the existing reservations of
        ``reservation_ids`` and the existing balances of ``balance_keys`` (as
        ``LedgerRepository.lock_existing_balances`` does). Returns the locked reservation
        ids, the balances, and location_id -> active for them."""
        keys = sorted(set(balance_keys))
        rows = await self.conn.fetch(
            Q.lock_for_creates,
            [k[0] for k in keys],
            [k[1] for k in keys],
            sorted(set(reservation_ids)),
        )
        locked = [r["reservation_id"] for r in rows if r["reservation_id"] is not None]
        found = [r for r in rows if r["reservation_id"] is None]
        balances = {(r["location_id"], r["sku"]): balance_from_row(r) for r in found}
        active = {r["location_id"]: r["active"] for r in found}
        return locked, balances, active

    async def write_batch(self, batch: BatchWrite) -> None:
        sums = summed(batch.deltas)
        changed = {sku for _, sku in sums}
        if changed:  # this replica's caches, after commit (Database.run)
            note_changes("balances", changed)
        arguments = WRITE_BATCH.arguments(
            occurred_at=batch.occurred_at,
            created=batch.created,
            created_lines=batch.created,
            updated=batch.updated,
            updated_lines=[(r, x) for r in batch.updated for x in r.lines if x.fulfilled],
            deltas=zip(batch.deltas, batch.actors, strict=True),
            balance_totals=sums.items(),
            messages=batch.messages,
            answer_scope=batch.answer_scope,
            answers=sorted(batch.answers.items()),
            balance_notices=change_notices(changed),
            wake_relays=bool(batch.messages),
        )
        await self.conn.execute(WRITE_BATCH.sql, *arguments)
