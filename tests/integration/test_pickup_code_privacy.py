"""A pickup code reaches only the caller that booked: the API key that created the
booking (again on a repeat), or the message that did (again on its redelivery);
anyone else repeating the booking gets the booking without the code (issue 12,
defect 1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from service.messaging.worker import Worker
from service.storage.database import Database
from service.usecases.keys import rotate_key
from tests.conftest import KeyMaker
from tests.integration.test_pickup_messages import Webshop, book_message
from tests.integration.test_pickup_messages import webshop as webshop  # the fixture
from tests.pickup_helpers import Client, at_noon, booking_body, given_pickup_store


async def post_as(client: Client, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/pickups", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_only_the_key_that_booked_gets_the_code_again(
    client: Client, make_key: KeyMaker
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    shop, other_shop = await make_key("webshop"), await make_key("webshop")
    body = booking_body("P1", "ST-A", at_noon(1), ("S1", 1))
    first = await post_as(client, shop, body)
    assert first.status_code == 201, first.text
    code = first.json()["pickup_code"]
    assert code

    again = await post_as(client, shop, body)
    assert again.status_code == 200
    assert again.json()["pickup_code"] == code
    for stranger in (other_shop, await make_key("admin")):
        repeated = await post_as(client, stranger, body)
        assert repeated.status_code == 200
        assert repeated.json()["pickup_code"] is None
        assert repeated.json()["pickup"] == first.json()["pickup"]


async def test_only_the_message_that_booked_gets_the_code_again(
    worker: Worker, webshop: Webshop, client: Client
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    replies = await webshop.inbox()
    first = book_message("m-1", "P1", at_noon(1), ("S1", 1))
    await webshop.send(first, replies.queue.name, "c-1")
    (booked,) = await replies.wait_for(1)
    assert booked["pickup_code"]

    await webshop.send(first, replies.queue.name, "c-1")  # a redelivery: the same message
    await webshop.send({**first, "message_id": "m-2"}, replies.queue.name, "c-2")  # a new one
    _, redelivered, newcomer = await replies.settled(3)
    assert redelivered["pickup_code"] == booked["pickup_code"]
    assert newcomer["type"] == "pickup.booked"
    assert newcomer["pickup"]["pickup_id"] == "P1"
    assert newcomer["pickup_code"] is None

    over_http = await client.post(
        "/v1/pickups", json=booking_body("P1", "ST-A", at_noon(1), ("S1", 1))
    )
    assert over_http.status_code == 200
    assert over_http.json()["pickup_code"] is None


async def test_the_key_that_replaced_the_booking_key_gets_the_code_again(
    client: Client, make_key: KeyMaker, db: Database
) -> None:
    # A retry may straddle a key rotation: the successor is the same caller.
    await given_pickup_store(client, "ST-A", ("S1", 5))
    shop = await make_key("webshop")
    body = booking_body("P1", "ST-A", at_noon(1), ("S1", 1))
    code = (await post_as(client, shop, body)).json()["pickup_code"]
    rotation = await rotate_key(db, shop.split("_")[1], overlap=timedelta(hours=1))
    again = await post_as(client, rotation.token, body)
    assert (again.status_code, again.json()["pickup_code"]) == (200, code)
