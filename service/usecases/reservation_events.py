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
from service.domain.reservations import Decision, Outcome
from service.ids import new_id

_BY_STATUS: dict[
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
_COMMAND_NAMES = {
    "Create": "reservation.create",
    "Cancel": "reservation.cancel",
    "Fulfil": "reservation.fulfil",
    "Expire": "reservation.expire",
    "TransferIn": "reservation.transfer_in",
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
    step_name: str,
    reservation_id: str,
    decision: Decision,
    now: datetime,
    correlation_id: str | None = None,
    location_id: str | None = None,
) -> Announcement | None:
    """The event or reply for one decision; None when there is nothing to say
    (an expiry that was not due)."""
    outcome = decision.outcome
    if outcome.status == 204:
        return None
    event_id = new_id()
    if not outcome.ok:
        return _encode(
            rejected(
                step_name, reservation_id, outcome, now, event_id, correlation_id, location_id
            ),
            True,
        )
    state = outcome.reservation
    assert state is not None
    event_type = _BY_STATUS[state.status]
    event = event_type(
        event_id=event_id, occurred_at=now, correlation_id=correlation_id, reservation=state.view()
    )
    return _encode(event, publish=decision.event is not None)


def rejected(
    step_name: str,
    reservation_id: str,
    outcome: Outcome,
    now: datetime,
    event_id: str,
    correlation_id: str | None = None,
    location_id: str | None = None,
) -> m.ReservationRejected:
    return m.ReservationRejected(
        event_id=event_id,
        occurred_at=now,
        correlation_id=correlation_id,
        command=step_name,
        reservation_id=reservation_id,
        location_id=outcome.reservation.location_id if outcome.reservation else location_id,
        reason=outcome.code,
        detail=outcome.detail,
        short_lines=list(outcome.short_lines),
    )


def step_name(step: object) -> str:
    return _COMMAND_NAMES[type(step).__name__]


def _encode(event: msgspec.Struct, publish: bool) -> Announcement:
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return Announcement(tag, m.encoder.encode(event), event.event_id, publish)  # type: ignore[attr-defined]
