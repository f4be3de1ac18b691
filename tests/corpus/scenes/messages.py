"""Commands by message on ``inventory.commands``: each step publishes one command
(with reply_to and a correlation id unless it says otherwise) and the corpus keeps its
reply, the events it caused and any dead letter. "Again" means the same message
(same message_id, same content) sent once more, as a redelivery would be."""

from __future__ import annotations

from typing import Any

from tests.corpus.scenes.world import location, pickup_settings
from tests.corpus.steps import Http, Publish

CUSTOMER = {"name": "Kari Nordmann", "email": "kari@example.com"}


def send(name: str, body: dict[str, Any] | bytes, **more: Any) -> Publish:
    """``body`` with reply_to, and the correlation id ``c-<message_id>``."""
    if isinstance(body, dict) and "message_id" in body and "correlation_id" not in more:
        more["correlation_id"] = f"c-{body['message_id']}"
    return Publish(name, body, **more)


def create(
    message_id: str, reservation_id: str, *lines: tuple[str, int], **more: Any
) -> dict[str, Any]:
    return {
        "type": "reservation.create",
        "message_id": message_id,
        "reservation_id": reservation_id,
        "location_id": "ST-A",
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
    } | more


def cancel(message_id: str, reservation_id: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "reservation.cancel",
        "message_id": message_id,
        "reservation_id": reservation_id,
    } | more


def fulfil(message_id: str, reservation_id: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "reservation.fulfil",
        "message_id": message_id,
        "reservation_id": reservation_id,
    } | more


def movements(message_id: str, *moves: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "stock.movements", "message_id": message_id, "movements": list(moves)} | more


def receipt(location_id: str, sku: str, quantity: int, **more: Any) -> dict[str, Any]:
    return {"kind": "receipt", "sku": sku, "location_id": location_id, "quantity": quantity} | more


def book(
    message_id: str, pickup_id: str, slot: str = "{D+2T12:00}", *lines: tuple[str, int], **more: Any
) -> dict[str, Any]:
    return {
        "type": "pickup.book",
        "message_id": message_id,
        "pickup_id": pickup_id,
        "location_id": "ST-A",
        "slot_start": slot,
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines or (("S1", 1),)],
        "customer": CUSTOMER,
    } | more


def cancel_pickup(message_id: str, pickup_id: str, **more: Any) -> dict[str, Any]:
    return {"type": "pickup.cancel", "message_id": message_id, "pickup_id": pickup_id} | more


