"""The golden example of every message, written to ``proto/examples/`` by
``proto_gen.py``: fixed ids and times, so the files change only with the Structs."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from service.contracts import messages as m
from service.contracts.common import ShortLine
from service.contracts.pickups import Customer, Pickup, PickupLine
from service.contracts.reservations import Reservation, ReservationLine, ReservationLineIn
from service.contracts.stock import BalanceView, MovementsPosted, Receipt, RecordedMovement, Sale

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
_RESERVATION = Reservation(
    reservation_id="ord-2026-000123",
    location_id="ST-BERGEN-SENTRUM",
    status="active",
    channel="webshop",
    external_ref="ORDER-4711",
    lines=[ReservationLine(sku="SKU-JACKET-1000", quantity=2, fulfilled=0)],
    expires_at=datetime(2026, 11, 23, 9, 45, tzinfo=UTC),
    created_at=AT,
    updated_at=AT,
)
_MOVEMENT = RecordedMovement(
    movement_id=4711,
    location_id="ST-BERGEN-SENTRUM",
    sku="SKU-JACKET-1000",
    kind="receipt",
    on_hand_delta=12,
    reserved_delta=0,
    incoming_delta=0,
    reference="PO-99",
    reason=None,
    actor="erp",
    occurred_at=AT,
    recorded_at=AT,
)
EVENT_ID = "9b2f6c1de0a54c7f8e3b2a1d0c9f8e7d"

_CUSTOMER = Customer(name="Kari Nordmann", email="kari@example.no", phone="+47 912 34 567")
_PICKUP = Pickup(
    pickup_id="pu-2026-000777",
    location_id="ST-BERGEN-SENTRUM",
    status="booked",
    slot_start=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
    slot_end=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
    hold_until=datetime(2026, 11, 27, 15, 30, tzinfo=UTC),
    customer=_CUSTOMER,
    channel="webshop",
    external_ref="ORDER-4712",
    lines=[
        PickupLine(
            sku="SKU-JACKET-1000", quantity=1, source_location_id="ST-BERGEN-SENTRUM", collected=0
        )
    ],
    created_at=AT,
    updated_at=AT,
)

EXAMPLES: dict[str, msgspec.Struct] = {
    "pickup.book": m.PickupBookMessage(
        message_id="msg-0006",
        pickup_id="pu-2026-000777",
        location_id="ST-BERGEN-SENTRUM",
        slot_start=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=1)],
        customer=_CUSTOMER,
        channel="webshop",
        external_ref="ORDER-4712",
    ),
    "pickup.cancel": m.PickupCancelMessage(
        message_id="msg-0007", pickup_id="pu-2026-000777", reason="customer request"
    ),
    "pickup.booked": m.PickupBooked(
        event_id=EVENT_ID, occurred_at=AT, pickup=_PICKUP, pickup_code="K7QM-3XPA"
    ),
    "pickup.ready": m.PickupReady(
        event_id=EVENT_ID, occurred_at=AT, pickup=msgspec.structs.replace(_PICKUP, status="ready")
    ),
    "pickup.collected": m.PickupCollected(
        event_id=EVENT_ID,
        occurred_at=AT,
        pickup=msgspec.structs.replace(
            _PICKUP,
            status="collected",
            lines=[
                PickupLine(
                    sku="SKU-JACKET-1000",
                    quantity=1,
                    source_location_id="ST-BERGEN-SENTRUM",
                    collected=1,
                )
            ],
        ),
    ),
    "pickup.cancelled": m.PickupCancelled(
        event_id=EVENT_ID,
        occurred_at=AT,
        pickup=msgspec.structs.replace(_PICKUP, status="cancelled"),
        reason="customer request",
    ),
    "pickup.no_show": m.PickupNoShow(
        event_id=EVENT_ID, occurred_at=AT, pickup=msgspec.structs.replace(_PICKUP, status="no_show")
    ),
    "pickup.rejected": m.PickupRejected(
        event_id=EVENT_ID,
        occurred_at=AT,
        command="pickup.book",
        pickup_id="pu-2026-000778",
        reason="slot_unavailable",
        detail="the slot is full; choose another",
    ),
    "reservation.create": m.ReservationCreateMessage(
        message_id="msg-0001",
        reservation_id="ord-2026-000123",
        location_id="ST-BERGEN-SENTRUM",
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=2)],
        channel="webshop",
        external_ref="ORDER-4711",
        ttl_seconds=900,
    ),
    "reservation.cancel": m.ReservationCancelMessage(
        message_id="msg-0002", reservation_id="ord-2026-000123", reason="customer changed mind"
    ),
    "reservation.fulfil": m.ReservationFulfilMessage(
        message_id="msg-0003",
        reservation_id="ord-2026-000123",
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=1)],
    ),
    "stock.movements": m.StockMovementsMessage(
        message_id="msg-0004",
        actor="erp",
        movements=[
            Receipt(
                sku="SKU-JACKET-1000",
                location_id="ST-BERGEN-SENTRUM",
                quantity=12,
                reference="PO-99",
            ),
            Sale(
                sku="SKU-JACKET-1000",
                location_id="ST-BERGEN-SENTRUM",
                quantity=1,
                reference="POS-1",
            ),
        ],
    ),
    "reservation.confirmed": m.ReservationConfirmed(
        event_id=EVENT_ID, occurred_at=AT, reservation=_RESERVATION
    ),
    "reservation.rejected": m.ReservationRejected(
        event_id=EVENT_ID,
        occurred_at=AT,
        command="reservation.create",
        reservation_id="ord-2026-000124",
        location_id=None,
        reason="insufficient_stock",
        detail="not enough available stock for SKU-JACKET-1000",
        short_lines=[ShortLine(sku="SKU-JACKET-1000", requested=3, available=1)],
    ),
    "reservation.cancelled": m.ReservationCancelled(
        event_id=EVENT_ID,
        occurred_at=AT,
        reservation=msgspec.structs.replace(_RESERVATION, status="cancelled"),
    ),
    "reservation.expired": m.ReservationExpired(
        event_id=EVENT_ID,
        occurred_at=AT,
        reservation=msgspec.structs.replace(_RESERVATION, status="expired"),
    ),
    "reservation.fulfilled": m.ReservationFulfilled(
        event_id=EVENT_ID,
        occurred_at=AT,
        reservation=msgspec.structs.replace(
            _RESERVATION,
            status="fulfilled",
            lines=[ReservationLine(sku="SKU-JACKET-1000", quantity=2, fulfilled=2)],
        ),
    ),
    "availability.changed": m.AvailabilityChanged(
        event_id=EVENT_ID,
        occurred_at=AT,
        sku="SKU-JACKET-1000",
        location_id="ST-BERGEN-SENTRUM",
        on_hand=12,
        reserved=2,
        available=9,
        status="in_stock",
    ),
    "stock.shortage": m.StockShortage(
        event_id=EVENT_ID,
        occurred_at=AT,
        sku="SKU-JACKET-1000",
        location_id="ST-BERGEN-SENTRUM",
        on_hand=1,
        reserved=2,
        short_by=1,
    ),
    "stock.movements.applied": m.StockMovementsApplied(
        event_id=EVENT_ID,
        occurred_at=AT,
        correlation_id="c-42",
        message_id="msg-0004",
        result=MovementsPosted(
            movements=[_MOVEMENT],
            balances=[
                BalanceView(
                    sku="SKU-JACKET-1000",
                    location_id="ST-BERGEN-SENTRUM",
                    on_hand=12,
                    reserved=0,
                    incoming=0,
                    safety_stock=1,
                    available=11,
                )
            ],
            shortages=[],
        ),
    ),
    "stock.movements.rejected": m.StockMovementsRejected(
        event_id=EVENT_ID,
        occurred_at=AT,
        correlation_id="c-43",
        message_id="msg-0005",
        reason="unknown_location",
        detail="location 'ST-NOWHERE' does not exist",
        field="movements[0].location_id",
    ),
    "command.rejected": m.CommandRejected(
        event_id=EVENT_ID,
        occurred_at=AT,
        correlation_id="c-44",
        message_id="msg-0006",
        routing_key="reservation.create",
        reason="routing_key_mismatch",
        detail="a stock.movements command under the routing key reservation.create",
    ),
}
