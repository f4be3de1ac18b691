"""Builders for test data and the questions tests ask of the API and the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from service.contracts.locations import LocationIn, OpeningHours, OpeningInterval
from service.runtime import Runtime
from service.storage.pool import Pool

Client = httpx.AsyncClient
WEEKDAY_HOURS = [OpeningInterval("09:00", "20:00")]


@asynccontextmanager
async def client_of(app: Litestar, api_key: str, name: str = "replica") -> AsyncIterator[Client]:
    """An HTTP client of ``app`` (another replica, say) sending ``api_key``."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://{name}.test",
        headers={"Authorization": f"Bearer {api_key}"},
    ) as http:
        yield http


def location_body(kind: str = "store", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "name": "Test location",
        "address": "Somewhere 1",
        "latitude": 59.91,
        "longitude": 10.75,
        "timezone": "Europe/Oslo",
        "opening_hours": {
            day: [{"opens": "09:00", "closes": "20:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
        },
        "pickup_offered": kind == "store",
        "low_stock_threshold": 3,
        "default_safety_stock": 0,
    }
    body.update(overrides)
    return body


def location_in(kind: str = "store", **overrides: Any) -> LocationIn:
    data = location_body(kind, **overrides)
    hours = data.pop("opening_hours")
    return LocationIn(
        **data,
        opening_hours=OpeningHours(
            **{day: [OpeningInterval(**i) for i in v] for day, v in hours.items()}
        ),
    )


async def given_locations(client: Client, *codes: str, kind: str = "store", **fields: Any) -> None:
    for code in codes:
        response = await client.put(f"/v1/locations/{code}", json=location_body(kind, **fields))
        assert response.status_code in (200, 201), response.text


async def post(client: Client, key: str, *movements: dict[str, Any]) -> httpx.Response:
    """POST one batch of movements with ``key`` as its Idempotency-Key."""
    return await client.post(
        "/v1/stock/movements", json={"movements": list(movements)}, headers={"Idempotency-Key": key}
    )


async def posted(client: Client, key: str, *movements: dict[str, Any]) -> dict[str, Any]:
    """POST a batch that must be accepted; return its answer."""
    response = await post(client, key, *movements)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def receipt(location_id: str, quantity: int, sku: str = "S1", **more: Any) -> dict[str, Any]:
    return {"kind": "receipt", "sku": sku, "location_id": location_id, "quantity": quantity, **more}


def sale(location_id: str, quantity: int, sku: str = "S1", **more: Any) -> dict[str, Any]:
    return {"kind": "sale", "sku": sku, "location_id": location_id, "quantity": quantity, **more}


def count(location_id: str, counted: int, sku: str = "S1", **more: Any) -> dict[str, Any]:
    return {"kind": "count", "sku": sku, "location_id": location_id, "counted": counted, **more}


def balance_of(answer: dict[str, Any], location_id: str, sku: str = "S1") -> dict[str, Any]:
    """The balance of (location_id, sku) in a MovementsPosted answer."""
    found = [b for b in answer["balances"] if b["location_id"] == location_id and b["sku"] == sku]
    assert len(found) == 1, answer["balances"]
    return found[0]


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an application/problem+json error with this status, code and field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["detail"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


async def snapshot(pool: Pool) -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request wrote nothing."""
    names = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {
        t["tablename"]: sorted(
            repr(tuple(r)) for r in await pool.fetch(f'SELECT * FROM "{t["tablename"]}"')
        )
        for t in names
    }


async def read_model_settled(runtime: Runtime, pool: Pool, within_s: float = 5.0) -> None:
    """Wait until the runtime's in-memory location directory matches the database.

    Locations reach the read model through the change feed (LISTEN/NOTIFY), a
    moment after they commit; tests that arrange locations and then ask for
    availability wait here so that they test availability, not that delay.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    stable = 0
    while stable < 3:
        rows = await pool.fetch("SELECT location_id, updated_at FROM locations")
        want = {r["location_id"]: r["updated_at"] for r in rows}
        have = {k: v.updated_at for k, v in runtime.read_model.locations.by_id.items()}
        stable = stable + 1 if have == want else 0
        assert loop.time() < deadline, f"read model never caught up: {have} != {want}"
        await asyncio.sleep(0.005)
