"""Commands that arrive as messages: the one dispatch, for a first delivery and for a
retry alike. Each command takes the path of its HTTP twin, with the message id as
its idempotency key (service/usecases/message_idempotency.py), so a redelivery
changes nothing and is answered (on ``reply_to``) exactly as the first delivery was.

Raises InvalidInput for a message whose content makes no sense (the consumer
dead-letters it); business refusals are outcomes, not exceptions.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime

from service.contracts import messages as m
from service.contracts.pickups import PickupBooking
from service.domain.errors import (
    BatchTooLarge,
    DomainError,
    InsufficientStock,
    PickupCodeUnavailable,
)
from service.domain.reservations import Outcome, OutcomeKind, validate_lines
from service.ids import new_id
from service.settings import Settings
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.storage.pool import Connection
from service.usecases import pickup_booking, pickup_changes
from service.usecases.message_idempotency import (
    Applied,
    Delivery,
    MessageHandler,
    apply_once,
)
from service.usecases.pickup_code_secrets import code_secrets_of
from service.usecases.pickup_views import pickup_view
from service.usecases.reservation_engine import ReservationEngine
from service.usecases.reservation_steps import Origin, Step
from service.usecases.reservation_views import short_lines
from service.usecases.reservations import cancel_step, create_step, fulfil_step
from service.usecases.stock import apply_movements

ReservationMessage = (
    m.ReservationCreateMessage | m.ReservationCancelMessage | m.ReservationFulfilMessage
)


class MessageCommands:
    """Applies decoded commands; the consumer's only way into the use cases."""

    def __init__(self, engine: ReservationEngine, db: Database, settings: Settings) -> None:
        self.engine = engine
        self.db = db
        self.settings = settings

    def start(self, command: m.Command, delivery: Delivery) -> Awaitable[Outcome]:
        """Start applying ``command``; the awaitable ends once its effect (or refusal) is
        committed. A reservation step is queued for the engine's next flush and its
        future returned, without a task of its own. Raises InvalidInput at once for a
        reservation step whose content makes no sense."""
        match command:
            case m.StockMovementsMessage():
                return self._stock_movements(command, delivery)
            case m.PickupBookMessage():
                return self._book_pickup(command, delivery)
            case m.PickupCancelMessage():
                return self._cancel_pickup(command, delivery)
        return self.engine.enqueue(self._reservation_step(command), origin_of(command, delivery))

    def _reservation_step(self, command: ReservationMessage) -> Step:
        match command:
            case m.ReservationCreateMessage():
                return create_step(command, self.settings)
            case m.ReservationCancelMessage():
                return cancel_step(command.reservation_id, command.reason)
            case m.ReservationFulfilMessage():
                return fulfil_step(command.reservation_id, command.lines)

    async def _stock_movements(
        self, message: m.StockMovementsMessage, delivery: Delivery
    ) -> Outcome:
        max_batch = self.settings.max_movements_per_batch

        async def apply(conn: Connection) -> Applied:
            if len(message.movements) > max_batch:
                raise BatchTooLarge(
                    f"a batch holds at most {max_batch} movements", field="movements"
                )
            result = await apply_movements(
                conn, message, actor=message.actor or "amqp", idempotency_key=message.message_id
            )
            answer = m.StockMovementsApplied(
                event_id=new_id(),
                occurred_at=datetime.now(UTC),
                correlation_id=delivery.correlation_id,
                message_id=message.message_id,
                result=result,
            )
            return OutcomeKind.DONE, m.encoder.encode(answer)

        def refusal(error: DomainError) -> bytes:
            return m.encoder.encode(
                m.StockMovementsRejected(
                    event_id=new_id(),
                    occurred_at=datetime.now(UTC),
                    correlation_id=delivery.correlation_id,
                    message_id=message.message_id,
                    reason=error.code,
                    detail=error.detail,
                    field=error.field,
                )
            )

        handler = MessageHandler(message.message_id, fingerprint(message), delivery, apply, refusal)
        return await apply_once(self.db, handler)

    async def _book_pickup(self, message: m.PickupBookMessage, delivery: Delivery) -> Outcome:
        validate_lines(message.lines)
        secrets = code_secrets_of(self.settings)
        caller = f"message:{message.message_id}"  # its redelivery is shown the code again

        async def apply(conn: Connection) -> Applied:
            booking, created = await pickup_booking.book(
                conn,
                message,
                actor=f"amqp:{message.channel}",
                caller=caller,
                code_secrets=secrets,
            )
            kind = OutcomeKind.CREATED if created else OutcomeKind.DONE
            return kind, _booked_reply(message, delivery, booking)

        async def replay(conn: Connection, _stored: object) -> bytes:
            try:
                booking, _ = await pickup_booking.book(
                    conn, message, actor="amqp", caller=caller, code_secrets=secrets
                )
            except PickupCodeUnavailable as error:  # its secret is gone, or not here yet
                return _pickup_refusal("pickup.book", message.pickup_id, delivery, error)
            return _booked_reply(message, delivery, booking)

        handler = MessageHandler(
            message.message_id,
            fingerprint(message),
            delivery,
            apply,
            refusal=lambda error: _pickup_refusal(
                "pickup.book", message.pickup_id, delivery, error
            ),
            replay=replay,
            stored_form=lambda _payload: {"pickup_id": message.pickup_id},
        )
        return await apply_once(self.db, handler)

    async def _cancel_pickup(self, message: m.PickupCancelMessage, delivery: Delivery) -> Outcome:
        async def apply(conn: Connection) -> Applied:
            state = await pickup_changes.cancel(
                conn, message.pickup_id, message.reason, actor="amqp"
            )
            answer = m.PickupCancelled(
                event_id=new_id(),
                occurred_at=datetime.now(UTC),
                correlation_id=delivery.correlation_id,
                pickup=pickup_view(state),
                reason=message.reason,
            )
            return OutcomeKind.DONE, m.encoder.encode(answer)

        handler = MessageHandler(
            message.message_id,
            fingerprint(message),
            delivery,
            apply,
            refusal=lambda error: _pickup_refusal(
                "pickup.cancel", message.pickup_id, delivery, error
            ),
        )
        return await apply_once(self.db, handler)


