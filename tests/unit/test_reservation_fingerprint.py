"""Two creates of one reservation id are "the same" (a repeat, answered 200) only when
every field of the request agrees; the fingerprint stored with a reservation is how a
repeat is told from a conflict. A field added to CreateReservation must count too."""

from __future__ import annotations

from typing import Any

import msgspec

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.usecases.reservations import reservation_fingerprint

BASE = CreateReservation(
    reservation_id="r-1",
    location_id="ST-A",
    lines=[ReservationLineIn(sku="S1", quantity=2), ReservationLineIn(sku="S2", quantity=1)],
    channel="webshop",
    external_ref="order-1",
    ttl_seconds=600,
)
OTHER_VALUE: dict[str, Any] = {
    "reservation_id": "r-2",
    "location_id": "ST-B",
    "lines": [ReservationLineIn(sku="S1", quantity=3)],
    "channel": "app",
    "external_ref": "order-2",
    "ttl_seconds": 601,
}


def test_every_field_of_a_create_tells_a_conflict_from_a_repeat() -> None:
    assert set(OTHER_VALUE) == set(CreateReservation.__struct_fields__), "a field is untested"
    for name, value in OTHER_VALUE.items():
        changed = msgspec.structs.replace(BASE, **{name: value})
        assert reservation_fingerprint(changed) != reservation_fingerprint(BASE), name


def test_the_order_of_the_lines_does_not_make_another_request() -> None:
    reordered = msgspec.structs.replace(BASE, lines=list(reversed(BASE.lines)))
    assert reservation_fingerprint(reordered) == reservation_fingerprint(BASE)
