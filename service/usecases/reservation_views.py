"""Reservations as the wire shows them: the answer of the HTTP routes and the body of
the reservation events, built from the domain's values in one place."""

from __future__ import annotations

from collections.abc import Iterable

from service.contracts.common import ShortLine
from service.contracts.reservations import Reservation, ReservationLine
from service.domain.errors import Shortfall
from service.domain.reservations import ReservationState


def reservation_view(state: ReservationState) -> Reservation:
    return Reservation(
        reservation_id=state.reservation_id,
        location_id=state.location_id,
        status=state.status,  # type: ignore[arg-type]
        channel=state.channel,
        external_ref=state.external_ref,
        lines=[
            ReservationLine(sku=x.sku, quantity=x.quantity, fulfilled=x.fulfilled)
            for x in state.lines
        ],
        expires_at=state.expires_at,
        created_at=state.created_at,
        updated_at=state.updated_at,
    )


def short_lines(shortfalls: Iterable[Shortfall]) -> list[ShortLine]:
    return [ShortLine(sku=s.sku, requested=s.requested, available=s.available) for s in shortfalls]
