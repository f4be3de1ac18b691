"""Stock movements of every kind (transfers too), their idempotency keys, shortages,
safety stock and the ledger pages of a balance."""

from __future__ import annotations

from typing import Any

from tests.corpus.scenes.world import location, movements, receipt
from tests.corpus.steps import Http

M = "/v1/stock/movements"
LEDGER = "/v1/stock/S1/locations/ST-A/movements"
SAFETY = "/v1/stock/S1/locations/ST-A/safety-stock"


def move(kind: str, location_id: str = "ST-A", sku: str = "S1", **more: Any) -> dict[str, Any]:
    return {"kind": kind, "sku": sku, "location_id": location_id, **more}


def post(
    name: str,
    key: str | None,
    body: Any,
    caller: str | None = "integration",
    **more: Any,
) -> Http:
    """``key``: the Idempotency-Key header (None: no header)."""
    headers = () if key is None else (("idempotency-key", key),)
    if isinstance(body, bytes):
        return Http(name, "POST", M, key=caller, body=body, headers=headers, **more)
    return Http(name, "POST", M, key=caller, json=body, headers=headers, **more)


def safety(name: str, body: Any, key: str = "integration", path: str = SAFETY) -> Http:
    return Http(name, "PUT", path, key=key, json=body)


RECEIPT = {"movements": [receipt("ST-A", "S1", 10, reference="PO-1")]}
# Over the 1 MiB limit, and over the 1,000 movements of a batch, built once.
BIG = (
    b'{"movements":['
    + b'{"kind":"receipt","sku":"S1","location_id":"ST-A","quantity":1},' * 17_000
    + b'{"kind":"receipt","sku":"S1","location_id":"ST-A","quantity":1}]}'
)

