"""The steps the reservation engine decides, and how each request arrived."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.reservations import Line, NewReservation, Outcome


@dataclass(frozen=True, slots=True)
class Create:
    request: NewReservation
    ttl: timedelta
    expires_at: datetime | None = None  # an exact expiry (a pickup's hold_until), not now + ttl

    @property
    def reservation_id(self) -> str:
        return self.request.reservation_id


@dataclass(frozen=True, slots=True)
class Cancel:
    reservation_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Fulfil:
    reservation_id: str
    lines: tuple[Line, ...] | None = None


@dataclass(frozen=True, slots=True)
class Expire:
    reservation_id: str


@dataclass(frozen=True, slots=True)
class TransferIn:
    """Warehouse-reserved goods arrived at ``store_id``: see ``decide_transfer_in``."""

    source_reservation_id: str
    reservation_id: str  # the new reservation at the store
    store_id: str


Step = Create | Cancel | Fulfil | Expire | TransferIn


def reservation_ids_of(step: Step) -> list[str]:
    if isinstance(step, TransferIn):
        return [step.source_reservation_id, step.reservation_id]
    return [step.reservation_id]


@dataclass(frozen=True, slots=True)
class Origin:
    """How a request arrived. Messages carry their id and maybe a reply_to."""

    actor: str
    message_id: str | None = None
    fingerprint: str = ""
    reply_to: str | None = None
    correlation_id: str | None = None


@dataclass(slots=True)
class Pending:
    step: Step
    origin: Origin
    # The submitter's context (its request or message id), for logging a failure.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    future: asyncio.Future[Outcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
