"""Click-and-collect: slots, bookings, the counter."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.contracts.common import AwareDatetime, Identifier, LocationId, Quantity, Reference, Sku
from service.contracts.reservations import Channel, ReservationLineIn

PickupStatus = Literal["booked", "ready", "collected", "cancelled", "no_show"]


# Neither @ nor white space, for Python's regular expressions (the decoder's) and for
# JSON Schema's (ECMA-262) alike: Python's \s also holds \x1c-\x1f and \x85, ECMA's
# also \ufeff. With \s alone, the document promised emails the decoder refused.
_EMAIL_PART = r"[^@\s\x1c-\x1f\x85\ufeff]+"
EMAIL_PATTERN = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"


class Customer(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=254)] | None = None
    phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()-]{5,20}$")] | None = None


class BookPickup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Reserve the cart for pickup at ``location_id`` in the slot starting at ``slot_start``."""

    pickup_id: Identifier
    location_id: LocationId
    slot_start: AwareDatetime
    lines: Annotated[list[ReservationLineIn], msgspec.Meta(min_length=1, max_length=50)]
    customer: Customer
    channel: Channel = "webshop"
    external_ref: Reference | None = None


class PickupLine(msgspec.Struct, kw_only=True):
    sku: str
    quantity: int
    source_location_id: str
    collected: int


class Pickup(msgspec.Struct, kw_only=True):
    pickup_id: str
    location_id: str
    status: PickupStatus
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    hold_until: AwareDatetime
    customer: Customer
    channel: str
    external_ref: str | None
    lines: list[PickupLine]
    created_at: AwareDatetime
    updated_at: AwareDatetime


class PickupBooking(msgspec.Struct, kw_only=True):
    """The booking and the code the customer shows at the counter. The code is given
    only to the caller that booked: the API key that created the booking, or the
    message (by its message_id) that did, again on a repeat; anyone else gets the
    booking without it. It is stored as a hash: only the service can give it again."""

    pickup: Pickup
    pickup_code: str | None = None


class PickupList(msgspec.Struct, kw_only=True):
    location_id: str
    pickups: list[Pickup]


class CollectPickup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``lines`` lists what was handed over when it is less than booked."""

    code: Annotated[str, msgspec.Meta(min_length=4, max_length=20)]
    lines: Annotated[list[ReservationLineIn], msgspec.Meta(max_length=50)] | None = None


class ReschedulePickup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slot_start: AwareDatetime


class CancelPickup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class Supplier(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    warehouse_id: LocationId
    lead_time_minutes: Annotated[int, msgspec.Meta(ge=0, le=60 * 24 * 30)]


class PickupSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A store's click-and-collect settings."""

    slot_minutes: Annotated[int, msgspec.Meta(ge=5, le=480)] = 30
    capacity_per_slot: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 4
    prep_minutes: Annotated[int, msgspec.Meta(ge=0, le=60 * 24 * 7)] = 120
    horizon_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7
    hold_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 72
    suppliers: Annotated[list[Supplier], msgspec.Meta(max_length=20)] = []


class LineSource(msgspec.Struct, kw_only=True):
    """Where a cart line would come from, and when it could be ready at the store."""

    sku: str
    quantity: int
    source_location_id: str | None
    ready_at: AwareDatetime | None


class SlotView(msgspec.Struct, kw_only=True):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int
    remaining: int
    cart_ready: bool | None = None
    bookable: bool = True  # a place is left, and it starts after the preparation time (and the cart can be ready)


class PickupSlots(msgspec.Struct, kw_only=True):
    location_id: str
    timezone: str
    slots: list[SlotView]
    earliest_ready: SlotView | None = None
    sourcing: list[LineSource] | None = None


class StoreReturn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Goods returned at the counter: back into sellable stock, or written off."""

    sku: Sku
    quantity: Quantity
    condition: Literal["sellable", "damaged"] = "sellable"
    reference: Reference | None = None
