"""Integrations post batches of movements; the ledger applies all or none, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.keys import rotate_key
from tests.conftest import KeyMaker
from tests.helpers import (
    Client,
    assert_problem,
    balance_of,
    count,
    given_locations,
    post,
    posted,
    receipt,
    sale,
    snapshot,
)


async def ledger_of(client: Client, location_id: str, sku: str = "S1") -> list[tuple[str, int]]:
    page = (await client.get(f"/v1/stock/{sku}/locations/{location_id}/movements")).json()
    return [(m["kind"], m["on_hand_delta"]) for m in reversed(page["movements"])]


async def test_a_receipt_raises_on_hand_and_is_recorded_in_the_ledger(client: Client) -> None:
    await given_locations(client, "ST-A")
    response = await post(client, "k1", receipt("ST-A", 5))
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
    assert body["shortages"] == []
    assert await ledger_of(client, "ST-A") == [("receipt", 5)]


@pytest.mark.parametrize(
    ("movement", "on_hand"),
    [
        ({"kind": "sale", "quantity": 3}, 7),
        ({"kind": "return", "quantity": 2}, 12),
        ({"kind": "write_off", "quantity": 4, "reason": "theft"}, 6),
        ({"kind": "adjustment", "quantity": 5, "reason": "found in the back"}, 15),
        ({"kind": "adjustment", "quantity": -5}, 5),
        ({"kind": "count", "counted": 13}, 13),
        ({"kind": "count", "counted": 4}, 4),
        ({"kind": "count", "counted": 10}, 10),
    ],
)
async def test_each_movement_kind_changes_on_hand_as_the_ledger_records(
    client: Client, pool: Pool, movement: dict[str, Any], on_hand: int
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 10))
    answer = await posted(client, "move", {"sku": "S1", "location_id": "ST-A", **movement})
    assert balance_of(answer, "ST-A")["on_hand"] == on_hand
    assert [(m["kind"], m["on_hand_delta"]) for m in answer["movements"]] == [
        (movement["kind"], on_hand - 10)
    ]
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == on_hand
    assert await pool.fetchval("SELECT sum(on_hand_delta) FROM movements") == on_hand


async def test_a_write_off_keeps_its_reason_and_an_adjustment_its_note(client: Client) -> None:
    await given_locations(client, "ST-A")
    answer = await posted(
        client,
        "k",
        {
            "kind": "write_off",
            "sku": "S1",
            "location_id": "ST-A",
            "quantity": 1,
            "reason": "expired",
        },
        {
            "kind": "adjustment",
            "sku": "S1",
            "location_id": "ST-A",
            "quantity": 2,
            "reason": "recount",
        },
    )
    assert [m["reason"] for m in answer["movements"]] == ["expired", "recount"]


async def test_a_movement_records_its_reference_actor_and_occurred_at(client: Client) -> None:
    await given_locations(client, "ST-A")
    response = await client.post(
        "/v1/stock/movements",
        json={
            "movements": [
                receipt("ST-A", 1, reference="PO-77", occurred_at="2026-01-05T08:30:00+01:00")
            ],
            "actor": "erp",
        },
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 200, response.text
    [movement] = response.json()["movements"]
    assert movement["reference"] == "PO-77"
    assert movement["actor"] == "erp"
    assert movement["occurred_at"] == "2026-01-05T07:30:00Z"


async def test_a_sale_below_zero_is_recorded_and_reported_as_a_shortage(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 1))
    answer = await posted(client, "pos", sale("ST-A", 3))
    assert balance_of(answer, "ST-A")["on_hand"] == -2
    assert balance_of(answer, "ST-A")["available"] == 0
    assert answer["shortages"] == [
        {"sku": "S1", "location_id": "ST-A", "on_hand": -2, "reserved": 0, "short_by": 2}
    ]
    assert await pool.fetchval("SELECT on_hand FROM balances") == -2
    availability = (await client.get("/v1/availability/S1/locations/ST-A")).json()
    assert (availability["on_hand"], availability["available"]) == (-2, 0)
    assert availability["status"] == "out_of_stock"


async def test_a_count_after_a_shortage_sets_on_hand_to_the_counted_figure(client: Client) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "pos", sale("ST-A", 3))
    answer = await posted(client, "count", count("ST-A", 7))
    assert balance_of(answer, "ST-A")["on_hand"] == 7
    assert await ledger_of(client, "ST-A") == [("sale", -3), ("count", 10)]


async def test_a_batch_applies_its_movements_in_order(client: Client) -> None:
    await given_locations(client, "ST-A")
    answer = await posted(
        client, "k", receipt("ST-A", 5), count("ST-A", 8), sale("ST-A", 2), count("ST-A", 8)
    )
    assert [m["on_hand_delta"] for m in answer["movements"]] == [5, 3, -2, 2]
    assert balance_of(answer, "ST-A")["on_hand"] == 8


async def test_a_batch_over_several_balances_answers_each_balance_once(client: Client) -> None:
    await given_locations(client, "ST-A", "ST-B")
    answer = await posted(
        client,
        "k",
        receipt("ST-B", 5),
        receipt("ST-A", 2, sku="S2"),
        receipt("ST-A", 1),
        sale("ST-B", 1),
    )
    figures = [(b["location_id"], b["sku"], b["on_hand"]) for b in answer["balances"]]
    assert sorted(figures) == [("ST-A", "S1", 1), ("ST-A", "S2", 2), ("ST-B", "S1", 4)]


async def test_the_same_batch_posted_twice_applies_once_and_answers_the_same(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    first = await post(client, "same-key", receipt("ST-A", 5))
    second = await post(client, "same-key", receipt("ST-A", 5))
    assert second.status_code == 200
    assert second.json() == first.json()
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 5
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1


async def test_a_repeated_count_does_not_record_a_second_difference(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "count", count("ST-A", 4))
    await posted(client, "sale", sale("ST-A", 1))
    again = await posted(client, "count", count("ST-A", 4))
    assert balance_of(again, "ST-A")["on_hand"] == 4  # the first answer, replayed
    assert await pool.fetchval("SELECT on_hand FROM balances") == 3
    assert await pool.fetchval("SELECT count(*) FROM movements") == 2


async def test_the_same_batch_posted_concurrently_applies_once(client: Client, pool: Pool) -> None:
    await given_locations(client, "ST-A")
    answers = await asyncio.gather(*(post(client, "race", receipt("ST-A", 3)) for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 3
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1


async def test_a_key_reused_for_a_different_batch_is_refused_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "k", receipt("ST-A", 5))
    before = await snapshot(pool)
    response = await post(client, "k", receipt("ST-A", 6))
    assert_problem(response, 409, "idempotency_key_reused")
    assert await snapshot(pool) == before


async def test_a_key_reused_concurrently_for_different_batches_applies_only_one(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    answers = await asyncio.gather(
        *(post(client, "shared", receipt("ST-A", n)) for n in range(1, 9))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 7
    [winner] = [a.json() for a in answers if a.status_code == 200]
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1
    assert (
        await pool.fetchval("SELECT on_hand FROM balances") == balance_of(winner, "ST-A")["on_hand"]
    )


async def test_a_refused_batch_leaves_its_key_free_for_the_corrected_batch(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    refused = await post(client, "k", receipt("ST-NOWHERE", 5))
    assert_problem(refused, 422, "unknown_location")
    answer = await posted(client, "k", receipt("ST-A", 5))
    assert balance_of(answer, "ST-A")["on_hand"] == 5
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 1


# ------------------------------------------------------------------ each caller's own keys


async def post_as(
    client: Client, token: str, key: str, *movements: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/v1/stock/movements",
        json={"movements": list(movements)},
        headers={"Idempotency-Key": key, "Authorization": f"Bearer {token}"},
    )


async def test_the_idempotency_key_of_another_caller_is_another_request(
    client: Client, pool: Pool, make_key: KeyMaker
) -> None:
    # Two integrations that happen to pick the same key: each batch is applied, and
    # neither caller is handed the other's stored answer.
    await given_locations(client, "ST-A")
    erp, wms = await make_key("integration"), await make_key("integration")
    first = await post_as(client, erp, "batch-1", receipt("ST-A", 5))
    other = await post_as(client, wms, "batch-1", receipt("ST-A", 2))
    assert (first.status_code, other.status_code) == (200, 200)
    assert other.json()["balances"][0]["on_hand"] == 7
    same_body = await post_as(client, wms, "batch-1", receipt("ST-A", 2))
    assert same_body.json() == other.json()  # the caller's own repeat: its own answer
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 7


async def test_a_retry_with_the_key_that_replaced_the_sender_applies_once(
    client: Client, pool: Pool, db: Database, make_key: KeyMaker
) -> None:
    await given_locations(client, "ST-A")
    erp = await make_key("integration")
    first = await post_as(client, erp, "batch-1", receipt("ST-A", 5))
    key_id = erp.split("_")[1]
    rotation = await rotate_key(db, key_id, overlap=timedelta(hours=1))
    retry = await post_as(client, rotation.token, "batch-1", receipt("ST-A", 5))
    assert retry.json() == first.json()
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 5


async def test_an_answer_stored_for_every_caller_still_answers_its_retry(
    client: Client, pool: Pool, make_key: KeyMaker
) -> None:
    # A batch whose answer was stored in the one scope all callers shared (before keys
    # were each caller's own) is not applied again when its sender retries it.
    await given_locations(client, "ST-A")
    erp = await make_key("integration")
    first = await post_as(client, erp, "batch-1", receipt("ST-A", 5))
    await pool.execute(
        "UPDATE idempotency_keys SET scope = 'stock.movements' WHERE key = 'batch-1'"
    )
    retry = await post_as(client, erp, "batch-1", receipt("ST-A", 5))
    assert retry.json() == first.json()
    assert await pool.fetchval("SELECT on_hand FROM balances WHERE sku = 'S1'") == 5
