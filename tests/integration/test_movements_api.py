"""Integrations post batches of movements; the ledger applies all or none, once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from service.storage.pool import Pool
from tests.helpers import location_body

Client = httpx.AsyncClient


async def given_locations(client: Client, *codes: str, kind: str = "store") -> None:
    for code in codes:
        response = await client.put(f"/v1/locations/{code}", json=location_body(kind))
        assert response.status_code in (200, 201), response.text


async def post(client: Client, key: str, *movements: dict[str, Any]) -> Any:
    return await client.post(
        "/v1/stock/movements", json={"movements": list(movements)}, headers={"Idempotency-Key": key}
    )


async def test_a_receipt_raises_on_hand_and_is_recorded_in_the_ledger(client: Client) -> None:
    await given_locations(client, "ST-A")
    response = await post(
        client, "k1", {"kind": "receipt", "sku": "S1", "location_id": "ST-A", "quantity": 5}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["balances"] == [
        {
            "sku": "S1",
            "location_id": "ST-A",
            "on_hand": 5,
            "reserved": 0,
            "incoming": 0,
            "safety_stock": 0,
            "available": 5,
        }
    ]
    ledger = (await client.get("/v1/stock/S1/locations/ST-A/movements")).json()
    assert [(m["kind"], m["on_hand_delta"]) for m in ledger["movements"]] == [("receipt", 5)]


async def test_the_same_batch_posted_twice_applies_once_and_answers_the_same(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    receipt = {"kind": "receipt", "sku": "S1", "location_id": "ST-A", "quantity": 5}
    first = await post(client, "same-key", receipt)
    second = await post(client, "same-key", receipt)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 5
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1


async def test_the_same_batch_posted_concurrently_applies_once(client: Client, pool: Pool) -> None:
    await given_locations(client, "ST-A")
    receipt = {"kind": "receipt", "sku": "S1", "location_id": "ST-A", "quantity": 3}
    answers = await asyncio.gather(*(post(client, "race", receipt) for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 3
