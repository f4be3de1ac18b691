"""What a reservation decision announces: the event on ``inventory.events``, the
reply to a message's ``reply_to``, and the answer stored for a repeated message.

A decision that changed something publishes its event; a refusal publishes
``reservation.rejected``; a repeat that changed nothing publishes nothing but is
still answered. A reply carries the same payload as the event, so a message
delivered twice gets identical replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from service.contracts import messages as m
from service.domain.reservations import Decision, Outcome, OutcomeKind
from service.ids import new_id
from service.usecases.reservation_steps import Cancel, Create, Expire, Fulfil, Step, TransferIn
from service.usecases.reservation_views import reservation_view, short_lines

_EVENT_BY_STATUS: dict[
    str,
    type[
        m.ReservationConfirmed
        | m.ReservationCancelled
        | m.ReservationFulfilled
        | m.ReservationExpired
    ],
] = {
    "active": m.ReservationConfirmed,
    "cancelled": m.ReservationCancelled,
    "fulfilled": m.ReservationFulfilled,
    "expired": m.ReservationExpired,
}
_COMMAND_NAMES: dict[type[Step], str] = {
    Create: "reservation.create",
    Cancel: "reservation.cancel",
    Fulfil: "reservation.fulfil",
    Expire: "reservation.expire",
    TransferIn: "reservation.transfer_in",
}


@dataclass(frozen=True, slots=True)
class Announcement:
    routing_key: str
    payload: bytes
    event_id: str
    publish: bool  # on inventory.events (False: only a reply)

    def stored(self) -> dict[str, Any]:
        """The form kept with the message's idempotency key."""
        return {"routing_key": self.routing_key, "payload": self.payload.decode()}


def announce(
    step: Step, decision: Decision, now: datetime, correlation_id: str | None
) -> Announcement | None:
    """The event or reply for one decision; None when there is nothing to say
    (an expiry that was not due)."""
    outcome = decision.outcome
    if outcome.kind is OutcomeKind.NOT_DUE:
        return None
    if not outcome.ok:
        named = step.request.location_id if isinstance(step, Create) else None
        refusal = rejection(step, outcome, now, correlation_id, named)
        return Announcement(_tag(refusal), m.encoder.encode(refusal), refusal.event_id, True)
    state = outcome.reservation
    assert state is not None
    event = _EVENT_BY_STATUS[state.status](
        event_id=new_id(),
        occurred_at=now,
        correlation_id=correlation_id,
        reservation=reservation_view(state),
    )
    publish = decision.event is not None
    return Announcement(_tag(event), m.encoder.encode(event), event.event_id, publish)


def rejection(
    step: Step,
    outcome: Outcome,
    now: datetime,
    correlation_id: str | None,
    named_location: str | None = None,
) -> m.ReservationRejected:
    """``reservation.rejected`` for a refused step; its location is the reservation's,
    else the one the step named (a refused create), if any."""
    return m.ReservationRejected(
        event_id=new_id(),
        occurred_at=now,
        correlation_id=correlation_id,
        command=_COMMAND_NAMES[type(step)],
        reservation_id=step.reservation_id,
        location_id=outcome.reservation.location_id if outcome.reservation else named_location,
        reason=outcome.code,
        detail=outcome.detail,
        short_lines=short_lines(outcome.shortfalls),
    )


def _tag(event: msgspec.Struct) -> str:
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag
