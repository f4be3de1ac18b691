"""Locations: an admin creates and replaces them; everyone but no key reads them."""

from __future__ import annotations

from typing import Any

from tests.corpus.scenes.world import location, location_body
from tests.corpus.steps import Http

L = "/v1/locations"


def put(
    name: str, location_id: str, body: Any = None, key: str | None = "admin", **more: Any
) -> Http:
    if body is None:
        body = location_body(name=f"Corpus store {location_id}")
    if isinstance(body, bytes):
        return Http(name, "PUT", f"{L}/{location_id}", key=key, body=body, **more)
    return Http(name, "PUT", f"{L}/{location_id}", key=key, json=body, **more)


OSLO = location_body(
    name="Oslo Karl Johan",
    timezone="Europe/Oslo",
    opening_hours={
        "monday": [{"opens": "10:00", "closes": "14:00"}, {"opens": "15:00", "closes": "20:00"}],
        "saturday": [{"opens": "10:00", "closes": "18:00"}],
        "closed_dates": ["{D+3}", "{D+10}"],
    },
    default_safety_stock=1,
)

STEPS = [
    location("ST-A"),
    put("the same location again", "ST-A"),
    put("ST-A renamed, in Oslo, with a lunch break and holidays", "ST-A", OSLO),
    location("WH-1", "warehouse"),
    put("a warehouse offering pickup", "WH-2", location_body("warehouse", pickup_offered=True)),
    put("an inactive store", "ST-OFF", location_body(active=False)),
    put(
        "a store with only the required fields",
        "ST-MIN",
        {"kind": "store", "name": "Min", "latitude": 0, "longitude": 0, "timezone": "UTC"},
    ),
    # ---------------------------------------------------------------- refused
    put("a lower-case id", "st-a"),
    put("an id of 65 characters", "S" * 65),
    put("an unknown kind", "ST-X", location_body("shop")),
    put("an unknown timezone", "ST-X", location_body(timezone="Mars/Olympus")),
    put("a latitude of 91", "ST-X", location_body(latitude=91)),
    put("an empty name", "ST-X", location_body(name="")),
    put("a name with a NUL character", "ST-X", location_body(name="Oslo\u0000")),
    put(
        "a day that closes before it opens",
        "ST-X",
        location_body(opening_hours={"monday": [{"opens": "20:00", "closes": "09:00"}]}),
    ),
    put(
        "overlapping intervals",
        "ST-X",
        location_body(
            opening_hours={
                "monday": [
                    {"opens": "09:00", "closes": "12:00"},
                    {"opens": "11:00", "closes": "14:00"},
                ]
            }
        ),
    ),
    put(
        "a time of 25:00",
        "ST-X",
        location_body(opening_hours={"monday": [{"opens": "09:00", "closes": "25:00"}]}),
    ),
    put("a day that does not exist", "ST-X", location_body(opening_hours={"someday": []})),
    put(
        "a closed date that is not a date",
        "ST-X",
        location_body(opening_hours={"closed_dates": ["christmas"]}),
    ),
    put("an unknown field", "ST-X", location_body(colour="red")),
    put("a missing name", "ST-X", {k: v for k, v in location_body().items() if k != "name"}),
    put("a negative safety stock", "ST-X", location_body(default_safety_stock=-1)),
    put("malformed JSON", "ST-X", b'{"kind": "store",'),
    put("no body", "ST-X", b"", content_type=""),
    put("JSON as text/plain", "ST-TXT", content_type="text/plain"),
    put("a location by a webshop", "ST-X", key="webshop"),
    put("a location by staff of that store", "ST-A", key="staff-a"),
    put("a location without a key", "ST-X", key=None),
    # ---------------------------------------------------------------- read
    Http("ST-A by a reader", "GET", f"{L}/ST-A", key="reader"),
    Http("ST-A by staff of ST-B", "GET", f"{L}/ST-A", key="staff-b"),
    Http("ST-A without a key", "GET", f"{L}/ST-A", key=None),
    Http("an inactive location", "GET", f"{L}/ST-OFF", key="reader"),
    Http("a location that does not exist", "GET", f"{L}/ST-NOWHERE", key="reader"),
    Http("a lower-case location id", "GET", f"{L}/st-a", key="reader"),
    Http("every location", "GET", L, key="integration"),
    Http("every location, with a slash", "GET", f"{L}/", key="integration"),
    Http("every store", "GET", f"{L}?kind=store", key="webshop"),
    Http("every warehouse", "GET", f"{L}?kind=warehouse", key="webshop"),
    Http("a kind that does not exist", "GET", f"{L}?kind=shop", key="webshop"),
    Http("the kind given twice", "GET", f"{L}?kind=store&kind=warehouse", key="webshop"),
    Http("every location without a key", "GET", L, key=None),
    Http("a POST to the locations", "POST", L, json=location_body()),
]
