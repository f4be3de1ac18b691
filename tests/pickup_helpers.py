"""What the click-and-collect tests (issue 4) arrange, send and ask.

Stores here are open every day from 00:00 to 24:00 in UTC unless a test says
otherwise, so "tomorrow at noon" is always a slot in the future and within the
booking horizon, whatever the time the tests run. The ledger questions are
plain SQL of their own, not the service's repositories.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import msgspec

from service.storage.pool import Pool
from tests.reservation_helpers import ledger_errors

__all__ = ["ledger_errors"]

Client = httpx.AsyncClient
Line = tuple[str, int]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAY = {day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEKDAYS}
CUSTOMER = {"name": "Kari Nordmann", "email": "kari@example.com", "phone": "+47 912 34 567"}


# ------------------------------------------------------------------ time


def today_utc() -> date:
    return datetime.now(UTC).date()


def at_noon(days_from_today: int, minute: int = 0) -> datetime:
    """12:00 (plus ``minute``) UTC, ``days_from_today`` days from today."""
    day = today_utc() + timedelta(days=days_from_today)
    return datetime.combine(day, time(12, minute), tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------------ arranging


def store_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "store",
        "name": "Test store",
        "address": "Storgata 1",
        "latitude": 59.91,
        "longitude": 10.75,
        "timezone": "UTC",
        "opening_hours": ALL_DAY,
        "pickup_offered": True,
        "low_stock_threshold": 3,
        "default_safety_stock": 0,
    }
    body.update(overrides)
    return body


async def given_store(client: Client, location_id: str, **overrides: Any) -> None:
    response = await client.put(f"/v1/locations/{location_id}", json=store_body(**overrides))
    assert response.status_code in (200, 201), response.text


async def given_warehouse(client: Client, location_id: str) -> None:
    await given_store(
        client, location_id, kind="warehouse", name="Test warehouse", pickup_offered=False
    )


async def given_settings(client: Client, location_id: str, **settings: Any) -> dict[str, Any]:
    body = {"prep_minutes": 0, **settings}
    response = await client.put(f"/v1/locations/{location_id}/pickup-settings", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def given_stock(client: Client, location_id: str, *lines: Line) -> None:
    movements = [
        {"kind": "receipt", "sku": sku, "location_id": location_id, "quantity": quantity}
        for sku, quantity in lines
    ]
    response = await client.post(
        "/v1/stock/movements",
        json={"movements": movements},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text


async def given_pickup_store(
    client: Client, location_id: str, *stock: Line, **settings: Any
) -> None:
    """A 24/7 store in UTC offering pickup, with slot settings and stock."""
    await given_store(client, location_id)
    await given_settings(client, location_id, **settings)
    if stock:
        await given_stock(client, location_id, *stock)


# ------------------------------------------------------------------ sending


def lines_of(*lines: Line) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines]


def booking_body(
    pickup_id: str, location_id: str, slot_start: datetime, *lines: Line, **more: Any
) -> dict[str, Any]:
    return {
        "pickup_id": pickup_id,
        "location_id": location_id,
        "slot_start": iso(slot_start),
        "lines": lines_of(*lines),
        "customer": CUSTOMER,
        **more,
    }


async def book(
    client: Client, pickup_id: str, location_id: str, slot_start: datetime, *lines: Line
) -> httpx.Response:
    return await client.post(
        "/v1/pickups", json=booking_body(pickup_id, location_id, slot_start, *lines)
    )


async def booked(
    client: Client, pickup_id: str, location_id: str, slot_start: datetime, *lines: Line
) -> dict[str, Any]:
    """Book a pickup that must be accepted; the answer (pickup and code)."""
    response = await book(client, pickup_id, location_id, slot_start, *lines)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an application/problem+json error with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["detail"], body
    return body


async def slots_of(client: Client, location_id: str, day: date, *lines: Line) -> dict[str, Any]:
    cart = [("line", f"{sku}:{quantity}") for sku, quantity in lines]
    params = httpx.QueryParams([("from", day.isoformat()), ("to", day.isoformat()), *cart])
    response = await client.get(f"/v1/locations/{location_id}/pickup-slots", params=params)
    return await ok(response)


async def remaining_in(client: Client, location_id: str, slot_start: datetime) -> int:
    answer = await slots_of(client, location_id, slot_start.date())
    (found,) = [s for s in answer["slots"] if instant(s["starts_at"]) == slot_start]
    remaining: int = found["remaining"]
    return remaining


# ------------------------------------------------------------------ the database


async def on_hand_and_reserved(pool: Pool, location_id: str, sku: str) -> tuple[int, int]:
    row = await pool.fetchrow(
        "SELECT on_hand, reserved FROM balances WHERE location_id = $1 AND sku = $2",
        location_id,
        sku,
    )
    assert row is not None, f"no balance for {location_id}/{sku}"
    return row["on_hand"], row["reserved"]


async def movements_about(pool: Pool, location_id: str, sku: str) -> list[tuple[str, int, int]]:
    """(kind, on_hand_delta, reserved_delta) of every movement of one balance, in order."""
    rows = await pool.fetch(
        """SELECT kind, on_hand_delta, reserved_delta FROM movements
           WHERE location_id = $1 AND sku = $2 ORDER BY movement_id""",
        location_id,
        sku,
    )
    return [(r["kind"], r["on_hand_delta"], r["reserved_delta"]) for r in rows]


async def reservations_of(pool: Pool, pickup_id: str) -> list[dict[str, Any]]:
    """Every reservation made for a pickup (its external_ref is the pickup id)."""
    rows = await pool.fetch(
        """SELECT location_id, reservation_id, status, expires_at, created_at FROM reservations
           WHERE external_ref = $1 ORDER BY reservation_id""",
        pickup_id,
    )
    return [dict(r) for r in rows]


async def slot_usage(pool: Pool, location_id: str, slot_start: datetime) -> int:
    booked_: int | None = await pool.fetchval(
        "SELECT booked FROM pickup_slot_usage WHERE location_id = $1 AND slot_start = $2",
        location_id,
        slot_start,
    )
    return booked_ or 0


async def pickup_row(pool: Pool, pickup_id: str) -> dict[str, Any]:
    row = await pool.fetchrow("SELECT * FROM pickups WHERE pickup_id = $1", pickup_id)
    assert row is not None, pickup_id
    return dict(row)


async def events(pool: Pool, prefix: str = "pickup.") -> list[tuple[str, dict[str, Any]]]:
    """(routing_key, payload) of every event waiting in the outbox for inventory.events."""
    rows = await pool.fetch(
        """SELECT routing_key, payload FROM outbox
           WHERE exchange = 'inventory.events' AND routing_key LIKE $1 ORDER BY event_id""",
        prefix + "%",
    )
    return [(r["routing_key"], msgspec.json.decode(r["payload"])) for r in rows]


async def table_rows(pool: Pool, *tables: str) -> dict[str, list[str]]:
    """Every row of ``tables``, to show that a refused request wrote nothing."""
    return {
        t: sorted(repr(tuple(r)) for r in await pool.fetch(f'SELECT * FROM "{t}"')) for t in tables
    }
