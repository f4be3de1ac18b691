"""Who may call what: every route of the API called by every kind of caller. A body,
where the route takes one, is one the route refuses (an unknown field), so a caller
let through gets the route's 4xx and changes nothing; a refused caller gets 401 or 403.
The edge middleware decides those today (``service/api/auth.py``)."""

from __future__ import annotations

from typing import Any

from tests.corpus.scenes.world import location, pickup_settings, stock
from tests.corpus.steps import NOTHING, Http

CALLERS = ("no key", "unknown", "reader", "webshop", "integration", "staff-a", "staff-b", "admin")
REFUSED = {"refuse": True}  # an unknown field: every top-level body refuses it
KEYED = (("idempotency-key", "access-1"),)

# (method, path, body, headers): one request per route.
ROUTES: list[tuple[str, str, Any, tuple[tuple[str, str], ...]]] = [
    ("GET", "/v1/locations", NOTHING, ()),
    ("GET", "/v1/locations/ST-A", NOTHING, ()),
    ("PUT", "/v1/locations/ST-A", REFUSED, ()),
    ("GET", "/v1/stock/S1/locations/ST-A/movements", NOTHING, ()),
    ("POST", "/v1/stock/movements", REFUSED, KEYED),
    ("PUT", "/v1/stock/S1/locations/ST-A/safety-stock", REFUSED, ()),
    ("GET", "/v1/availability/S1", NOTHING, ()),
    ("GET", "/v1/availability/S1/locations/ST-A", NOTHING, ()),
    ("GET", "/v1/availability/S1/nearby?lat=59.91&lon=10.75", NOTHING, ()),
    ("POST", "/v1/availability/query", REFUSED, ()),
    ("POST", "/v1/reservations", REFUSED, ()),
    ("GET", "/v1/reservations/r-1", NOTHING, ()),
    ("POST", "/v1/reservations/r-1/cancel", REFUSED, ()),
    ("POST", "/v1/reservations/r-1/fulfil", REFUSED, ()),
    ("GET", "/v1/locations/ST-A/pickup-slots?from={D+2}&to={D+2}", NOTHING, ()),
    ("GET", "/v1/locations/ST-A/pickup-settings", NOTHING, ()),
    ("PUT", "/v1/locations/ST-A/pickup-settings", REFUSED, ()),
    ("GET", "/v1/locations/ST-A/pickups?date={D+2}", NOTHING, ()),
    ("POST", "/v1/locations/ST-A/returns", REFUSED, KEYED),
    ("POST", "/v1/pickups", REFUSED, ()),
    ("GET", "/v1/pickups/P-1", NOTHING, ()),
    ("POST", "/v1/pickups/P-1/reschedule", REFUSED, ()),
    ("POST", "/v1/pickups/P-1/cancel", REFUSED, ()),
    (
        "POST",
        "/v1/pickups/P-404/ready",
        NOTHING,
        (),
    ),  # a pickup that does not exist: nothing changes
    ("POST", "/v1/pickups/P-1/collect", REFUSED, ()),
]


def call(
    method: str, path: str, body: Any, headers: tuple[tuple[str, str], ...], caller: str
) -> Http:
    key = None if caller == "no key" else caller
    return Http(f"{method} {path} as {caller}", method, path, key=key, json=body, headers=headers)


STEPS = [
    location("ST-A"),
    location("ST-B"),
    pickup_settings("ST-A", slot_minutes=240, prep_minutes=0),
    stock("stock-1", ("ST-A", "S1", 5)),
    Http(
        "a webshop reserves r-1",
        "POST",
        "/v1/reservations",
        key="webshop",
        json={
            "reservation_id": "r-1",
            "location_id": "ST-A",
            "lines": [{"sku": "S1", "quantity": 1}],
        },
    ),
    Http(
        "a webshop books P-1",
        "POST",
        "/v1/pickups",
        key="webshop",
        json={
            "pickup_id": "P-1",
            "location_id": "ST-A",
            "slot_start": "{D+2T12:00}",
            "lines": [{"sku": "S1", "quantity": 1}],
            "customer": {"name": "Kari Nordmann"},
        },
    ),
    *(call(*route, caller) for route in ROUTES for caller in CALLERS),
]