RESERVATIONS = [
    location("ST-A"),
    location("ST-OFF", active=False),
    send(
        "stock arrives by message",
        movements("m-stock", receipt("ST-A", "S1", 5), receipt("ST-A", "S2", 10)),
    ),
    send("r-1 created", create("m-1", "r-1", ("S1", 2))),
    send("r-1 created again", create("m-1", "r-1", ("S1", 2))),
    send(
        "r-1 created again with another correlation id",
        create("m-1", "r-1", ("S1", 2)),
        correlation_id="c-other",
    ),
    send("message id m-1 reused for r-2", create("m-1", "r-2", ("S2", 1))),
    send("r-1 created again under a new message id", create("m-2", "r-1", ("S1", 2))),
    send("r-1 with another quantity under a new message id", create("m-3", "r-1", ("S1", 3))),
    send("more than available", create("m-4", "r-2", ("S1", 10), ("S2", 1))),
    send("more stock arrives", movements("m-stock-2", receipt("ST-A", "S1", 10))),
    send(
        "more than available, again after the stock arrived",
        create("m-4", "r-2", ("S1", 10), ("S2", 1)),
    ),
    send("an unknown location", create("m-5", "r-2", ("S1", 1), location_id="ST-NOWHERE")),
    send("an inactive location", create("m-6", "r-2", ("S1", 1), location_id="ST-OFF")),
    send("r-3 sent twice at once", create("m-7", "r-3", ("S2", 1)), copies=2),
    send("r-4 without reply_to", create("m-8", "r-4", ("S2", 1)), reply=False),
    send("r-5 without a correlation id", create("m-9", "r-5", ("S2", 1)), correlation_id=None),
    send(
        "r-6 with unknown fields at the top and in a line",
        create("m-10", "r-6", ("S2", 1), gift=True)
        | {"lines": [{"sku": "S2", "quantity": 1, "colour": "red"}]},
    ),
    send(
        "r-7 with every field",
        create("m-11", "r-7", ("S2", 1), channel="app", external_ref="order-7", ttl_seconds=3600),
    ),
    Http(
        "r-8 created over HTTP",
        "POST",
        "/v1/reservations",
        key="webshop",
        json={
            "reservation_id": "r-8",
            "location_id": "ST-A",
            "lines": [{"sku": "S2", "quantity": 1}],
        },
    ),
    send("r-8 created by message with the same content", create("m-12", "r-8", ("S2", 1))),
    send(
        "r-8 created by message from the app channel",
        create("m-13", "r-8", ("S2", 1), channel="app"),
    ),
    send("r-1 cancelled", cancel("m-20", "r-1", reason="customer")),
    send("r-1 cancelled again", cancel("m-20", "r-1", reason="customer")),
    send("r-1 cancelled under a new message id", cancel("m-21", "r-1")),
    send("r-1 fulfilled after its cancel", fulfil("m-22", "r-1")),
    send("a reservation that does not exist cancelled", cancel("m-23", "r-404")),
    send("r-3 partly fulfilled", fulfil("m-24", "r-3", lines=[{"sku": "S2", "quantity": 1}])),
    send(
        "r-5 fulfilled with a SKU it does not hold",
        fulfil("m-25", "r-5", lines=[{"sku": "S1", "quantity": 1}]),
    ),
    send("r-5 fulfilled whole", fulfil("m-26", "r-5")),
    send("r-5 fulfilled whole again", fulfil("m-26", "r-5")),
    send("r-5 fulfilled again under a new message id", fulfil("m-27", "r-5")),
    send("a pickup's reservation cancelled", cancel("m-28", "pickup:P-1")),
    send("a pickup's reservation created", create("m-29", "pickup:P-9", ("S1", 1))),
    send("a TTL over the maximum", create("m-30", "r-9", ("S1", 1), ttl_seconds=604801)),
    send("a SKU twice", create("m-31", "r-9", ("S1", 1), ("S1", 1))),
    send(
        "a fulfil naming a SKU twice",
        fulfil("m-32", "r-7", lines=[{"sku": "S2", "quantity": 1}, {"sku": "S2", "quantity": 1}]),
    ),
    send("a cancel with an unknown field", cancel("m-33", "r-7", why="x")),
    Http("r-1 as HTTP reads it", "GET", "/v1/reservations/r-1", key="webshop"),
    Http("the ledger of S1", "GET", "/v1/stock/S1/locations/ST-A/movements", key="integration"),
]

