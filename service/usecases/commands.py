"""Commands that arrive as messages: each becomes the same step as its HTTP twin,
with the message id as idempotency key, so a redelivery changes nothing and is
answered (on ``reply_to``) exactly as the first delivery was.

Raises InvalidInput for a message whose content makes no sense (the consumer
dead-letters it); business refusals are outcomes, not exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.contracts.messages import (
    Command,
    ReservationCancelMessage,
    ReservationCreateMessage,
    ReservationFulfilMessage,
    StockMovementsMessage,
)
from service.contracts.reservations import CreateReservation
from service.domain.reservations import Outcome, validate_lines
from service.settings import Settings
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.usecases.reservation_engine import (
    MESSAGE_SCOPE,
    Cancel,
    Fulfil,
    Origin,
    ReservationEngine,
    Step,
)
from service.usecases.reservations import create_step
from service.usecases.stock import post_movements_from_message


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the answer to a message goes."""

    reply_to: str | None = None
    correlation_id: str | None = None


async def handle_command(
    command: Command,
    delivery: Delivery,
    *,
    engine: ReservationEngine,
    db: Database,
    settings: Settings,
) -> Outcome:
    """Apply one decoded command; returns once its effect (or refusal) is committed."""
    if isinstance(command, StockMovementsMessage):
        return await post_movements_from_message(
            db, command, reply_to=delivery.reply_to, correlation_id=delivery.correlation_id,
            scope=MESSAGE_SCOPE, max_batch=settings.max_movements_per_batch,
        )  # fmt: skip
    origin = Origin(
        actor=f"amqp:{command.channel}"
        if isinstance(command, ReservationCreateMessage)
        else "amqp",
        idempotency_key=command.message_id,
        fingerprint=fingerprint(command),
        reply_to=delivery.reply_to,
        correlation_id=delivery.correlation_id,
    )
    return await engine.submit(step_for(command, settings), origin)


def step_for(
    command: ReservationCreateMessage | ReservationCancelMessage | ReservationFulfilMessage,
    settings: Settings,
) -> Step:
    match command:
        case ReservationCreateMessage():
            return create_step(
                CreateReservation(
                    reservation_id=command.reservation_id,
                    location_id=command.location_id,
                    lines=command.lines,
                    channel=command.channel,
                    external_ref=command.external_ref,
                    ttl_seconds=command.ttl_seconds,
                ),
                settings,
            )
        case ReservationCancelMessage():
            return Cancel(command.reservation_id, command.reason)
        case ReservationFulfilMessage():
            if command.lines is not None:
                validate_lines(command.lines)
            return Fulfil(command.reservation_id, command.lines)
