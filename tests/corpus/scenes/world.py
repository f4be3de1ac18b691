"""The steps that build a scene's world: locations, stock, pickup settings. They are
recorded like every other step (they are answers too)."""

from __future__ import annotations

from typing import Any

from tests.corpus.steps import Http

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Open around the clock in UTC: every slot of a future day is bookable whatever the
# time of day the corpus is played, and "today" is the same day for the store and the run.
ALL_DAY = {day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEK}


def location_body(kind: str = "store", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "name": f"Corpus {kind}",
        "address": "Storgata 1",
        "latitude": 59.91,
        "longitude": 10.75,
        "timezone": "UTC",
        "opening_hours": ALL_DAY,
        "pickup_offered": kind == "store",
        "low_stock_threshold": 3,
        "default_safety_stock": 0,
    }
    return body | fields


def location(location_id: str, kind: str = "store", step: str = "", **fields: Any) -> Http:
    return Http(
        step or f"an admin creates the {kind} {location_id}",
        "PUT",
        f"/v1/locations/{location_id}",
        json=location_body(kind, name=f"Corpus {kind} {location_id}", **fields),
    )


def movements(
    name: str, idempotency_key: str, *moves: dict[str, Any], key: str = "integration"
) -> Http:
    return Http(
        name,
        "POST",
        "/v1/stock/movements",
        key=key,
        json={"movements": list(moves)},
        headers=(("idempotency-key", idempotency_key),),
    )


def receipt(location_id: str, sku: str, quantity: int, **more: Any) -> dict[str, Any]:
    return {"kind": "receipt", "sku": sku, "location_id": location_id, "quantity": quantity} | more


def stock(idempotency_key: str, *lines: tuple[str, str, int]) -> Http:
    """Receipts of (location_id, sku, quantity)."""
    where = ", ".join(f"{q} {sku} at {loc}" for loc, sku, q in lines)
    return movements(
        f"an integration receives {where}", idempotency_key, *(receipt(*line) for line in lines)
    )


def pickup_settings(location_id: str, **settings: Any) -> Http:
    return Http(
        f"an admin sets the pickup settings of {location_id}",
        "PUT",
        f"/v1/locations/{location_id}/pickup-settings",
        json=settings,
    )
