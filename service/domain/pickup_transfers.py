"""Goods a warehouse reserved for a pickup arrive at the store: the warehouse
reservation becomes a transfer out, and the store receives and reserves the goods
in the same step, so they never show as available at either end."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from service.domain.ledger import Delta
from service.domain.reservation_decisions import invalid_transition, not_found
from service.domain.reservations import Decision, Line, Outcome, OutcomeKind, ReservationState


def decide_transfer_in(
    source: ReservationState | None, target_id: str, store_id: str, now: datetime
) -> Decision:
    """Goods reserved at a warehouse arrived at the store for a pickup: the warehouse
    reservation is fulfilled as a transfer out, the goods are received at the store
    and reserved there at once (a new reservation ``target_id`` with the same expiry),
    so they never show as available at either end."""
    if source is None:
        return not_found("?")
    if source.status != "active":
        return invalid_transition(source, "be transferred")
    done = replace(
        source,
        status="fulfilled",
        updated_at=now,
        lines=tuple(replace(x, fulfilled=x.quantity) for x in source.lines),
    )
    arrived = replace(
        source,
        reservation_id=target_id,
        location_id=store_id,
        fingerprint=TRANSFER_IN_FINGERPRINT,
        created_at=now,
        updated_at=now,
        lines=tuple(Line(x.sku, x.quantity) for x in source.lines),
    )
    return Decision(
        Outcome(OutcomeKind.CREATED, reservation=arrived),
        _transfer_in_deltas(source, target_id, store_id),
        created=arrived,
        updated=done,
        event="reservation.confirmed",
    )


TRANSFER_IN_FINGERPRINT = "transfer-in"


def _transfer_in_deltas(source: ReservationState, target_id: str, store_id: str) -> list[Delta]:
    deltas: list[Delta] = []
    for x in source.lines:
        deltas += [
            Delta(
                source.location_id,
                x.sku,
                "transfer_out",
                on_hand=-x.quantity,
                reserved=-x.quantity,
                reference=target_id,
            ),
            Delta(
                store_id,
                x.sku,
                "transfer_receipt",
                on_hand=x.quantity,
                incoming=-x.quantity,
                reference=source.reservation_id,
            ),
            Delta(store_id, x.sku, "reserve", reserved=x.quantity, reference=target_id),
        ]
    return deltas
