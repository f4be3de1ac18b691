"""Request body examples for the OpenAPI document (what the docs page pre-fills)."""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import Body, BodyKwarg

MOVEMENTS = Example(
    summary="A delivery, a till sale and a transfer",
    value={
        "movements": [
            {
                "kind": "receipt",
                "sku": "SKU-JACKET-1000",
                "location_id": "ST-OSLO-KARL-JOHAN",
                "quantity": 12,
                "reference": "PO-4711",
            },
            {
                "kind": "sale",
                "sku": "SKU-JACKET-1000",
                "location_id": "ST-OSLO-KARL-JOHAN",
                "quantity": 1,
                "reference": "POS-88-1234",
            },
            {
                "kind": "transfer",
                "sku": "SKU-BOOTS-1001",
                "location_id": "WH-OSLO",
                "to_location_id": "ST-OSLO-STORO",
                "quantity": 5,
                "transfer_id": "T-2026-0042",
            },
        ]
    },
)
LOCATION = Example(
    summary="A store offering click-and-collect",
    value={
        "kind": "store",
        "name": "Bergen Sentrum",
        "address": "Strandgaten 15, 5013 Bergen",
        "latitude": 60.3943,
        "longitude": 5.3221,
        "timezone": "Europe/Oslo",
        "opening_hours": {
            day: [{"opens": "10:00", "closes": "20:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        }
        | {"saturday": [{"opens": "10:00", "closes": "18:00"}], "closed_dates": ["2026-12-25"]},
        "pickup_offered": True,
        "low_stock_threshold": 3,
        "default_safety_stock": 1,
    },
)
RESERVATION = Example(
    summary="Two lines at one store, for 15 minutes",
    value={
        "reservation_id": "ord-2026-000123",
        "location_id": "ST-OSLO-KARL-JOHAN",
        "channel": "webshop",
        "external_ref": "ORDER-4711",
        "ttl_seconds": 900,
        "lines": [
            {"sku": "SKU-JACKET-1000", "quantity": 1},
            {"sku": "SKU-BOOTS-1001", "quantity": 2},
        ],
    },
)
CART = Example(
    summary="A cart against the stores within 30 km",
    value={
        "lines": [
            {"sku": "SKU-JACKET-1000", "quantity": 1},
            {"sku": "SKU-TENT-1003", "quantity": 1},
        ],
        "near": {"lat": 59.91, "lon": 10.75, "radius_km": 30},
    },
)
PICKUP = Example(
    summary="Book a pickup (take slot_start from GET …/pickup-slots)",
    value={
        "pickup_id": "pu-2026-000777",
        "location_id": "ST-OSLO-KARL-JOHAN",
        "slot_start": "2026-11-24T15:00:00Z",
        "lines": [{"sku": "SKU-JACKET-1000", "quantity": 1}],
        "customer": {
            "name": "Kari Nordmann",
            "email": "kari@example.no",
            "phone": "+47 912 34 567",
        },
    },
)


def body(example: Example) -> BodyKwarg:
    """The body parameter's metadata: JSON, with this example in the OpenAPI document."""
    kwarg: BodyKwarg = Body(media_type=RequestEncodingType.JSON, examples=[example])
    return kwarg


__all__ = ["CART", "LOCATION", "MOVEMENTS", "PICKUP", "RESERVATION", "body"]
