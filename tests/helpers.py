"""Builders for test data, going through the same use cases as the API."""

from __future__ import annotations

from typing import Any

from service.contracts.locations import LocationIn, OpeningHours, OpeningInterval

WEEKDAY_HOURS = [OpeningInterval("09:00", "20:00")]


def location_body(kind: str = "store", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "name": "Test location",
        "address": "Somewhere 1",
        "latitude": 59.91,
        "longitude": 10.75,
        "timezone": "Europe/Oslo",
        "opening_hours": {
            day: [{"opens": "09:00", "closes": "20:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
        },
        "pickup_offered": kind == "store",
        "low_stock_threshold": 3,
        "default_safety_stock": 0,
    }
    body.update(overrides)
    return body


def location_in(kind: str = "store", **overrides: Any) -> LocationIn:
    data = location_body(kind, **overrides)
    hours = data.pop("opening_hours")
    return LocationIn(
        **data,
        opening_hours=OpeningHours(
            **{day: [OpeningInterval(**i) for i in v] for day, v in hours.items()}
        ),
    )
