"""Pickups as the wire shows them: the answer of the HTTP routes and the body of the
pickup events, built from the domain's values in one place."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from service.contracts import pickups as wire
from service.contracts.messages import (
    PickupBooked,
    PickupCancelled,
    PickupCollected,
    PickupNoShow,
    PickupReady,
    encoder,
)
from service.domain.pickups import Customer, LineSource, PickupState
from service.ids import new_id
from service.observability.metrics import PICKUP_TRANSITION_CHANGES
from service.storage.database import note_changes
from service.storage.outbox import OutgoingMessage, event


def pickup_view(state: PickupState) -> wire.Pickup:
    return wire.Pickup(
        pickup_id=state.pickup_id,
        location_id=state.location_id,
        status=state.status,  # type: ignore[arg-type]  # the table's CHECK holds it to the statuses
        slot_start=state.slot_start,
        slot_end=state.slot_end,
        hold_until=state.hold_until,
        customer=customer_view(state.customer),
        channel=state.channel,
        external_ref=state.external_ref,
        lines=[
            wire.PickupLine(
                sku=x.sku,
                quantity=x.quantity,
                source_location_id=x.source_location_id,
                collected=x.collected,
            )
            for x in state.lines
        ],
        created_at=state.created_at,
        updated_at=state.updated_at,
    )


def customer_view(customer: Customer) -> wire.Customer:
    return wire.Customer(name=customer.name, email=customer.email, phone=customer.phone)


def source_views(sources: Iterable[LineSource]) -> list[wire.LineSource]:
    return [
        wire.LineSource(
            sku=x.sku,
            quantity=x.quantity,
            source_location_id=x.source_location_id,
            ready_at=x.ready_at,
        )
        for x in sources
    ]


def pickup_event(
    kind: type[PickupBooked | PickupReady | PickupCollected | PickupCancelled | PickupNoShow],
    state: PickupState,
    now: datetime,
    **extra: object,
) -> OutgoingMessage:
    payload = kind(event_id=new_id(), occurred_at=now, pickup=pickup_view(state), **extra)  # type: ignore[arg-type]
    tag = type(payload).__struct_config__.tag
    assert isinstance(tag, str)
    note_changes(PICKUP_TRANSITION_CHANGES, [f"{state.pickup_id} {tag}"])  # counted on commit
    return event(tag, encoder.encode(payload), payload.event_id)
