"""Commands that arrive as messages: each becomes the same step as its HTTP twin,
with the message id as idempotency key, so a redelivery changes nothing and is
answered (on ``reply_to``) exactly as the first delivery was.

Raises InvalidInput for a message whose content makes no sense (the consumer
dead-letters it); business refusals are outcomes, not exceptions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from service.contracts import messages as m
from service.contracts.pickups import BookPickup, PickupBooking
from service.contracts.reservations import CreateReservation
from service.contracts.stock import PostMovements
from service.domain.errors import BatchTooLarge, DomainError, InsufficientStock
from service.domain.reservations import Outcome, validate_lines
from service.ids import new_id
from service.settings import Settings
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.storage.pool import Connection
from service.usecases import pickup_changes, pickups
from service.usecases.message_answers import MESSAGE_SCOPE, Answer, Delivery, Once, handle_once
from service.usecases.reservation_engine import Cancel, Fulfil, Origin, ReservationEngine, Step
from service.usecases.reservations import create_step, ensure_not_owned_by_pickup
from service.usecases.stock import apply_movements

__all__ = [
    "MESSAGE_SCOPE",
    "Delivery",
    "ReservationMessage",
    "handle_command",
    "reservation_request",
]

ReservationMessage = (
    m.ReservationCreateMessage | m.ReservationCancelMessage | m.ReservationFulfilMessage
)


async def handle_command(
    command: m.Command,
    delivery: Delivery,
    *,
    engine: ReservationEngine,
    db: Database,
    settings: Settings,
) -> Outcome:
    """Apply one decoded command; returns once its effect (or refusal) is committed."""
    match command:
        case m.StockMovementsMessage():
            return await _stock_movements(db, command, delivery, settings.max_movements_per_batch)
        case m.PickupBookMessage():
            return await _book_pickup(db, command, delivery, settings.pickup_code_secret)
        case m.PickupCancelMessage():
            return await _cancel_pickup(db, command, delivery)
    return await engine.submit(*reservation_request(command, delivery, settings))


def reservation_request(
    command: ReservationMessage, delivery: Delivery, settings: Settings
) -> tuple[Step, Origin]:
    """What the reservation engine decides for ``command``: its step, and its origin
    (the message id as idempotency key, and where the answer goes).

    Raises InvalidInput for content that makes no sense."""
    origin = Origin(
        actor=f"amqp:{command.channel}"
        if isinstance(command, m.ReservationCreateMessage)
        else "amqp",
        idempotency_key=command.message_id,
        fingerprint=fingerprint(command),
        reply_to=delivery.reply_to,
        correlation_id=delivery.correlation_id,
    )
    return step_for(command, settings), origin


def step_for(command: ReservationMessage, settings: Settings) -> Step:
    match command:
        case m.ReservationCreateMessage():
            return create_step(
                CreateReservation(
                    reservation_id=command.reservation_id, location_id=command.location_id,
                    lines=command.lines, channel=command.channel, external_ref=command.external_ref,
                    ttl_seconds=command.ttl_seconds,
                ),
                settings,
            )  # fmt: skip
        case m.ReservationCancelMessage():
            ensure_not_owned_by_pickup(command.reservation_id)
            return Cancel(command.reservation_id, command.reason)
        case m.ReservationFulfilMessage():
            ensure_not_owned_by_pickup(command.reservation_id)
            if command.lines is not None:
                validate_lines(command.lines)
            return Fulfil(command.reservation_id, command.lines)


def _now_and_id() -> tuple[datetime, str]:
    return datetime.now(UTC), new_id()


async def _stock_movements(
    db: Database, message: m.StockMovementsMessage, delivery: Delivery, max_batch: int
) -> Outcome:
    command = PostMovements(movements=message.movements, actor=message.actor)

    async def apply(conn: Connection) -> Answer:
        if len(command.movements) > max_batch:
            raise BatchTooLarge(f"a batch holds at most {max_batch} movements", field="movements")
        result = await apply_movements(
            conn, command, actor=message.actor or "amqp", idempotency_key=message.message_id
        )
        at, event_id = _now_and_id()
        answer = m.StockMovementsApplied(
            event_id=event_id, occurred_at=at, correlation_id=delivery.correlation_id,
            message_id=message.message_id, result=result,
        )  # fmt: skip
        return 200, m.encoder.encode(answer)

    def refusal(error: DomainError) -> bytes:
        at, event_id = _now_and_id()
        return m.encoder.encode(
            m.StockMovementsRejected(
                event_id=event_id, occurred_at=at, correlation_id=delivery.correlation_id,
                message_id=message.message_id, reason=error.code, detail=error.detail, field=error.field,
            )
        )  # fmt: skip

    return await handle_once(
        db, Once(message.message_id, fingerprint(message), delivery, apply, refusal)
    )


def _pickup_refusal(command: str, pickup_id: str, delivery: Delivery, error: DomainError) -> bytes:
    at, event_id = _now_and_id()
    return m.encoder.encode(
        m.PickupRejected(
            event_id=event_id, occurred_at=at, correlation_id=delivery.correlation_id,
            command=command, pickup_id=pickup_id, reason=error.code, detail=error.detail,
            short_lines=error.short_lines if isinstance(error, InsufficientStock) else [],
        )
    )  # fmt: skip


async def _book_pickup(
    db: Database, message: m.PickupBookMessage, delivery: Delivery, secret: str
) -> Outcome:
    command = BookPickup(
        pickup_id=message.pickup_id, location_id=message.location_id, slot_start=message.slot_start,
        lines=message.lines, customer=message.customer, channel=message.channel,
        external_ref=message.external_ref,
    )  # fmt: skip
    validate_lines(command.lines)

    async def apply(conn: Connection) -> Answer:
        booking, created = await pickups.book(
            conn, command, actor=f"amqp:{command.channel}", code_secret=secret
        )
        return (201 if created else 200), _booked_reply(message, delivery, booking)

    async def replay(conn: Connection, _stored: object) -> bytes:
        booking, _ = await pickups.book(conn, command, actor="amqp", code_secret=secret)
        return _booked_reply(message, delivery, booking)

    once = Once(
        message.message_id, fingerprint(message), delivery, apply,
        refusal=lambda error: _pickup_refusal("pickup.book", message.pickup_id, delivery, error),
        replay=replay, stored_form=lambda _payload: {"pickup_id": message.pickup_id},
    )  # fmt: skip
    return await handle_once(db, once)


def _booked_reply(
    message: m.PickupBookMessage, delivery: Delivery, booking: PickupBooking
) -> bytes:
    """The same bytes for the same message every time (the code is never stored)."""
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"pickup.book/{message.message_id}").hex
    return m.encoder.encode(
        m.PickupBooked(
            event_id=event_id, occurred_at=booking.pickup.created_at, correlation_id=delivery.correlation_id,
            pickup=booking.pickup, pickup_code=booking.pickup_code,
        )
    )  # fmt: skip


async def _cancel_pickup(
    db: Database, message: m.PickupCancelMessage, delivery: Delivery
) -> Outcome:
    async def apply(conn: Connection) -> Answer:
        state = await pickup_changes.cancel(conn, message.pickup_id, message.reason, actor="amqp")
        at, event_id = _now_and_id()
        answer = m.PickupCancelled(
            event_id=event_id, occurred_at=at, correlation_id=delivery.correlation_id,
            pickup=state.view(), reason=message.reason,
        )  # fmt: skip
        return 200, m.encoder.encode(answer)

    once = Once(
        message.message_id, fingerprint(message), delivery, apply,
        refusal=lambda error: _pickup_refusal("pickup.cancel", message.pickup_id, delivery, error),
    )  # fmt: skip
    return await handle_once(db, once)