STOCK = [
    location("ST-A"),
    location("ST-B"),
    location("WH-1", "warehouse"),
    send("a receipt", movements("m-1", receipt("ST-A", "S1", 5, reference="PO-1"))),
    send("the receipt again", movements("m-1", receipt("ST-A", "S1", 5, reference="PO-1"))),
    send("message id m-1 reused for another receipt", movements("m-1", receipt("ST-A", "S1", 6))),
    Http(
        "the same key over HTTP",
        "POST",
        "/v1/stock/movements",
        key="integration",
        json={"movements": [receipt("ST-A", "S1", 5, reference="PO-1")]},
        headers=(("idempotency-key", "m-1"),),
    ),
    send(
        "every kind at once, with an actor",
        movements(
            "m-2",
            {"kind": "sale", "sku": "S1", "location_id": "ST-A", "quantity": 1},
            {"kind": "return", "sku": "S1", "location_id": "ST-A", "quantity": 1},
            {
                "kind": "write_off",
                "sku": "S1",
                "location_id": "ST-A",
                "quantity": 1,
                "reason": "theft",
            },
            {"kind": "adjustment", "sku": "S1", "location_id": "ST-A", "quantity": 2},
            {"kind": "count", "sku": "S2", "location_id": "ST-A", "counted": 7},
            actor="erp-nightly",
        ),
    ),
    send(
        "a receipt at the warehouse and a transfer",
        movements(
            "m-3",
            receipt("WH-1", "S3", 10),
            {
                "kind": "transfer",
                "sku": "S3",
                "location_id": "WH-1",
                "to_location_id": "ST-B",
                "quantity": 4,
                "transfer_id": "T-1",
            },
        ),
    ),
    send(
        "the transfer received",
        movements(
            "m-4",
            {
                "kind": "transfer_receipt",
                "sku": "S3",
                "location_id": "ST-B",
                "quantity": 4,
                "transfer_id": "T-1",
            },
        ),
    ),
    send(
        "more of the transfer received than sent",
        movements(
            "m-5",
            {
                "kind": "transfer_receipt",
                "sku": "S3",
                "location_id": "ST-B",
                "quantity": 1,
                "transfer_id": "T-1",
            },
        ),
    ),
    send(
        "an unknown location second in the batch",
        movements("m-6", receipt("ST-A", "S1", 1), receipt("ST-NOWHERE", "S1", 1)),
    ),
    send(
        "an unknown location again",
        movements("m-6", receipt("ST-A", "S1", 1), receipt("ST-NOWHERE", "S1", 1)),
    ),
    send(
        "an adjustment of 0",
        movements("m-7", {"kind": "adjustment", "sku": "S1", "location_id": "ST-A", "quantity": 0}),
    ),
    send("1,001 movements", movements("m-8", *[receipt("ST-A", "S1", 1)] * 1001)),
    send(
        "a transfer of a pickup",
        movements(
            "m-9",
            {
                "kind": "transfer",
                "sku": "S3",
                "location_id": "WH-1",
                "to_location_id": "ST-A",
                "quantity": 1,
                "transfer_id": "pickup:P-1:WH-1",
            },
        ),
    ),
    Http(
        "a webshop reserves 5 S1",
        "POST",
        "/v1/reservations",
        key="webshop",
        json={
            "reservation_id": "r-1",
            "location_id": "ST-A",
            "lines": [{"sku": "S1", "quantity": 5}],
        },
    ),
    send(
        "a sale below what is reserved",
        movements("m-10", {"kind": "sale", "sku": "S1", "location_id": "ST-A", "quantity": 3}),
    ),
    send("a receipt without reply_to", movements("m-11", receipt("ST-A", "S4", 1)), reply=False),
    send(
        "an unknown field in a movement and at the top",
        movements("m-12", receipt("ST-A", "S4", 1, colour="red"), batch=7),
    ),
    send(
        "a quantity as a string",
        movements("m-13", {"kind": "receipt", "sku": "S4", "location_id": "ST-A", "quantity": "1"}),
    ),
    send("no movements", movements("m-14")),
    send(
        "an occurred_at yesterday",
        movements("m-15", receipt("ST-A", "S4", 1, occurred_at="{D-1T08:30}")),
    ),
    Http("the ledger of S1", "GET", "/v1/stock/S1/locations/ST-A/movements", key="integration"),
]

