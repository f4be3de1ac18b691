"""Pickups as the wire shows them: the body of the pickup events."""

from __future__ import annotations

from datetime import datetime

from service.contracts.messages import (
    PickupBooked,
    PickupCancelled,
    PickupCollected,
    PickupNoShow,
    PickupReady,
    encoder,
)
from service.domain.pickups import PickupState
from service.ids import new_id
from service.storage.outbox import OutgoingMessage, event


def pickup_event(
    kind: type[PickupBooked | PickupReady | PickupCollected | PickupCancelled | PickupNoShow],
    state: PickupState,
    now: datetime,
    **extra: object,
) -> OutgoingMessage:
    payload = kind(event_id=new_id(), occurred_at=now, pickup=state.view(), **extra)  # type: ignore[arg-type]
    tag = type(payload).__struct_config__.tag
    assert isinstance(tag, str)
    return event(tag, encoder.encode(payload), payload.event_id)
