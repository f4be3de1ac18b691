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


def columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Rows to ``width`` column lists (empty lists for no rows), for ``unnest``."""
    if not rows:
        return [[] for _ in range(width)]
    found = [list(c) for c in zip(*rows, strict=True)]
    if len(found) != width:  # a section out of step with its SQL placeholders
        raise ValueError(f"rows of {len(found)} columns where the statement takes {width}")
    return found


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
        await self.conn.execute(
            Q.write_batch,
            batch.occurred_at,
            *columns(
                [(r.location_id, r.reservation_id, r.status, r.channel, r.external_ref,
                  r.fingerprint, r.expires_at) for r in batch.created], 7),
            *columns(
                [(r.location_id, r.reservation_id, x.sku, x.quantity, x.fulfilled)
                 for r in batch.created for x in r.lines], 5),
            *columns([(r.location_id, r.reservation_id, r.status) for r in batch.updated], 3),
            *columns(
                [(r.location_id, r.reservation_id, x.sku, x.fulfilled)
                 for r in batch.updated for x in r.lines if x.fulfilled], 4),
            *columns(
                [(d.location_id, d.sku, d.kind, d.on_hand, d.reserved, d.incoming, d.reference,
                  d.reason, actor) for d, actor in zip(batch.deltas, batch.actors, strict=True)],
                9),
            *columns([(*key, *total) for key, total in sums.items()], 5),
            *columns(
                [(m.exchange, m.routing_key, m.message_id, m.correlation_id, m.payload)
                 for m in batch.messages], 5),
            batch.answer_scope,
            *columns(
                [(key, status, _json.encode(body).decode())
                 for key, (status, body) in sorted(batch.answers.items())], 3),
            change_notices(changed),
        )  # fmt: skip