PICKUPS = [
    location("ST-A"),
    location("WH-1", "warehouse"),
    pickup_settings(
        "ST-A",
        slot_minutes=240,
        capacity_per_slot=2,
        prep_minutes=0,
        suppliers=[{"warehouse_id": "WH-1", "lead_time_minutes": 60}],
    ),
    send("stock arrives", movements("m-stock", receipt("ST-A", "S1", 5), receipt("WH-1", "S2", 3))),
    send("P-1 booked", book("m-1", "P-1")),
    send("P-1 booked again", book("m-1", "P-1")),
    send("message id m-1 reused for P-2", book("m-1", "P-2")),
    send("P-1 booked again under a new message id", book("m-2", "P-1")),
    send("P-1 with another slot", book("m-3", "P-1", "{D+2T16:00}")),
    send(
        "P-2 with a line from the warehouse",
        book("m-4", "P-2", "{D+2T12:00}", ("S1", 1), ("S2", 1)),
    ),
    send("P-3 in the full slot", book("m-5", "P-3")),
    send("P-3 at a time that starts no slot", book("m-6", "P-3", "{D+2T13:00}")),
    send("P-3 beyond the horizon", book("m-7", "P-3", "{D+9T12:00}")),
    send("P-3 with more than there is", book("m-8", "P-3", "{D+2T16:00}", ("S1", 9), ("S2", 9))),
    send("P-3 at a location that does not exist", book("m-9", "P-3", location_id="ST-NOWHERE")),
    send("P-3 with a SKU twice", book("m-10", "P-3", "{D+2T16:00}", ("S1", 1), ("S1", 1))),
    send("P-3 with an unknown field", book("m-11", "P-3", "{D+2T16:00}", gift=True)),
    Http(
        "P-4 booked over HTTP",
        "POST",
        "/v1/pickups",
        key="webshop",
        json={
            k: v
            for k, v in book("-", "P-4", "{D+2T16:00}").items()
            if k not in ("type", "message_id")
        },
    ),
    send("P-4 booked by message with the same content", book("m-12", "P-4", "{D+2T16:00}")),
    send("P-1 cancelled", cancel_pickup("m-20", "P-1", reason="customer")),
    send("P-1 cancelled again", cancel_pickup("m-20", "P-1", reason="customer")),
    send("P-1 cancelled under a new message id", cancel_pickup("m-21", "P-1")),
    send("P-1 booked again, after its cancel", book("m-1", "P-1")),
    send("a pickup that does not exist cancelled", cancel_pickup("m-22", "P-404")),
    Http("P-2 made ready", "POST", "/v1/pickups/P-2/ready", key="staff-a"),
    send("P-2 cancelled once ready", cancel_pickup("m-23", "P-2")),
    send("P-4's reservation cancelled by a reservation message", cancel("m-24", "pickup:P-4")),
    Http("P-1 as HTTP reads it", "GET", "/v1/pickups/P-1", key="webshop"),
]

POISON = [
    location("ST-A"),
    send("stock arrives", movements("m-stock", receipt("ST-A", "S1", 5))),
    send(
        "bytes that are not JSON",
        b"{this is not json",
        routing_key="reservation.create",
        message_id="p-1",
        correlation_id="c-p-1",
    ),
    send("an empty body", b"", routing_key="reservation.create", message_id="p-2"),
    send(
        "invalid UTF-8",
        b'{"type": "reservation.create", "message_id": "p-3", "reservation_id": "\xff"}',
        routing_key="reservation.create",
        message_id="p-3",
    ),
    send("nesting 100,000 deep", b"[" * 100_000, routing_key="stock.movements", message_id="p-4"),
    send("a JSON array", b"[]", routing_key="stock.movements", message_id="p-5"),
    send("an unknown type", {"type": "reservation.teleport", "message_id": "p-6"}),
    send(
        "an unknown pickup type",
        {"type": "pickup.collect", "message_id": "p-7", "pickup_id": "P-1"},
    ),
    send(
        "no type", {"message_id": "p-8", "reservation_id": "r-1"}, routing_key="reservation.create"
    ),
    send(
        "a type that is a number",
        {"type": 7, "message_id": "p-9"},
        routing_key="reservation.create",
    ),
    send(
        "no message_id field",
        {k: v for k, v in create("-", "r-1", ("S1", 1)).items() if k != "message_id"},
        message_id="p-10",
    ),
    send("a message_id with a space", create("p 11", "r-1", ("S1", 1))),
    send("a quantity of 0", create("p-12", "r-1", ("S1", 0))),
    send(
        "a quantity as a string",
        create("p-13", "r-1") | {"lines": [{"sku": "S1", "quantity": "1"}]},
    ),
    send(
        "no location",
        {k: v for k, v in create("p-14", "r-1", ("S1", 1)).items() if k != "location_id"},
    ),
    send("a slot time without a timezone", book("p-15", "P-1", "{D+2}T12:00:00")),
    send(
        "a cancel under the create routing key",
        cancel("p-16", "r-404"),
        routing_key="reservation.create",
    ),
    send(
        "a create sent as text/plain", create("p-17", "r-2", ("S1", 1)), content_type="text/plain"
    ),
    send(
        "a poison message without reply_to or correlation id",
        b"{",
        routing_key="pickup.book",
        message_id="p-18",
        reply=False,
        correlation_id=None,
    ),
    send("a good message after the poison", create("m-1", "r-1", ("S1", 1))),
]
