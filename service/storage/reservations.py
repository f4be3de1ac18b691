"""The reservations repository (SQL in reservations.sql)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

from service.domain.reservations import Line, ReservationState
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("reservations.sql")


def reservation_from_row(row: asyncpg.Record) -> ReservationState:
    return ReservationState(
        reservation_id=row["reservation_id"],
        location_id=row["location_id"],
        status=row["status"],
        channel=row["channel"],
        external_ref=row["external_ref"],
        fingerprint=row["fingerprint"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=tuple(
            Line(sku, quantity, fulfilled)
            for sku, quantity, fulfilled in zip(
                row["skus"], row["quantities"], row["fulfilled"], strict=True
            )
        ),
    )


class ReservationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock(self, reservation_ids: Iterable[str]) -> dict[str, ReservationState]:
        """Lock the existing ones of ``reservation_ids`` in (location_id, reservation_id)
        order and return them with their lines."""
        ids = sorted(set(reservation_ids))
        if not ids:
            return {}
        locked = await self.conn.fetch(Q.lock, ids)
        return await self.with_lines([r["reservation_id"] for r in locked])

    async def with_lines(self, locked_ids: list[str]) -> dict[str, ReservationState]:
        """The reservations of ``locked_ids`` (locked by this transaction) with their
        lines, read in a new statement: the latest committed lines."""
        if not locked_ids:
            return {}
        rows = await self.conn.fetch(Q.with_lines, locked_ids)
        return {r["reservation_id"]: reservation_from_row(r) for r in rows}

    async def get(self, reservation_id: str) -> ReservationState | None:
        row = await self.conn.fetchrow(Q.get, reservation_id)
        return None if row is None else reservation_from_row(row)

    async def set_expiry(self, reservation_ids: list[str], expires_at: datetime) -> None:
        await self.conn.execute(Q.set_expiry, reservation_ids, expires_at)

    async def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        return [r["reservation_id"] for r in await self.conn.fetch(Q.due_for_expiry, now, limit)]

    async def reserved_mismatches(self, limit: int = 1000) -> list[asyncpg.Record]:
        return list(await self.conn.fetch(Q.reserved_mismatches, limit))
