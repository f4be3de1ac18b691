"""Reservation rules: all-or-nothing creation, the lifecycle, what each step moves.

    active --fulfil--> fulfilled      (on_hand and reserved drop; a partial
                                        fulfilment releases the rest)
    active --cancel--> cancelled      (reserved released)
    active --expire--> expired        (reserved released by the sweeper)

Repeating the step a reservation is already in answers the same and moves
nothing; any other step from a final state is an invalid transition.
Every decision here is pure: the engine feeds it locked balances and rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from service.contracts.reservations import (
    CreateReservation,
    Reservation,
    ReservationLine,
    ReservationLineIn,
    ShortLine,
)
from service.domain.errors import InvalidInput
from service.domain.ledger import Balance, BalanceKey, Delta


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    fulfilled: int = 0


@dataclass(frozen=True, slots=True)
class ReservationState:
    reservation_id: str
    location_id: str
    status: str
    channel: str
    external_ref: str | None
    fingerprint: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    lines: tuple[Line, ...]

    def view(self) -> Reservation:
        return Reservation(
            reservation_id=self.reservation_id,
            location_id=self.location_id,
            status=self.status,  # type: ignore[arg-type]
            channel=self.channel,
            external_ref=self.external_ref,
            lines=[
                ReservationLine(sku=x.sku, quantity=x.quantity, fulfilled=x.fulfilled)
                for x in self.lines
            ],
            expires_at=self.expires_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one command: an HTTP-like status and a stable code."""

    status: int
    code: str = "ok"
    detail: str = ""
    reservation: ReservationState | None = None
    short_lines: tuple[ShortLine, ...] = ()
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300


@dataclass(slots=True)
class Decision:
    """What one command does: its answer, the ledger rows, the rows to write."""

    outcome: Outcome
    deltas: list[Delta] = field(default_factory=list)
    created: ReservationState | None = None
    updated: ReservationState | None = None
    event: str | None = None  # reservation.confirmed / cancelled / fulfilled / expired


def validate_lines(lines: list[ReservationLineIn], field_name: str = "lines") -> None:
    """Raises InvalidInput when a SKU appears twice."""
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.sku in seen:
            raise InvalidInput(
                f"sku {line.sku!r} appears twice; give one line per sku",
                field=f"{field_name}[{index}].sku",
            )
        seen.add(line.sku)


def ttl_of(command: CreateReservation, default_s: int, max_s: int) -> timedelta:
    """Raises InvalidInput when the requested TTL is over the maximum."""
    seconds = command.ttl_seconds or default_s
    if seconds > max_s:
        raise InvalidInput(f"ttl_seconds may be at most {max_s}", field="ttl_seconds")
    return timedelta(seconds=seconds)


def decide_create(
    command: CreateReservation,
    fingerprint: str,
    existing: ReservationState | None,
    balances: dict[BalanceKey, Balance],
    now: datetime,
    expires_at: datetime,
) -> Decision:
    if existing is not None:
        if existing.fingerprint == fingerprint and existing.location_id == command.location_id:
            return Decision(Outcome(200, reservation=existing))
        return Decision(
            Outcome(
                409, "reservation_conflict",
                f"reservation {command.reservation_id!r} exists with different content",
                reservation=existing, field="reservation_id",
            )
        )  # fmt: skip
    short = []
    for line in command.lines:
        balance = balances.get((command.location_id, line.sku))
        units = balance.available if balance else 0
        if units < line.quantity:
            short.append(ShortLine(sku=line.sku, requested=line.quantity, available=units))
    if short:
        return Decision(
            Outcome(
                409, "insufficient_stock",
                "not enough available stock for " + ", ".join(s.sku for s in short),
                short_lines=tuple(short),
            )
        )  # fmt: skip
    state = ReservationState(
        reservation_id=command.reservation_id,
        location_id=command.location_id,
        status="active",
        channel=command.channel,
        external_ref=command.external_ref,
        fingerprint=fingerprint,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
        lines=tuple(Line(x.sku, x.quantity) for x in sorted(command.lines, key=lambda x: x.sku)),
    )
    deltas = [
        Delta(
            command.location_id,
            x.sku,
            "reserve",
            reserved=x.quantity,
            reference=command.reservation_id,
        )
        for x in command.lines
    ]
    return Decision(
        Outcome(201, reservation=state), deltas, created=state, event="reservation.confirmed"
    )


