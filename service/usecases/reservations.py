"""Reservation commands from the HTTP edge and the message consumer.

Every step goes through the ReservationEngine (see reservation_engine.py for
the batching and the locking story); this module validates, builds the step
and waits for its committed outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.contracts.reservations import CreateReservation, Reservation
from service.domain.errors import InvalidInput, NotFound
from service.domain.reservations import (
    Line,
    NewReservation,
    Outcome,
    SkuQuantity,
    ttl_of,
    validate_lines,
)
from service.settings import Settings
from service.storage.database import Database
from service.storage.idempotency import fingerprint
from service.storage.reservations import ReservationRepository
from service.usecases.reservation_engine import ReservationEngine
from service.usecases.reservation_steps import Cancel, Create, Fulfil, Origin
from service.usecases.reservation_views import reservation_view


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class OwnedByPickup(InvalidInput):
    code = "owned_by_pickup"


PICKUP_PREFIX = "pickup:"


def ensure_not_owned_by_pickup(reservation_id: str) -> None:
    """Pickups own the reservations whose ids start with ``pickup:``; they change only
    through /v1/pickups, so a pickup and its stock never disagree."""
    if reservation_id.startswith(PICKUP_PREFIX):
        raise OwnedByPickup(
            f"reservation {reservation_id!r} belongs to a pickup; use /v1/pickups",
            field="reservation_id",
        )


def create_step(command: CreateReservation, settings: Settings) -> Create:
    """The step for a create from either edge (a ``reservation.create`` message is a
    CreateReservation too). Raises InvalidInput (a SKU twice, a TTL over the maximum),
    OwnedByPickup."""
    ensure_not_owned_by_pickup(command.reservation_id)
    validate_lines(command.lines)
    ttl = ttl_of(
        command.ttl_seconds, settings.reservation_default_ttl_s, settings.reservation_max_ttl_s
    )
    return Create(new_reservation(command), ttl)


def new_reservation(command: CreateReservation) -> NewReservation:
    return NewReservation(
        reservation_id=command.reservation_id,
        location_id=command.location_id,
        lines=lines_of(command.lines),
        channel=command.channel,
        external_ref=command.external_ref,
        fingerprint=reservation_fingerprint(command),
    )


def lines_of(lines: Sequence[SkuQuantity]) -> tuple[Line, ...]:
    return tuple(Line(x.sku, x.quantity) for x in lines)


def reservation_fingerprint(command: CreateReservation) -> str:
    """Content that makes two creates "the same": the request's own fields, lines in SKU
    order, as a CreateReservation (a message's transport fields are left out). Stored
    with each reservation: the encoding must not change."""
    return fingerprint(
        CreateReservation(
            reservation_id=command.reservation_id,
            location_id=command.location_id,
            lines=sorted(command.lines, key=lambda x: x.sku),
            channel=command.channel,
            external_ref=command.external_ref,
            ttl_seconds=command.ttl_seconds,
        )
    )


async def create_reservation(
    engine: ReservationEngine, settings: Settings, command: CreateReservation, actor: str
) -> Outcome:
    return await engine.submit(create_step(command, settings), Origin(actor=actor))


async def cancel_reservation(
    engine: ReservationEngine, reservation_id: str, reason: str | None, actor: str
) -> Outcome:
    return await engine.submit(cancel_step(reservation_id, reason), Origin(actor=actor))


async def fulfil_reservation(
    engine: ReservationEngine,
    reservation_id: str,
    lines: Sequence[SkuQuantity] | None,
    actor: str,
) -> Outcome:
    return await engine.submit(fulfil_step(reservation_id, lines), Origin(actor=actor))


def fulfil_step(reservation_id: str, lines: Sequence[SkuQuantity] | None) -> Fulfil:
    """Raises InvalidInput (a SKU twice), OwnedByPickup."""
    ensure_not_owned_by_pickup(reservation_id)
    if lines is None:
        return Fulfil(reservation_id)
    validate_lines(lines)
    return Fulfil(reservation_id, lines_of(lines))


def cancel_step(reservation_id: str, reason: str | None) -> Cancel:
    """Raises OwnedByPickup."""
    ensure_not_owned_by_pickup(reservation_id)
    return Cancel(reservation_id, reason)


async def get_reservation(db: Database, reservation_id: str) -> Reservation:
    """Raises ReservationNotFound."""
    async with db.connection() as conn:
        state = await ReservationRepository(conn).get(reservation_id)
    if state is None:
        raise ReservationNotFound(
            f"reservation {reservation_id!r} does not exist", field="reservation_id"
        )
    return reservation_view(state)
