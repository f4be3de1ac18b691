"""Messages on RabbitMQ: commands in (``inventory.commands``), events out
(``inventory.events``). Tagged unions on ``type``, which is also the routing key.

Consumers ignore unknown fields at every level, so producers may add fields;
every new field gets a default. ``proto/`` is generated from these Structs (``make proto``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.contracts.common import AwareDatetime, Identifier
from service.contracts.pickups import BookPickup, Pickup
from service.contracts.reservations import (
    CreateReservation,
    Reservation,
    ReservationLineIn,
    ShortLine,
)
from service.contracts.stock import Movement, MovementsPosted

COMMANDS_EXCHANGE = "inventory.commands"
EVENTS_EXCHANGE = "inventory.events"

MessageId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="Unique per message; a redelivery or resend carries the same id.",
    ),
]


# ---------------------------------------------------------------- commands in


class ReservationCreateMessage(
    CreateReservation, tag="reservation.create", tag_field="type", forbid_unknown_fields=False
):
    """Reserve every line at one location, or none (answered by reservation.confirmed
    or reservation.rejected)."""

    message_id: MessageId


class ReservationCancelMessage(
    msgspec.Struct, kw_only=True, tag="reservation.cancel", tag_field="type"
):
    message_id: MessageId
    reservation_id: Identifier
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ReservationFulfilMessage(
    msgspec.Struct, kw_only=True, tag="reservation.fulfil", tag_field="type"
):
    message_id: MessageId
    reservation_id: Identifier
    lines: Annotated[list[ReservationLineIn], msgspec.Meta(max_length=100)] | None = None


class StockMovementsMessage(msgspec.Struct, kw_only=True, tag="stock.movements", tag_field="type"):
    """The same batch as ``POST /v1/stock/movements``; ``message_id`` is its idempotency key."""

    message_id: MessageId
    movements: Annotated[list[Movement], msgspec.Meta(min_length=1)]
    actor: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class PickupBookMessage(
    BookPickup, tag="pickup.book", tag_field="type", forbid_unknown_fields=False
):
    """Book a click-and-collect pickup (answered by pickup.booked, with the code, or
    pickup.rejected)."""

    message_id: MessageId


class PickupCancelMessage(msgspec.Struct, kw_only=True, tag="pickup.cancel", tag_field="type"):
    message_id: MessageId
    pickup_id: Identifier
    reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


Command = (
    ReservationCreateMessage
    | ReservationCancelMessage
    | ReservationFulfilMessage
    | StockMovementsMessage
    | PickupBookMessage
    | PickupCancelMessage
)
COMMAND_TYPES: tuple[type[msgspec.Struct], ...] = (
    ReservationCreateMessage,
    ReservationCancelMessage,
    ReservationFulfilMessage,
    StockMovementsMessage,
    PickupBookMessage,
    PickupCancelMessage,
)


# ---------------------------------------------------------------- events out


class _Event(msgspec.Struct, kw_only=True, tag_field="type"):
    event_id: str
    occurred_at: AwareDatetime
    correlation_id: str | None = None


class ReservationConfirmed(_Event, tag="reservation.confirmed", kw_only=True):
    reservation: Reservation


class ReservationRejected(_Event, tag="reservation.rejected", kw_only=True):
    """A reservation command was refused; ``reason`` is a stable code such as
    ``insufficient_stock``, ``unknown_location``, ``reservation_conflict``,
    ``reservation_not_found`` or ``invalid_transition``."""

    command: str
    reservation_id: str
    location_id: str | None = None
    reason: str
    detail: str
    short_lines: list[ShortLine] = []


class ReservationCancelled(_Event, tag="reservation.cancelled", kw_only=True):
    reservation: Reservation


class ReservationExpired(_Event, tag="reservation.expired", kw_only=True):
    reservation: Reservation


class ReservationFulfilled(_Event, tag="reservation.fulfilled", kw_only=True):
    reservation: Reservation


class AvailabilityChanged(_Event, tag="availability.changed", kw_only=True):
    """The latest figures of one balance; at most one per balance per window."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    available: int
    status: str


class StockShortage(_Event, tag="stock.shortage", kw_only=True):
    """on_hand fell below reserved: reservations at this balance may not be honoured."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    short_by: int


class StockMovementsApplied(_Event, tag="stock.movements.applied", kw_only=True):
    """Reply to a stock.movements command."""

    message_id: str
    result: MovementsPosted


class StockMovementsRejected(_Event, tag="stock.movements.rejected", kw_only=True):
    """Reply to a stock.movements command that was refused (nothing applied)."""

    message_id: str
    reason: str
    detail: str
    field: str | None = None


class PickupBooked(_Event, tag="pickup.booked", kw_only=True):
    """A pickup was booked. The reply to a pickup.book message also carries the code
    (``pickup_code``); the event on inventory.events never does."""

    pickup: Pickup
    pickup_code: str | None = None


class PickupReady(_Event, tag="pickup.ready", kw_only=True):
    """The goods are at the counter: tell the customer."""

    pickup: Pickup


class PickupCollected(_Event, tag="pickup.collected", kw_only=True):
    pickup: Pickup


class PickupCancelled(_Event, tag="pickup.cancelled", kw_only=True):
    pickup: Pickup
    reason: str | None = None


class PickupNoShow(_Event, tag="pickup.no_show", kw_only=True):
    """Not collected within the hold period; the stock was released."""

    pickup: Pickup


class PickupRejected(_Event, tag="pickup.rejected", kw_only=True):
    """Reply to a pickup.book or pickup.cancel message that was refused."""

    command: str
    pickup_id: str
    reason: str
    detail: str
    short_lines: list[ShortLine] = []


class CommandRejected(_Event, tag="command.rejected", kw_only=True):
    """Reply to a command that was dead-lettered: it was not applied and will not be
    retried. ``reason`` is a stable code: ``undecodable``, ``invalid_message``,
    ``unknown_type``, ``routing_key_mismatch``, ``invalid_input``, ``owned_by_pickup``,
    ``handler_error``, …; the command itself waits in the dead-letter queue."""

    message_id: str | None = None  # the command's AMQP message_id
    routing_key: str
    reason: str
    detail: str


Event = (
    ReservationConfirmed
    | ReservationRejected
    | ReservationCancelled
    | ReservationExpired
    | ReservationFulfilled
    | AvailabilityChanged
    | StockShortage
    | StockMovementsApplied
    | StockMovementsRejected
    | PickupBooked
    | PickupReady
    | PickupCollected
    | PickupCancelled
    | PickupNoShow
    | PickupRejected
    | CommandRejected
)
EVENT_TYPES: tuple[type[msgspec.Struct], ...] = (
    ReservationConfirmed,
    ReservationRejected,
    ReservationCancelled,
    ReservationExpired,
    ReservationFulfilled,
    AvailabilityChanged,
    StockShortage,
    StockMovementsApplied,
    StockMovementsRejected,
    PickupBooked,
    PickupReady,
    PickupCollected,
    PickupCancelled,
    PickupNoShow,
    PickupRejected,
    CommandRejected,
)
COMMAND_TYPE_BY_ROUTING_KEY: dict[str, type[msgspec.Struct]] = {
    str(t.__struct_config__.tag): t for t in COMMAND_TYPES
}

command_decoder: msgspec.json.Decoder[Command] = msgspec.json.Decoder(Command)
event_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)
encoder = msgspec.json.Encoder()
