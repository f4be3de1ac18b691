"""The pickups repository (SQL in pickups.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from service.domain.pickup_slots import SlotRules
from service.domain.pickups import Customer, PickupLineState, PickupState
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("pickups.sql")


def _line(row: asyncpg.Record) -> PickupLineState:
    return PickupLineState(
        row["sku"],
        row["quantity"],
        row["source_location_id"],
        row["reservation_id"],
        row["collected"],
    )


def _pickup(row: asyncpg.Record, lines: Sequence[PickupLineState]) -> PickupState:
    return PickupState(
        pickup_id=row["pickup_id"],
        location_id=row["location_id"],
        status=row["status"],
        slot_start=row["slot_start"],
        slot_end=row["slot_end"],
        hold_until=row["hold_until"],
        customer=msgspec.convert(row["customer"], Customer),
        channel=row["channel"],
        external_ref=row["external_ref"],
        fingerprint=row["fingerprint"],
        code_nonce=row["code_nonce"],
        code_hash=row["code_hash"],
        code_secret_id=row["code_secret_id"],
        created_by=row["created_by"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=tuple(lines),
    )


class PickupRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def lock_new_id(self, pickup_id: str) -> None:
        await self.conn.execute(Q.lock_new_id, pickup_id)

    async def lock(self, pickup_id: str) -> PickupState | None:
        row = await self.conn.fetchrow(Q.lock, pickup_id)
        return None if row is None else await self._with_lines(row)

    async def get(self, pickup_id: str) -> PickupState | None:
        row = await self.conn.fetchrow(Q.get, pickup_id)
        return None if row is None else await self._with_lines(row)

    async def _with_lines(self, row: asyncpg.Record) -> PickupState:
        return _pickup(row, await self.lines_of(row["location_id"], row["pickup_id"]))

    async def lines_of(self, location_id: str, pickup_id: str) -> list[PickupLineState]:
        return [_line(x) for x in await self.conn.fetch(Q.lines_of, location_id, pickup_id)]

    async def insert(self, state: PickupState) -> None:
        """The pickup's row and its lines."""
        await self.insert_pickup(state)
        await self.insert_lines(state)

    async def insert_pickup(self, state: PickupState) -> None:
        await self.conn.execute(
            Q.insert_pickup,
            state.location_id,
            state.pickup_id,
            state.status,
            state.slot_start,
            state.slot_end,
            state.hold_until,
            state.customer,
            state.channel,
            state.external_ref,
            state.fingerprint,
            state.code_nonce,
            state.code_hash,
            state.code_secret_id,
            state.created_at,
            state.created_by,
        )

    async def insert_lines(self, state: PickupState) -> None:
        lines = state.lines
        await self.conn.execute(
            Q.insert_lines,
            [state.location_id] * len(lines),
            [state.pickup_id] * len(lines),
            [x.sku for x in lines],
            [x.quantity for x in lines],
            [x.source_location_id for x in lines],
            [x.reservation_id for x in lines],
        )

    async def update(self, state: PickupState) -> None:
        """The pickup's row, and its lines' collected units once any are collected."""
        await self.update_pickup(state)
        if any(x.collected for x in state.lines):
            await self.update_collected(state)

    async def update_pickup(self, state: PickupState) -> None:
        await self.conn.execute(
            Q.update_pickup,
            state.location_id,
            state.pickup_id,
            state.status,
            state.slot_start,
            state.slot_end,
            state.hold_until,
            state.failed_attempts,
            state.locked_until,
            state.updated_at,
        )

    async def update_collected(self, state: PickupState) -> None:
        await self.conn.execute(
            Q.update_collected,
            state.location_id,
            state.pickup_id,
            [x.sku for x in state.lines],
            [x.collected for x in state.lines],
        )

    async def set_line_reservations(self, state: PickupState) -> None:
        await self.conn.execute(
            Q.set_line_reservations,
            state.location_id,
            state.pickup_id,
            [x.sku for x in state.lines],
            [x.reservation_id for x in state.lines],
        )

    async def list_for_location(
        self, location_id: str, start: datetime, end: datetime, status: str | None, limit: int
    ) -> list[PickupState]:
        rows = await self.conn.fetch(Q.list_for_location, location_id, start, end, status, limit)
        if not rows:
            return []
        lines = await self.lines_of_many(location_id, [r["pickup_id"] for r in rows])
        return [_pickup(r, lines[r["pickup_id"]]) for r in rows]

    async def lines_of_many(
        self, location_id: str, pickup_ids: list[str]
    ) -> dict[str, list[PickupLineState]]:
        lines: dict[str, list[PickupLineState]] = {pid: [] for pid in pickup_ids}
        for x in await self.conn.fetch(Q.lines_of_many, location_id, pickup_ids):
            lines[x["pickup_id"]].append(_line(x))
        return lines

    async def due_no_show(self, now: datetime, limit: int) -> list[str]:
        return [r["pickup_id"] for r in await self.conn.fetch(Q.due_no_show, now, limit)]

    async def live_codes(self) -> list[tuple[str | None, str, str, datetime]]:
        """(secret id or None, nonce, code hash, hold end) of each pickup booked or ready."""
        rows = await self.conn.fetch(Q.live_codes)
        return [
            (r["code_secret_id"], r["code_nonce"], r["code_hash"], r["hold_until"]) for r in rows
        ]

    async def lock_slot(self, location_id: str, slot_start: datetime) -> int:
        """Lock one slot's capacity row (creating it); returns how many are booked."""
        booked: int = await self.conn.fetchval(Q.lock_slot, location_id, slot_start)
        return booked

    async def add_to_slot(self, location_id: str, slot_start: datetime, delta: int) -> None:
        await self.conn.execute(Q.add_to_slot, location_id, slot_start, delta)

    async def usage_between(
        self, location_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        rows = await self.conn.fetch(Q.usage_between, location_id, start, end)
        return {r["slot_start"]: r["booked"] for r in rows}

    async def rules(self, location_id: str) -> SlotRules:
        row = await self.conn.fetchrow(Q.rules, location_id)
        if row is None:
            return SlotRules()
        return SlotRules(
            row["slot_minutes"],
            row["capacity_per_slot"],
            row["prep_minutes"],
            row["horizon_days"],
            row["hold_hours"],
        )

    async def suppliers(self, store_id: str) -> list[tuple[str, int]]:
        return [
            (r["warehouse_id"], r["lead_time_minutes"])
            for r in await self.conn.fetch(Q.suppliers, store_id)
        ]

    async def save_settings(
        self, location_id: str, rules: SlotRules, suppliers: Sequence[tuple[str, int]]
    ) -> None:
        """A store's slot rules, and its (warehouse_id, lead_time_minutes) suppliers in
        place of the old ones."""
        await self.upsert_settings(location_id, rules)
        await self.delete_suppliers(location_id)
        if suppliers:
            await self.insert_suppliers(location_id, suppliers)

    async def upsert_settings(self, location_id: str, rules: SlotRules) -> None:
        await self.conn.execute(
            Q.upsert_settings,
            location_id,
            rules.slot_minutes,
            rules.capacity,
            rules.prep_minutes,
            rules.horizon_days,
            rules.hold_hours,
        )

    async def delete_suppliers(self, store_id: str) -> None:
        await self.conn.execute(Q.delete_suppliers, store_id)

    async def insert_suppliers(self, store_id: str, suppliers: Sequence[tuple[str, int]]) -> None:
        await self.conn.execute(
            Q.insert_suppliers,
            store_id,
            [warehouse_id for warehouse_id, _ in suppliers],
            [minutes for _, minutes in suppliers],
        )
