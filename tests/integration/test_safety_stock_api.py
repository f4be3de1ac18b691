"""Safety stock per balance: units held back from what the app may promise."""

from __future__ import annotations

from typing import Any

from service.storage.pool import Pool
from tests.helpers import Client, assert_problem, given_locations, posted, receipt, snapshot

URL = "/v1/stock/S1/locations/ST-A/safety-stock"


async def availability(client: Client) -> dict[str, Any]:
    response = await client.get("/v1/availability/S1/locations/ST-A")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_setting_safety_stock_lowers_available_at_once(client: Client) -> None:
    await given_locations(client, "ST-A", low_stock_threshold=3)
    await posted(client, "stock", receipt("ST-A", 6))
    assert (await availability(client))["available"] == 6
    response = await client.put(URL, json={"safety_stock": 2})
    assert response.status_code == 200, response.text
    assert (response.json()["safety_stock"], response.json()["available"]) == (2, 4)
    after = await availability(client)
    assert (after["on_hand"], after["available"], after["status"]) == (6, 4, "in_stock")


async def test_safety_stock_above_on_hand_leaves_nothing_available(client: Client) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 3))
    await client.put(URL, json={"safety_stock": 5})
    after = await availability(client)
    assert (after["available"], after["status"]) == (0, "out_of_stock")


async def test_null_returns_the_balance_to_its_locations_default(client: Client) -> None:
    await given_locations(client, "ST-A", default_safety_stock=1)
    await posted(client, "stock", receipt("ST-A", 10))
    assert (await availability(client))["available"] == 9
    await client.put(URL, json={"safety_stock": 4})
    assert (await availability(client))["available"] == 6
    response = await client.put(URL, json={"safety_stock": None})
    assert response.status_code == 200, response.text
    assert response.json()["safety_stock"] == 1
    assert (await availability(client))["available"] == 9


async def test_safety_stock_set_before_the_first_movement_applies_once_stock_arrives(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await client.put(URL, json={"safety_stock": 2})
    answer = await posted(client, "stock", receipt("ST-A", 5))
    assert answer["balances"][0]["available"] == 3
    assert (await availability(client))["available"] == 3
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1


async def test_safety_stock_is_not_a_movement_and_keeps_the_ledger_exact(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 5))
    await client.put(URL, json={"safety_stock": 2})
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1
    assert await pool.fetchval("SELECT on_hand FROM balances") == 5


async def test_safety_stock_at_an_unknown_location_is_404_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    before = await snapshot(pool)
    response = await client.put(
        "/v1/stock/S1/locations/ST-NOWHERE/safety-stock", json={"safety_stock": 2}
    )
    assert_problem(response, 404, "location_not_found")
    assert await snapshot(pool) == before


async def test_negative_safety_stock_is_refused(client: Client, pool: Pool) -> None:
    await given_locations(client, "ST-A")
    before = await snapshot(pool)
    response = await client.put(URL, json={"safety_stock": -1})
    assert_problem(response, 422, "invalid_body", "safety_stock")
    assert await snapshot(pool) == before