def origin_of(command: ReservationMessage, delivery: Delivery) -> Origin:
    """A reservation message's origin: its id as idempotency key, where its answer goes."""
    channel = command.channel if isinstance(command, m.ReservationCreateMessage) else None
    return Origin(
        actor=f"amqp:{channel}" if channel else "amqp",
        message_id=command.message_id,
        fingerprint=fingerprint(command),
        reply_to=delivery.reply_to,
        correlation_id=delivery.correlation_id,
    )


def _pickup_refusal(command: str, pickup_id: str, delivery: Delivery, error: DomainError) -> bytes:
    shortfalls = error.shortfalls if isinstance(error, InsufficientStock) else ()
    return m.encoder.encode(
        m.PickupRejected(
            event_id=new_id(),
            occurred_at=datetime.now(UTC),
            correlation_id=delivery.correlation_id,
            command=command,
            pickup_id=pickup_id,
            reason=error.code,
            detail=error.detail,
            short_lines=short_lines(shortfalls),
        )
    )


def _booked_reply(
    message: m.PickupBookMessage, delivery: Delivery, booking: PickupBooking
) -> bytes:
    """The same bytes for the same message every time (the code is never stored)."""
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"pickup.book/{message.message_id}").hex
    return m.encoder.encode(
        m.PickupBooked(
            event_id=event_id,
            occurred_at=booking.pickup.created_at,
            correlation_id=delivery.correlation_id,
            pickup=booking.pickup,
            pickup_code=booking.pickup_code,
        )
    )
