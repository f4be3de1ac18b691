"""Reservations over HTTP: the basic lifecycle (smoke)."""

from __future__ import annotations

import asyncio

import httpx

from service.storage.pool import Pool
from tests.helpers import location_body


async def stock(client: httpx.AsyncClient, location: str, sku: str, quantity: int) -> None:
    r = await client.put(f"/v1/locations/{location}", json=location_body())
    assert r.status_code in (200, 201)
    r = await client.post(
        "/v1/stock/movements",
        json={
            "movements": [
                {"kind": "receipt", "sku": sku, "location_id": location, "quantity": quantity}
            ]
        },
        headers={"Idempotency-Key": f"stock-{location}-{sku}"},
    )
    assert r.status_code == 200, r.text


async def test_n_concurrent_reservations_for_k_units_confirm_exactly_k(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await stock(client, "ST-A", "HOT", 10)
    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/reservations",
                json={
                    "reservation_id": f"r{i}",
                    "location_id": "ST-A",
                    "lines": [{"sku": "HOT", "quantity": 1}],
                },
            )
            for i in range(50)
        )
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 10, [a.text for a in answers][:3]
    assert codes.count(409) == 40
    assert await pool.fetchval("SELECT reserved FROM balances WHERE sku = 'HOT'") == 10
