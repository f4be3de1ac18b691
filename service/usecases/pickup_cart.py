"""Reserving a pickup's cart: one reservation per source (the store's own stock, each
warehouse sending goods), made in the booking's transaction through the reservation
engine's own decisions, so a pickup's stock is held exactly as a webshop reservation.
Balances are locked in the engine's order (see ``pickup_booking.py`` for the whole
booking's order)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from service.contracts.reservations import CreateReservation, ReservationLineIn
from service.domain import pickups as rules
from service.domain.errors import InsufficientStock
from service.domain.pickups import LineSource, NewPickup
from service.storage.pool import Connection
from service.usecases.reservation_engine import decide_in_transaction
from service.usecases.reservation_steps import Create, Origin, Step
from service.usecases.reservations import new_reservation


async def reserve_cart(
    conn: Connection,
    request: NewPickup,
    store_id: str,
    sources: Sequence[LineSource],
    hold_until: datetime,
    actor: str,
    now: datetime,
) -> dict[str, str]:
    """Reserve every line at its source, in this transaction, until ``hold_until``;
    returns sku -> reservation id. Raises InsufficientStock."""
    by_source: dict[str, list[ReservationLineIn]] = defaultdict(list)
    for source in sources:
        assert source.source_location_id is not None
        by_source[source.source_location_id].append(
            ReservationLineIn(sku=source.sku, quantity=source.quantity)
        )
    steps: list[tuple[Step, Origin]] = []
    reservation_of: dict[str, str] = {}
    for location_id, lines in sorted(by_source.items()):
        rid = (
            rules.store_reservation_id(request.pickup_id)
            if location_id == store_id
            else rules.warehouse_reservation_id(request.pickup_id, location_id)
        )
        # A CreateReservation as from the API: its fingerprint is stored with the reservation.
        create = CreateReservation(
            reservation_id=rid,
            location_id=location_id,
            lines=lines,
            channel=request.channel,
            external_ref=request.pickup_id,
        )
        step = Create(new_reservation(create), hold_until - now, expires_at=hold_until)
        steps.append((step, Origin(actor=actor)))
        reservation_of.update({x.sku: rid for x in lines})
    outcomes = await decide_in_transaction(conn, steps, now)
    refused = [o for o in outcomes if not o.ok]
    if refused:
        short = [line for o in refused for line in o.shortfalls]
        raise InsufficientStock(refused[0].detail or "the cart cannot be reserved", short)
    return reservation_of