STEPS = [
    location("ST-A"),
    location("ST-B"),
    location("WH-1", "warehouse"),
    location("ST-OFF", active=False),
    # ---------------------------------------------------------------- each kind
    post("a receipt", "k-1", RECEIPT),
    post("the same receipt again under its key", "k-1", RECEIPT),
    post("another body under the same key", "k-1", {"movements": [receipt("ST-A", "S1", 11)]}),
    post("a sale", "k-2", {"movements": [move("sale", quantity=2, reference="POS-1")]}),
    post("a return", "k-3", {"movements": [move("return", quantity=1)]}),
    post(
        "write-offs for each reason",
        "k-4",
        {
            "movements": [
                move("write_off", quantity=1, reason=r)
                for r in ("damaged", "theft", "expired", "lost", "other")
            ]
        },
    ),
    post(
        "an adjustment up and one down",
        "k-5",
        {
            "movements": [
                move("adjustment", quantity=3, reason="found"),
                move("adjustment", quantity=-1),
            ]
        },
    ),
    post("a count", "k-6", {"movements": [move("count", counted=20)]}),
    post("a count of what is there already", "k-7", {"movements": [move("count", counted=20)]}),
    post(
        "a movement that happened yesterday",
        "k-8",
        {"movements": [move("receipt", quantity=1, occurred_at="{D-1T08:30}")]},
    ),
    post(
        "a batch at two stores with an actor",
        "k-9",
        {"movements": [receipt("ST-A", "S2", 4), receipt("ST-B", "S2", 5)], "actor": "erp-nightly"},
    ),
    post("a receipt at the warehouse", "k-10", {"movements": [receipt("WH-1", "S1", 50)]}),
    post(
        "a transfer from the warehouse to ST-A",
        "k-11",
        {
            "movements": [
                move(
                    "transfer",
                    "WH-1",
                    quantity=10,
                    to_location_id="ST-A",
                    transfer_id="T-1",
                    reference="ERP-77",
                )
            ]
        },
    ),
    post(
        "a partial transfer receipt",
        "k-12",
        {"movements": [move("transfer_receipt", quantity=4, transfer_id="T-1")]},
    ),
    post(
        "the rest of the transfer, in two lines",
        "k-13",
        {
            "movements": [
                move("transfer_receipt", quantity=3, transfer_id="T-1"),
                move("transfer_receipt", quantity=3, transfer_id="T-1"),
            ]
        },
    ),
    post(
        "one unit more than the transfer sent",
        "k-14",
        {"movements": [move("transfer_receipt", quantity=1, transfer_id="T-1")]},
    ),
    post(
        "the same transfer id and SKU again",
        "k-15",
        {
            "movements": [
                move("transfer", "WH-1", quantity=1, to_location_id="ST-A", transfer_id="T-1")
            ]
        },
    ),
    post(
        "a receipt of a transfer that does not exist",
        "k-16",
        {"movements": [move("transfer_receipt", quantity=1, transfer_id="T-404")]},
    ),
    post(
        "a receipt of the transfer at its source",
        "k-17",
        {"movements": [move("transfer_receipt", "WH-1", quantity=1, transfer_id="T-1")]},
    ),
    post(
        "a transfer of a pickup",
        "k-18",
        {
            "movements": [
                move(
                    "transfer",
                    "WH-1",
                    quantity=1,
                    to_location_id="ST-A",
                    transfer_id="pickup:p-1:WH-1",
                )
            ]
        },
    ),
    post(
        "a transfer to an unknown location",
        "k-19",
        {
            "movements": [
                move("transfer", "WH-1", quantity=1, to_location_id="ST-NOWHERE", transfer_id="T-2")
            ]
        },
    ),
    Http(
        "a webshop reserves 30 S1 at ST-A",
        "POST",
        "/v1/reservations",
        key="webshop",
        json={
            "reservation_id": "r-1",
            "location_id": "ST-A",
            "lines": [{"sku": "S1", "quantity": 30}],
        },
    ),
    post("a sale below what is reserved", "k-20", {"movements": [move("sale", quantity=5)]}),
    post("a count below what is reserved", "k-21", {"movements": [move("count", counted=2)]}),
    # ---------------------------------------------------------------- refused
    post(
        "a location that does not exist, second in the batch",
        "k-30",
        {"movements": [receipt("ST-A", "S1", 1), receipt("ST-NOWHERE", "S1", 1)]},
    ),
    post("an inactive location", "k-31", {"movements": [receipt("ST-OFF", "S1", 1)]}),
    post("no movements", "k-32", {"movements": []}),
    post("an unknown kind", "k-33", {"movements": [move("teleport", quantity=1)]}),
    post("a receipt of 0", "k-34", {"movements": [move("receipt", quantity=0)]}),
    post("an adjustment of 0", "k-35", {"movements": [move("adjustment", quantity=0)]}),
    post("a negative count", "k-36", {"movements": [move("count", counted=-1)]}),
    post(
        "an unknown write-off reason",
        "k-37",
        {"movements": [move("write_off", quantity=1, reason="eaten")]},
    ),
    post(
        "a movement time without a timezone",
        "k-38",
        {"movements": [move("receipt", quantity=1, occurred_at="{D-1}T08:00:00")]},
    ),
    post(
        "an unknown field in a movement",
        "k-39",
        {"movements": [move("receipt", quantity=1, colour="red")]},
    ),
    post(
        "an unknown top-level field",
        "k-40",
        {"movements": [move("receipt", quantity=1)], "batch": 7},
    ),
    post(
        "a reference with a NUL character",
        "k-41",
        {"movements": [move("receipt", quantity=1, reference="PO\u00001")]},
    ),
    post("a quantity as a string", "k-42", {"movements": [move("receipt", quantity="2")]}),
    post("1,001 movements", "k-43", {"movements": [move("receipt", quantity=1)] * 1001}),
    post("a body over 1 MiB", "k-44", BIG),
    post("malformed JSON", "k-45", b'{"movements": ['),
    post("invalid UTF-8", "k-46", b'{"movements": [{"kind": "receipt", "sku": "\xff\xfe"}]}'),
    post("nesting 100,000 deep", "k-47", b"[" * 100_000),
    post(
        "JSON as text/plain",
        "k-48",
        {"movements": [move("receipt", quantity=1)]},
        content_type="text/plain",
    ),
    post("no idempotency key", None, {"movements": [move("receipt", quantity=1)]}),
    post("an empty idempotency key", "", {"movements": [move("receipt", quantity=1)]}),
    post(
        "an idempotency key of 201 characters",
        "k" * 201,
        {"movements": [move("receipt", quantity=1)]},
    ),
    post("movements by a webshop", "k-50", RECEIPT, caller="webshop"),
    post("movements by staff", "k-51", RECEIPT, caller="staff-a"),
    post("movements without a key", "k-52", RECEIPT, caller=None),
    # ---------------------------------------------------------------- safety stock
    safety("a safety stock of 3", {"safety_stock": 3}),
    safety("the same safety stock again", {"safety_stock": 3}),
    safety("the location default again", {"safety_stock": None}),
    safety("a negative safety stock", {"safety_stock": -1}),
    safety("a safety stock as a string", {"safety_stock": "3"}),
    safety("no safety stock field", {}),
    safety("an unknown field", {"safety_stock": 1, "why": "x"}),
    safety(
        "a balance never moved",
        {"safety_stock": 1},
        path="/v1/stock/S9/locations/ST-A/safety-stock",
    ),
    safety(
        "a location that does not exist",
        {"safety_stock": 1},
        path="/v1/stock/S1/locations/ST-NOWHERE/safety-stock",
    ),
    safety("safety stock by staff of the store", {"safety_stock": 1}, key="staff-a"),
    safety("safety stock by a webshop", {"safety_stock": 1}, key="webshop"),
    # ---------------------------------------------------------------- the ledger
    Http(
        "the ledger, 3 at a time",
        "GET",
        f"{LEDGER}?limit=3",
        key="integration",
        save={"next": "next_cursor"},
    ),
    Http("the next page", "GET", LEDGER + "?limit=3&cursor={saved:next}", key="integration"),
    Http("the whole ledger", "GET", LEDGER, key="integration"),
    Http("the ledger by staff of the store", "GET", f"{LEDGER}?limit=1", key="staff-a"),
    Http("the ledger by staff of another store", "GET", f"{LEDGER}?limit=1", key="staff-b"),
    Http("the ledger by a reader", "GET", f"{LEDGER}?limit=1", key="reader"),
    Http(
        "a cursor this service never issued",
        "GET",
        f"{LEDGER}?cursor=bm90LWEtY3Vyc29y",
        key="integration",
    ),
    Http("a cursor of 101 characters", "GET", f"{LEDGER}?cursor={'a' * 101}", key="integration"),
    Http("a limit of 0", "GET", f"{LEDGER}?limit=0", key="integration"),
    Http("a limit of 501", "GET", f"{LEDGER}?limit=501", key="integration"),
    Http(
        "the ledger of a balance never moved",
        "GET",
        "/v1/stock/S9/locations/ST-A/movements",
        key="integration",
    ),
    Http(
        "the ledger at a location that does not exist",
        "GET",
        "/v1/stock/S1/locations/ST-NOWHERE/movements",
        key="integration",
    ),
    Http(
        "the ledger of an invalid SKU",
        "GET",
        "/v1/stock/S%201/locations/ST-A/movements",
        key="integration",
    ),
    Http(
        "the transfer's destination ledger",
        "GET",
        "/v1/stock/S1/locations/WH-1/movements",
        key="admin",
    ),
    movements("an admin posts a receipt", "k-60", receipt("ST-B", "S3", 1), key="admin"),
    # Idempotency keys are each caller's own: the admin's k-1 is not the integration's.
    post("the same body and key from another caller is applied", "k-1", RECEIPT, caller="admin"),
]
