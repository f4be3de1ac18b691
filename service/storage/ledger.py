"""The ledger repository: balances, movements and transfers (SQL in ledger.sql)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from service.domain.ledger import Balance, BalanceKey, Delta, RecordedMovement
from service.storage.database import note_changes
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("ledger.sql")
NOTIFY_PAYLOAD_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


def balance_from_row(row: asyncpg.Record) -> Balance:
    return Balance(
        row["location_id"],
        row["sku"],
        row["on_hand"],
        row["reserved"],
        row["incoming"],
        row["safety_stock"],
    )


def movement_from_row(row: asyncpg.Record) -> RecordedMovement:
    return RecordedMovement(**dict(row.items()))


def change_notices(skus: set[str]) -> list[str]:
    """NOTIFY payloads naming ``skus`` (one per line), each under PostgreSQL's size limit."""
    payloads: list[str] = []
    chunk: list[str] = []
    size = 0
    for sku in sorted(skus):
        if size + len(sku) + 1 > NOTIFY_PAYLOAD_LIMIT:
            payloads.append("\n".join(chunk))
            chunk, size = [], 0
        chunk.append(sku)
        size += len(sku) + 1
    if chunk:
        payloads.append("\n".join(chunk))
    return payloads


def summed(deltas: Iterable[Delta]) -> dict[BalanceKey, list[int]]:
    """(on_hand, reserved, incoming) added up per balance: one UPDATE per row."""
    sums: dict[BalanceKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in deltas:
        total = sums[d.key]
        total[0] += d.on_hand
        total[1] += d.reserved
        total[2] += d.incoming
    return sums


class LedgerRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock_balances(self, keys: Iterable[BalanceKey]) -> dict[BalanceKey, Balance]:
        """Create missing balances and lock all of them in (location_id, sku) order."""
        unique = sorted(set(keys))
        rows = await self.conn.fetch(
            Q.lock_balances, [k[0] for k in unique], [k[1] for k in unique]
        )
        return {(r["location_id"], r["sku"]): balance_from_row(r) for r in rows}

    async def apply_deltas(self, deltas: Iterable[Delta]) -> None:
        sums = summed(deltas)
        keys = list(sums)
        await self.conn.execute(
            Q.apply_deltas,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [sums[k][0] for k in keys],
            [sums[k][1] for k in keys],
            [sums[k][2] for k in keys],
        )

    async def insert_movements(
        self,
        deltas: Sequence[Delta],
        *,
        actor: str | Sequence[str],
        occurred_at: Sequence[datetime],
        idempotency_key: str | None = None,
    ) -> list[RecordedMovement]:
        actors = [actor] * len(deltas) if isinstance(actor, str) else list(actor)
        rows = await self.conn.fetch(
            Q.insert_movements,
            [d.location_id for d in deltas],
            [d.sku for d in deltas],
            [d.kind for d in deltas],
            [d.on_hand for d in deltas],
            [d.reserved for d in deltas],
            [d.incoming for d in deltas],
            [d.reference for d in deltas],
            [d.reason for d in deltas],
            [idempotency_key] * len(deltas),
            actors,
            list(occurred_at),
        )
        return [movement_from_row(r) for r in rows]

    async def write(
        self,
        deltas: Sequence[Delta],
        *,
        actor: str,
        occurred_at: Sequence[datetime],
        idempotency_key: str | None = None,
    ) -> list[RecordedMovement]:
        """Append the movements and update their (already locked) balances."""
        if not deltas:
            return []
        recorded = await self.insert_movements(
            deltas, actor=actor, occurred_at=occurred_at, idempotency_key=idempotency_key
        )
        await self.apply_deltas(deltas)
        await self.balances_changed({d.key for d in deltas})
        return recorded

    async def balances_changed(self, keys: set[BalanceKey]) -> None:
        """Mark for availability.changed events and tell the replicas' caches."""
        await self.log_availability_changes(keys)
        await self.notify_changed({sku for _, sku in keys})

    async def log_availability_changes(self, keys: set[BalanceKey]) -> None:
        ordered = sorted(keys)
        await self.conn.execute(
            Q.log_availability_changes, [k[0] for k in ordered], [k[1] for k in ordered]
        )

    async def lock_existing_balances(
        self, keys: Iterable[BalanceKey]
    ) -> tuple[dict[BalanceKey, Balance], dict[str, bool]]:
        """Lock those of ``keys`` that exist, in (location_id, sku) order; missing ones are
        absent. Also returns location_id -> active for the locations of the locked ones."""
        unique = sorted(set(keys))
        if not unique:
            return {}, {}
        rows = await self.conn.fetch(
            Q.lock_existing_balances, [k[0] for k in unique], [k[1] for k in unique]
        )
        balances = {(r["location_id"], r["sku"]): balance_from_row(r) for r in rows}
        return balances, {r["location_id"]: r["active"] for r in rows}

    async def take_availability_changes(self, limit: int) -> list[tuple[Balance, int]]:
        """Claim availability marks: (current balance, low_stock_threshold) per mark."""
        rows = await self.conn.fetch(Q.take_availability_changes, limit)
        return [(balance_from_row(r), r["low_stock_threshold"]) for r in rows]

    async def notify_changed(self, skus: Iterable[str]) -> None:
        """Tell every replica's availability cache which SKUs changed (sent at commit)."""
        skus = set(skus)
        note_changes("balances", skus)  # this replica's caches, after commit (Database.run)
        for payload in change_notices(skus):
            await self.conn.execute(Q.notify_changed, payload)

    async def existing_locations(self, location_ids: Iterable[str]) -> dict[str, bool]:
        """location_id -> active, for those of ``location_ids`` that exist."""
        rows = await self.conn.fetch(Q.existing_locations, list(set(location_ids)))
        return {r["location_id"]: r["active"] for r in rows}

    async def lock_transfer_lines(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[int, int]]:
        """(to_location_id, transfer_id, sku) -> (quantity, received), locked."""
        unique = sorted(set(keys))
        rows = await self.conn.fetch(
            Q.lock_transfer_lines,
            [k[0] for k in unique],
            [k[1] for k in unique],
            [k[2] for k in unique],
        )
        return {
            (r["to_location_id"], r["transfer_id"], r["sku"]): (r["quantity"], r["received"])
            for r in rows
        }

    async def insert_transfer_lines(
        self, lines: Sequence[tuple[str, str, str, str, int]]
    ) -> set[tuple[str, str]]:
        """Insert (to, transfer_id, sku, from, quantity); return (transfer_id, sku) inserted."""
        rows = await self.conn.fetch(
            Q.insert_transfer_lines, *(list(column) for column in zip(*lines, strict=True))
        )
        return {(r["transfer_id"], r["sku"]) for r in rows}

    async def receive_transfer_lines(self, lines: Sequence[tuple[str, str, str, int]]) -> None:
        await self.conn.execute(
            Q.receive_transfer_lines, *(list(column) for column in zip(*lines, strict=True))
        )

    async def cancel_transfer_lines(self, transfer_ids: Sequence[str]) -> None:
        await self.conn.execute(Q.cancel_transfer_lines, list(transfer_ids))

    async def movements_page(
        self, location_id: str, sku: str, *, before: int, limit: int
    ) -> list[RecordedMovement]:
        rows = await self.conn.fetch(Q.movements_page, location_id, sku, before, limit)
        return [movement_from_row(r) for r in rows]

    async def balances_of_sku(self, sku: str) -> list[Balance]:
        return [balance_from_row(r) for r in await self.conn.fetch(Q.balances_of_sku, sku)]

    async def balances_of_skus(self, skus: Sequence[str]) -> list[Balance]:
        return [balance_from_row(r) for r in await self.conn.fetch(Q.balances_of_skus, list(skus))]

    async def skus_after(self, after: str, limit: int) -> list[str]:
        return [r["sku"] for r in await self.conn.fetch(Q.skus_after, after, limit)]

    async def set_safety_stock(self, location_id: str, sku: str, value: int | None) -> Balance:
        row = await self.conn.fetchrow(Q.set_safety_stock, location_id, sku, value)
        assert row is not None
        await self.notify_changed([sku])
        return balance_from_row(row)

    async def ledger_mismatches(self, limit: int = 1000) -> list[asyncpg.Record]:
        return list(await self.conn.fetch(Q.ledger_mismatches, limit))
