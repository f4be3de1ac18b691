"""Reservation decisions: what each step does to a reservation and the ledger.

Pure functions of the locked rows the engine hands them (service/usecases/
reservation_flush.py); each returns a Decision: the outcome, the ledger rows, the
reservation rows to write and the event to publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from service.domain.errors import InvalidInput, Shortfall
from service.domain.ledger import Balance, BalanceKey, Delta
from service.domain.reservations import (
    Decision,
    NewReservation,
    Outcome,
    OutcomeKind,
    ReservationState,
    SkuQuantity,
    validate_lines,
)


def decide_create(
    request: NewReservation,
    existing: ReservationState | None,
    balances: dict[BalanceKey, Balance],
    now: datetime,
    expires_at: datetime,
) -> Decision:
    if existing is not None:
        return _created_before(request, existing)
    short = _shortfalls(request, balances)
    if short:
        detail = "not enough available stock for " + ", ".join(s.sku for s in short)
        return Decision(
            Outcome(OutcomeKind.CONFLICT, "insufficient_stock", detail, shortfalls=short)
        )
    state = ReservationState(
        reservation_id=request.reservation_id,
        location_id=request.location_id,
        status="active",
        channel=request.channel,
        external_ref=request.external_ref,
        fingerprint=request.fingerprint,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
        lines=tuple(sorted(request.lines, key=lambda x: x.sku)),
    )
    deltas = [
        Delta(
            request.location_id,
            x.sku,
            "reserve",
            reserved=x.quantity,
            reference=request.reservation_id,
        )
        for x in request.lines
    ]
    created = Outcome(OutcomeKind.CREATED, reservation=state)
    return Decision(created, deltas, created=state, event="reservation.confirmed")


def _created_before(request: NewReservation, existing: ReservationState) -> Decision:
    """The same create again answers as the first did; other content is a conflict."""
    if existing.fingerprint == request.fingerprint and existing.location_id == request.location_id:
        return Decision(Outcome(OutcomeKind.DONE, reservation=existing))
    detail = f"reservation {request.reservation_id!r} exists with different content"
    return Decision(
        Outcome(
            OutcomeKind.CONFLICT,
            "reservation_conflict",
            detail,
            reservation=existing,
            field="reservation_id",
        )
    )


def _shortfalls(
    request: NewReservation, balances: dict[BalanceKey, Balance]
) -> tuple[Shortfall, ...]:
    short = []
    for line in request.lines:
        balance = balances.get((request.location_id, line.sku))
        units = balance.available if balance else 0
        if units < line.quantity:
            short.append(Shortfall(sku=line.sku, requested=line.quantity, available=units))
    return tuple(short)


def decide_cancel(
    existing: ReservationState | None, reservation_id: str, now: datetime, reason: str | None
) -> Decision:
    if existing is None:
        return not_found(reservation_id)
    if existing.status == "cancelled":
        return Decision(Outcome(OutcomeKind.DONE, reservation=existing))
    if existing.status != "active":
        return invalid_transition(existing, "cancel")
    state = replace(existing, status="cancelled", updated_at=now)
    return Decision(
        Outcome(OutcomeKind.DONE, reservation=state),
        _release(existing, "release", reason),
        updated=state,
        event="reservation.cancelled",
    )


def decide_expire(existing: ReservationState | None, now: datetime) -> Decision:
    """NOT_DUE when there is nothing to expire (gone, no longer active, or not yet due)."""
    if existing is None or existing.status != "active" or existing.expires_at > now:
        return Decision(Outcome(OutcomeKind.NOT_DUE, "not_due"))
    state = replace(existing, status="expired", updated_at=now)
    return Decision(
        Outcome(OutcomeKind.DONE, reservation=state),
        _release(existing, "release", "expired"),
        updated=state,
        event="reservation.expired",
    )


def decide_fulfil(
    existing: ReservationState | None,
    reservation_id: str,
    now: datetime,
    handed_over: Sequence[SkuQuantity] | None,
) -> Decision:
    if existing is None:
        return not_found(reservation_id)
    if existing.status == "fulfilled":
        return Decision(Outcome(OutcomeKind.DONE, reservation=existing))
    if existing.status != "active":
        return invalid_transition(existing, "fulfil")
    try:
        taken = _handed_over(existing, handed_over)
    except InvalidInput as exc:
        return Decision(
            Outcome(
                OutcomeKind.INVALID,
                "invalid_fulfilment",
                exc.detail,
                reservation=existing,
                field=exc.field,
            )
        )
    state = replace(
        existing,
        status="fulfilled",
        updated_at=now,
        lines=tuple(replace(x, fulfilled=taken[x.sku]) for x in existing.lines),
    )
    return Decision(
        Outcome(OutcomeKind.DONE, reservation=state),
        _fulfilment_deltas(existing, taken),
        updated=state,
        event="reservation.fulfilled",
    )


def _fulfilment_deltas(existing: ReservationState, taken: dict[str, int]) -> list[Delta]:
    """The units handed over leave the shelf; the rest of each line is released."""
    deltas: list[Delta] = []
    ref = existing.reservation_id
    for line in existing.lines:
        units = taken[line.sku]
        if units:
            deltas.append(
                Delta(
                    existing.location_id,
                    line.sku,
                    "fulfil",
                    on_hand=-units,
                    reserved=-units,
                    reference=ref,
                )
            )
        if line.quantity - units:
            deltas.append(
                Delta(
                    existing.location_id,
                    line.sku,
                    "release",
                    reserved=units - line.quantity,
                    reference=ref,
                    reason="not collected",
                )
            )
    return deltas


def _handed_over(existing: ReservationState, lines: Sequence[SkuQuantity] | None) -> dict[str, int]:
    reserved = {x.sku: x.quantity for x in existing.lines}
    if lines is None:
        return reserved
    validate_lines(lines)
    taken = dict.fromkeys(reserved, 0)
    for index, line in enumerate(lines):
        if line.sku not in reserved:
            raise InvalidInput(f"sku {line.sku!r} is not reserved", field=f"lines[{index}].sku")
        if line.quantity > reserved[line.sku]:
            raise InvalidInput(
                f"only {reserved[line.sku]} of {line.sku!r} are reserved",
                field=f"lines[{index}].quantity",
            )
        taken[line.sku] = line.quantity
    return taken


def _release(existing: ReservationState, kind: str, reason: str | None) -> list[Delta]:
    return [
        Delta(
            existing.location_id,
            x.sku,
            kind,
            reserved=-x.quantity,
            reference=existing.reservation_id,
            reason=reason,
        )
        for x in existing.lines
    ]


def not_found(reservation_id: str) -> Decision:
    detail = f"reservation {reservation_id!r} does not exist"
    return Decision(
        Outcome(OutcomeKind.NOT_FOUND, "reservation_not_found", detail, field="reservation_id")
    )


def invalid_transition(existing: ReservationState, step: str) -> Decision:
    detail = f"reservation {existing.reservation_id!r} is {existing.status}; it cannot {step}"
    return Decision(
        Outcome(OutcomeKind.CONFLICT, "invalid_transition", detail, reservation=existing)
    )
