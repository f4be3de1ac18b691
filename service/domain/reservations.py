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

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from service.domain.errors import InvalidInput, Shortfall
from service.domain.ledger import Delta


class SkuQuantity(Protocol):
    """A requested line, as any edge decodes it."""

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    fulfilled: int = 0


@dataclass(frozen=True, slots=True)
class NewReservation:
    """What a create asks for; ``fingerprint`` tells a repeat from a different request."""

    reservation_id: str
    location_id: str
    lines: tuple[Line, ...]
    channel: str
    external_ref: str | None
    fingerprint: str


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


class OutcomeKind(enum.Enum):
    """What became of a step; the edges map a kind to a status or a reply."""

    CREATED = "created"  # a new reservation
    DONE = "done"  # the step took effect now, or had already
    NOT_DUE = "not_due"  # an expiry before its time: nothing to do
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # refused by the current state: stock, content, status
    INVALID = "invalid"  # the request's values make no sense


_SUCCEEDED = frozenset({OutcomeKind.CREATED, OutcomeKind.DONE, OutcomeKind.NOT_DUE})


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one step: its kind and a stable code."""

    kind: OutcomeKind
    code: str = "ok"
    detail: str = ""
    reservation: ReservationState | None = None
    shortfalls: tuple[Shortfall, ...] = ()
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind in _SUCCEEDED


@dataclass(slots=True)
class Decision:
    """What one step does: its answer, the ledger rows, the rows to write."""

    outcome: Outcome
    deltas: list[Delta] = field(default_factory=list)
    created: ReservationState | None = None
    updated: ReservationState | None = None
    event: str | None = None  # reservation.confirmed / cancelled / fulfilled / expired


def validate_lines(lines: Sequence[SkuQuantity], field_name: str = "lines") -> None:
    """Raises InvalidInput when a SKU appears twice."""
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.sku in seen:
            raise InvalidInput(
                f"sku {line.sku!r} appears twice; give one line per sku",
                field=f"{field_name}[{index}].sku",
            )
        seen.add(line.sku)


def ttl_of(ttl_seconds: int | None, default_s: int, max_s: int) -> timedelta:
    """Raises InvalidInput when the requested TTL is over the maximum."""
    seconds = ttl_seconds or default_s
    if seconds > max_s:
        raise InvalidInput(f"ttl_seconds may be at most {max_s}", field="ttl_seconds")
    return timedelta(seconds=seconds)
