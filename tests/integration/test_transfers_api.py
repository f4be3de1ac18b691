"""Transfers: stock leaves one location, is incoming at the other, and is received later."""

from __future__ import annotations

from typing import Any

from service.storage.pool import Pool
from tests.helpers import (
    Client,
    assert_problem,
    balance_of,
    given_locations,
    post,
    posted,
    receipt,
    snapshot,
)


def transfer(
    quantity: int, transfer_id: str = "T-1", src: str = "WH-A", dst: str = "ST-B", sku: str = "S1"
) -> dict[str, Any]:
    return {
        "kind": "transfer",
        "sku": sku,
        "location_id": src,
        "to_location_id": dst,
        "transfer_id": transfer_id,
        "quantity": quantity,
    }


def transfer_receipt(
    quantity: int, transfer_id: str = "T-1", at: str = "ST-B", sku: str = "S1"
) -> dict[str, Any]:
    return {
        "kind": "transfer_receipt",
        "sku": sku,
        "location_id": at,
        "transfer_id": transfer_id,
        "quantity": quantity,
    }


async def given_stock_in_transit(client: Client, quantity: int = 5) -> None:
    await given_locations(client, "WH-A", kind="warehouse")
    await given_locations(client, "ST-B")
    await posted(client, "stock", receipt("WH-A", 10))
    await posted(client, "send", transfer(quantity))


async def test_a_transfer_leaves_the_source_and_is_incoming_at_the_destination(
    client: Client,
) -> None:
    await given_locations(client, "WH-A", kind="warehouse")
    await given_locations(client, "ST-B")
    await posted(client, "stock", receipt("WH-A", 10))
    answer = await posted(client, "send", transfer(4))
    source, destination = balance_of(answer, "WH-A"), balance_of(answer, "ST-B")
    assert (source["on_hand"], source["incoming"]) == (6, 0)
    assert (destination["on_hand"], destination["incoming"], destination["available"]) == (0, 4, 0)
    kinds = [(m["location_id"], m["kind"], m["reference"]) for m in answer["movements"]]
    assert kinds == [("WH-A", "transfer_out", "T-1"), ("ST-B", "transfer_in", "T-1")]


async def test_a_partial_receipt_moves_part_of_the_incoming_into_on_hand(client: Client) -> None:
    await given_stock_in_transit(client, 5)
    answer = await posted(client, "arrive", transfer_receipt(2))
    destination = balance_of(answer, "ST-B")
    assert (destination["on_hand"], destination["incoming"], destination["available"]) == (2, 3, 2)


async def test_receipts_up_to_the_full_quantity_empty_the_incoming(
    client: Client, pool: Pool
) -> None:
    await given_stock_in_transit(client, 5)
    await posted(client, "arrive-1", transfer_receipt(2))
    answer = await posted(client, "arrive-2", transfer_receipt(3))
    destination = balance_of(answer, "ST-B")
    assert (destination["on_hand"], destination["incoming"]) == (5, 0)
    assert await pool.fetchval("SELECT received FROM transfers WHERE transfer_id = 'T-1'") == 5


async def test_receiving_more_than_was_sent_is_refused_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    await given_stock_in_transit(client, 5)
    await posted(client, "arrive-1", transfer_receipt(4))
    before = await snapshot(pool)
    response = await post(client, "arrive-2", transfer_receipt(2))
    assert_problem(response, 422, "transfer_over_received", "movements[0].quantity")
    assert await snapshot(pool) == before


async def test_two_receipts_in_one_batch_that_together_exceed_the_transfer_are_refused(
    client: Client, pool: Pool
) -> None:
    await given_stock_in_transit(client, 5)
    before = await snapshot(pool)
    response = await post(client, "arrive", transfer_receipt(3), transfer_receipt(3))
    assert_problem(response, 422, "transfer_over_received", "movements[1].quantity")
    assert await snapshot(pool) == before


async def test_receiving_an_unknown_transfer_is_refused(client: Client, pool: Pool) -> None:
    await given_stock_in_transit(client, 5)
    before = await snapshot(pool)
    response = await post(client, "arrive", transfer_receipt(1, transfer_id="T-NOPE"))
    assert_problem(response, 422, "unknown_transfer", "movements[0].transfer_id")
    assert await snapshot(pool) == before


async def test_receiving_a_transfer_at_a_location_it_was_not_sent_to_is_refused(
    client: Client,
) -> None:
    await given_stock_in_transit(client, 5)
    await given_locations(client, "ST-C")
    response = await post(client, "arrive", transfer_receipt(1, at="ST-C"))
    assert_problem(response, 422, "unknown_transfer")


async def test_a_transfer_id_already_used_for_the_sku_is_refused_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    await given_stock_in_transit(client, 5)
    before = await snapshot(pool)
    response = await post(client, "send-again", transfer(1))
    assert_problem(response, 409, "transfer_exists", "movements[0].transfer_id")
    assert await snapshot(pool) == before


async def test_one_transfer_id_may_carry_several_skus(client: Client) -> None:
    await given_locations(client, "WH-A", kind="warehouse")
    await given_locations(client, "ST-B")
    await posted(client, "stock", receipt("WH-A", 10), receipt("WH-A", 10, sku="S2"))
    answer = await posted(client, "send", transfer(2), transfer(3, sku="S2"))
    assert balance_of(answer, "ST-B", "S2")["incoming"] == 3
    received = await posted(client, "arrive", transfer_receipt(3, sku="S2"))
    assert balance_of(received, "ST-B", "S2")["on_hand"] == 3


async def test_a_batch_naming_the_same_transfer_line_twice_is_refused_and_writes_nothing(
    client: Client, pool: Pool
) -> None:
    # Both lines would be incoming at ST-B, but only one transfer line (of 2)
    # could be stored: the other 3 units could never be received.
    await given_locations(client, "WH-A", kind="warehouse")
    await given_locations(client, "ST-B")
    await posted(client, "stock", receipt("WH-A", 10))
    before = await snapshot(pool)
    response = await post(client, "send", transfer(2), transfer(3))
    assert_problem(response, 409, "transfer_exists", "movements[1].transfer_id")
    assert await snapshot(pool) == before


async def test_a_transfer_to_its_own_location_is_refused_as_bad_input(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "WH-A", kind="warehouse")
    await posted(client, "stock", receipt("WH-A", 10))
    before = await snapshot(pool)
    response = await post(client, "send", transfer(2, src="WH-A", dst="WH-A"))
    assert_problem(response, 422, "invalid_input", "movements[0].to_location_id")
    assert await snapshot(pool) == before


async def test_a_transfer_to_an_unknown_location_is_refused_naming_the_destination(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "WH-A", kind="warehouse")
    before = await snapshot(pool)
    response = await post(client, "send", transfer(2, dst="ST-NOWHERE"))
    assert_problem(response, 422, "unknown_location", "movements[0].to_location_id")
    assert await snapshot(pool) == before


async def test_every_unit_sent_is_either_incoming_or_received(client: Client, pool: Pool) -> None:
    await given_stock_in_transit(client, 5)
    await posted(client, "arrive", transfer_receipt(2))
    figures = await pool.fetchrow(
        "SELECT sum(on_hand) AS on_hand, sum(incoming) AS incoming FROM balances"
    )
    assert figures["on_hand"] + figures["incoming"] == 10
