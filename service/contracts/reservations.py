"""Reservations: stock held at one location for a customer, until fulfilled,
cancelled or expired."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.contracts.common import (
    AwareDatetime,
    Identifier,
    LocationId,
    Quantity,
    Reference,
    ShortLine,
    Sku,
)

__all__ = ["ShortLine"]

ReservationStatus = Literal["active", "fulfilled", "cancelled", "expired"]
Channel = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Where the reservation comes from: webshop, app, store, ...",
        examples=["webshop"],
    ),
]
TtlSeconds = Annotated[
    int, msgspec.Meta(ge=1, description="Seconds until the reservation expires if untouched.")
]


class ReservationLineIn(msgspec.Struct):
    """Nested in HTTP bodies and messages; unknown fields are ignored so that a
    producer may add fields (every top-level HTTP body still refuses them)."""

    sku: Sku
    quantity: Quantity


class CreateReservation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """All lines are reserved at ``location_id``, or none."""

    reservation_id: Identifier
    location_id: LocationId
    lines: Annotated[list[ReservationLineIn], msgspec.Meta(min_length=1, max_length=100)]
    channel: Channel = "webshop"
    external_ref: Reference | None = None
    ttl_seconds: TtlSeconds | None = None


class FulfilReservation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The goods left. ``lines`` lists what was actually handed over when it is less
    than reserved (the rest returns to available stock); omitted means everything."""

    lines: Annotated[list[ReservationLineIn], msgspec.Meta(max_length=100)] | None = None


class CancelReservation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ReservationLine(msgspec.Struct, kw_only=True):
    sku: str
    quantity: int
    fulfilled: int


class Reservation(msgspec.Struct, kw_only=True):
    reservation_id: str
    location_id: str
    status: ReservationStatus
    channel: str
    external_ref: str | None
    lines: list[ReservationLine]
    expires_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