def decide_cancel(
    existing: ReservationState | None, reservation_id: str, now: datetime, reason: str | None
) -> Decision:
    if existing is None:
        return _not_found(reservation_id)
    if existing.status == "cancelled":
        return Decision(Outcome(200, reservation=existing))
    if existing.status != "active":
        return _invalid_transition(existing, "cancel")
    state = replace(existing, status="cancelled", updated_at=now)
    return Decision(
        Outcome(200, reservation=state),
        _release(existing, "release", reason),
        updated=state,
        event="reservation.cancelled",
    )


def decide_expire(existing: ReservationState | None, now: datetime) -> Decision | None:
    """None when there is nothing to expire (gone, no longer active, or not yet due)."""
    if existing is None or existing.status != "active" or existing.expires_at > now:
        return None
    state = replace(existing, status="expired", updated_at=now)
    return Decision(
        Outcome(200, reservation=state),
        _release(existing, "release", "expired"),
        updated=state,
        event="reservation.expired",
    )


def decide_fulfil(
    existing: ReservationState | None,
    reservation_id: str,
    now: datetime,
    handed_over: list[ReservationLineIn] | None,
) -> Decision:
    if existing is None:
        return _not_found(reservation_id)
    if existing.status == "fulfilled":
        return Decision(Outcome(200, reservation=existing))
    if existing.status != "active":
        return _invalid_transition(existing, "fulfil")
    try:
        taken = _handed_over(existing, handed_over)
    except InvalidInput as exc:
        return Decision(
            Outcome(422, "invalid_fulfilment", exc.detail, reservation=existing, field=exc.field)
        )
    deltas: list[Delta] = []
    for line in existing.lines:
        units = taken[line.sku]
        ref = existing.reservation_id
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
                Delta(existing.location_id, line.sku, "release", reserved=units - line.quantity, reference=ref,
                      reason="not collected")
            )  # fmt: skip
    state = replace(
        existing, status="fulfilled", updated_at=now,
        lines=tuple(replace(x, fulfilled=taken[x.sku]) for x in existing.lines),
    )  # fmt: skip
    return Decision(
        Outcome(200, reservation=state), deltas, updated=state, event="reservation.fulfilled"
    )


def decide_transfer_in(
    source: ReservationState | None,
    target_id: str,
    store_id: str,
    now: datetime,
    fingerprint: str,
) -> Decision:
    """Goods reserved at a warehouse arrived at the store for a pickup: the warehouse
    reservation is fulfilled as a transfer out, the goods are received at the store
    and reserved there at once (a new reservation ``target_id`` with the same expiry),
    so they never show as available at either end."""
    if source is None:
        return _not_found("?")
    if source.status != "active":
        return _invalid_transition(source, "be transferred")
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
    done = replace(
        source, status="fulfilled", updated_at=now,
        lines=tuple(replace(x, fulfilled=x.quantity) for x in source.lines),
    )  # fmt: skip
    arrived = ReservationState(
        reservation_id=target_id, location_id=store_id, status="active", channel=source.channel,
        external_ref=source.external_ref, fingerprint=fingerprint, expires_at=source.expires_at,
        created_at=now, updated_at=now, lines=tuple(Line(x.sku, x.quantity) for x in source.lines),
    )  # fmt: skip
    return Decision(
        Outcome(201, reservation=arrived),
        deltas,
        created=arrived,
        updated=done,
        event="reservation.confirmed",
    )


def _handed_over(
    existing: ReservationState, lines: list[ReservationLineIn] | None
) -> dict[str, int]:
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


def _not_found(reservation_id: str) -> Decision:
    return Decision(
        Outcome(
            404,
            "reservation_not_found",
            f"reservation {reservation_id!r} does not exist",
            field="reservation_id",
        )
    )


def _invalid_transition(existing: ReservationState, step: str) -> Decision:
    return Decision(
        Outcome(
            409, "invalid_transition",
            f"reservation {existing.reservation_id!r} is {existing.status}; it cannot {step}",
            reservation=existing,
        )
    )  # fmt: skip
