"""Bad batches get a 4xx problem answer and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from service.runtime import Runtime
from service.storage.pool import Pool
from tests.helpers import (
    Client,
    assert_problem,
    given_locations,
    post,
    posted,
    receipt,
    sale,
    snapshot,
)

KEY = {"Idempotency-Key": "k"}


@pytest.fixture
async def before(client: Client, pool: Pool) -> dict[str, list[str]]:
    """ST-A and ST-B exist with some stock; the state every refused request must leave."""
    await given_locations(client, "ST-A", "ST-B")
    await posted(client, "stock", receipt("ST-A", 5), receipt("ST-B", 5))
    return await snapshot(pool)


async def test_a_batch_whose_third_movement_names_an_unknown_location_writes_nothing(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    response = await post(
        client, "k", receipt("ST-A", 1), sale("ST-B", 1), receipt("ST-NOWHERE", 1)
    )
    assert_problem(response, 422, "unknown_location", "movements[2].location_id")
    assert await snapshot(pool) == before


async def test_a_batch_naming_an_inactive_location_is_refused_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await given_locations(client, "ST-CLOSED", active=False)
    before = await snapshot(pool)
    response = await post(client, "k", receipt("ST-A", 1), receipt("ST-CLOSED", 1))
    assert_problem(response, 422, "inactive_location", "movements[1].location_id")
    assert await snapshot(pool) == before


async def test_a_batch_without_an_idempotency_key_is_refused(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    response = await client.post("/v1/stock/movements", json={"movements": [receipt("ST-A", 1)]})
    assert_problem(response, 400, "missing_parameter", "Idempotency-Key")
    assert await snapshot(pool) == before


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"movements": [', b"\xff\xfe"], ids=["bad", "cut", "binary"]
)
async def test_malformed_json_is_refused(
    client: Client, pool: Pool, before: dict[str, list[str]], raw: bytes
) -> None:
    response = await client.post(
        "/v1/stock/movements",
        content=raw,
        headers={**KEY, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")
    assert await snapshot(pool) == before


async def test_an_empty_body_is_refused_as_malformed_json(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    response = await client.post(
        "/v1/stock/movements", content=b"", headers={**KEY, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    assert await snapshot(pool) == before


def at(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "sku": "S1", "location_id": "ST-A", **fields}


@pytest.mark.parametrize(
    ("movement", "field", "named"),
    [
        (at("receipt", quantity=0), "movements[1].quantity", ">= 1"),
        (at("receipt", quantity=-3), "movements[1].quantity", ">= 1"),
        (at("sale", quantity=0), "movements[1].quantity", ">= 1"),
        (at("return", quantity=-1), "movements[1].quantity", ">= 1"),
        (at("write_off", quantity=0), "movements[1].quantity", ">= 1"),
        (at("write_off", quantity=1, reason="bored"), "movements[1].reason", "bored"),
        (at("count", counted=-1), "movements[1].counted", ">= 0"),
        (at("receipt"), "movements[1].quantity", "quantity"),
        (at("receipt", quantity=1, sku="bad sku!"), "movements[1].sku", "regex"),
        (at("receipt", quantity=1, location_id="st-a"), "movements[1].location_id", "regex"),
        (at("receipt", quantity=1, occurred_at="2026-01-05T08:30:00"),
         "movements[1].occurred_at", "timezone"),
    ],
    ids=[
        "zero-receipt", "negative-receipt", "zero-sale", "negative-return", "zero-write-off",
        "unknown-reason", "negative-count", "no-quantity", "bad-sku", "bad-location-id",
        "naive-time",
    ],
)  # fmt: skip
async def test_a_movement_with_a_bad_value_is_refused_naming_its_field(
    client: Client,
    pool: Pool,
    before: dict[str, list[str]],
    movement: dict[str, Any],
    field: str,
    named: str,
) -> None:
    response = await post(client, "k", receipt("ST-B", 1), movement)
    body = assert_problem(response, 422, "invalid_body", field)
    assert named in body["detail"]
    assert await snapshot(pool) == before


async def test_a_zero_adjustment_is_refused_naming_its_quantity(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    zero = {"kind": "adjustment", "sku": "S1", "location_id": "ST-A", "quantity": 0}
    response = await post(client, "k", receipt("ST-A", 1), zero)
    assert_problem(response, 422, "invalid_input", "movements[1].quantity")
    assert await snapshot(pool) == before


async def test_an_unknown_movement_kind_is_refused(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    teleport = {"kind": "teleport", "sku": "S1", "location_id": "ST-A", "quantity": 1}
    response = await post(client, "k", teleport)
    assert_problem(response, 422, "invalid_body", "movements[0].kind")
    assert await snapshot(pool) == before


@pytest.mark.parametrize(
    "body", [{"movements": []}, {}, {"movements": "many"}, []], ids=["empty", "none", "str", "list"]
)
async def test_a_body_without_a_list_of_movements_is_refused(
    client: Client, pool: Pool, before: dict[str, list[str]], body: Any
) -> None:
    response = await client.post("/v1/stock/movements", json=body, headers=KEY)
    assert_problem(response, 422, "invalid_body")
    assert await snapshot(pool) == before


async def test_a_batch_over_the_configured_maximum_is_refused_and_writes_nothing(
    client: Client, pool: Pool, runtime: Runtime, before: dict[str, list[str]]
) -> None:
    limit = runtime.settings.max_movements_per_batch
    response = await post(client, "k", *[receipt("ST-A", 1)] * (limit + 1))
    assert_problem(response, 422, "batch_too_large", "movements")
    assert await snapshot(pool) == before


async def test_a_batch_at_the_configured_maximum_is_applied(
    client: Client, pool: Pool, runtime: Runtime
) -> None:
    await given_locations(client, "ST-A")
    limit = runtime.settings.max_movements_per_batch
    await posted(client, "k", *[receipt("ST-A", 1)] * limit)
    assert await pool.fetchval("SELECT on_hand FROM balances") == limit
    assert await pool.fetchval("SELECT count(*) FROM movements") == limit


async def test_a_body_over_the_size_limit_is_refused_with_413(
    client: Client, pool: Pool, runtime: Runtime, before: dict[str, list[str]]
) -> None:
    padding = "x" * runtime.settings.max_body_bytes
    response = await post(client, "k", receipt("ST-A", 1, reference=padding))
    assert_problem(response, 413, "payload_too_large")
    assert await snapshot(pool) == before


async def test_an_unknown_field_inside_a_movement_is_ignored_so_producers_may_add_fields(
    client: Client, pool: Pool, before: dict[str, list[str]]
) -> None:
    response = await post(client, "k", {**receipt("ST-B", 1), "colour": "red"})
    assert response.status_code == 200, response.text
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE location_id = 'ST-B'") == 6
