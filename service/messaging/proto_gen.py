"""Generate ``proto/``: the language-neutral contract of the messages.

- ``proto/schemas/<type>.json``: a JSON Schema per message, in and out;
- ``proto/asyncapi.json``: an AsyncAPI 3 document (exchanges, queues, routing
  keys, payloads);
- ``proto/examples/<type>.json``: one golden example per message.

Run ``make proto`` (``python -m service.messaging.proto_gen``) after changing a
message Struct; a test fails while the checked-in files differ from these.
"""

from __future__ import annotations

import inspect
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from service.contracts import messages as m
from service.contracts.common import ShortLine
from service.contracts.pickups import Customer, Pickup, PickupLine
from service.contracts.reservations import Reservation, ReservationLine, ReservationLineIn
from service.contracts.stock import BalanceView, MovementsPosted, Receipt, RecordedMovement, Sale
from service.messaging import topology

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
_RESERVATION = Reservation(
    reservation_id="ord-2026-000123", location_id="ST-BERGEN-SENTRUM", status="active",
    channel="webshop", external_ref="ORDER-4711",
    lines=[ReservationLine(sku="SKU-JACKET-1000", quantity=2, fulfilled=0)],
    expires_at=datetime(2026, 11, 23, 9, 45, tzinfo=UTC), created_at=AT, updated_at=AT,
)  # fmt: skip
_MOVEMENT = RecordedMovement(
    movement_id=4711, location_id="ST-BERGEN-SENTRUM", sku="SKU-JACKET-1000", kind="receipt",
    on_hand_delta=12, reserved_delta=0, incoming_delta=0, reference="PO-99", reason=None,
    actor="erp", occurred_at=AT, recorded_at=AT,
)  # fmt: skip
EVENT_ID = "9b2f6c1de0a54c7f8e3b2a1d0c9f8e7d"

_CUSTOMER = Customer(name="Kari Nordmann", email="kari@example.no", phone="+47 912 34 567")
_PICKUP = Pickup(
    pickup_id="pu-2026-000777", location_id="ST-BERGEN-SENTRUM", status="booked",
    slot_start=datetime(2026, 11, 24, 15, 0, tzinfo=UTC), slot_end=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
    hold_until=datetime(2026, 11, 27, 15, 30, tzinfo=UTC), customer=_CUSTOMER, channel="webshop",
    external_ref="ORDER-4712",
    lines=[PickupLine(sku="SKU-JACKET-1000", quantity=1, source_location_id="ST-BERGEN-SENTRUM", collected=0)],
    created_at=AT, updated_at=AT,
)  # fmt: skip

EXAMPLES: dict[str, msgspec.Struct] = {
    "pickup.book": m.PickupBookMessage(
        message_id="msg-0006", pickup_id="pu-2026-000777", location_id="ST-BERGEN-SENTRUM",
        slot_start=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=1)], customer=_CUSTOMER,
        channel="webshop", external_ref="ORDER-4712",
    ),
    "pickup.cancel": m.PickupCancelMessage(message_id="msg-0007", pickup_id="pu-2026-000777", reason="customer request"),
    "pickup.booked": m.PickupBooked(event_id=EVENT_ID, occurred_at=AT, pickup=_PICKUP, pickup_code="K7QM-3XPA"),
    "pickup.ready": m.PickupReady(event_id=EVENT_ID, occurred_at=AT, pickup=msgspec.structs.replace(_PICKUP, status="ready")),
    "pickup.collected": m.PickupCollected(
        event_id=EVENT_ID, occurred_at=AT,
        pickup=msgspec.structs.replace(
            _PICKUP, status="collected",
            lines=[PickupLine(sku="SKU-JACKET-1000", quantity=1, source_location_id="ST-BERGEN-SENTRUM", collected=1)],
        ),
    ),
    "pickup.cancelled": m.PickupCancelled(
        event_id=EVENT_ID, occurred_at=AT, pickup=msgspec.structs.replace(_PICKUP, status="cancelled"),
        reason="customer request",
    ),
    "pickup.no_show": m.PickupNoShow(event_id=EVENT_ID, occurred_at=AT, pickup=msgspec.structs.replace(_PICKUP, status="no_show")),
    "pickup.rejected": m.PickupRejected(
        event_id=EVENT_ID, occurred_at=AT, command="pickup.book", pickup_id="pu-2026-000778",
        reason="slot_unavailable", detail="the slot is full; choose another",
    ),
    "reservation.create": m.ReservationCreateMessage(
        message_id="msg-0001", reservation_id="ord-2026-000123", location_id="ST-BERGEN-SENTRUM",
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=2)], channel="webshop",
        external_ref="ORDER-4711", ttl_seconds=900,
    ),
    "reservation.cancel": m.ReservationCancelMessage(
        message_id="msg-0002", reservation_id="ord-2026-000123", reason="customer changed mind"
    ),
    "reservation.fulfil": m.ReservationFulfilMessage(
        message_id="msg-0003", reservation_id="ord-2026-000123",
        lines=[ReservationLineIn(sku="SKU-JACKET-1000", quantity=1)],
    ),
    "stock.movements": m.StockMovementsMessage(
        message_id="msg-0004", actor="erp",
        movements=[
            Receipt(sku="SKU-JACKET-1000", location_id="ST-BERGEN-SENTRUM", quantity=12, reference="PO-99"),
            Sale(sku="SKU-JACKET-1000", location_id="ST-BERGEN-SENTRUM", quantity=1, reference="POS-1"),
        ],
    ),
    "reservation.confirmed": m.ReservationConfirmed(event_id=EVENT_ID, occurred_at=AT, reservation=_RESERVATION),
    "reservation.rejected": m.ReservationRejected(
        event_id=EVENT_ID, occurred_at=AT, command="reservation.create", reservation_id="ord-2026-000124",
        location_id=None, reason="insufficient_stock", detail="not enough available stock for SKU-JACKET-1000",
        short_lines=[ShortLine(sku="SKU-JACKET-1000", requested=3, available=1)],
    ),
    "reservation.cancelled": m.ReservationCancelled(
        event_id=EVENT_ID, occurred_at=AT, reservation=msgspec.structs.replace(_RESERVATION, status="cancelled")
    ),
    "reservation.expired": m.ReservationExpired(
        event_id=EVENT_ID, occurred_at=AT, reservation=msgspec.structs.replace(_RESERVATION, status="expired")
    ),
    "reservation.fulfilled": m.ReservationFulfilled(
        event_id=EVENT_ID, occurred_at=AT, reservation=msgspec.structs.replace(
            _RESERVATION, status="fulfilled",
            lines=[ReservationLine(sku="SKU-JACKET-1000", quantity=2, fulfilled=2)],
        ),
    ),
    "availability.changed": m.AvailabilityChanged(
        event_id=EVENT_ID, occurred_at=AT, sku="SKU-JACKET-1000", location_id="ST-BERGEN-SENTRUM", on_hand=12,
        reserved=2, available=9, status="in_stock",
    ),
    "stock.shortage": m.StockShortage(
        event_id=EVENT_ID, occurred_at=AT, sku="SKU-JACKET-1000", location_id="ST-BERGEN-SENTRUM", on_hand=1,
        reserved=2, short_by=1,
    ),
    "stock.movements.applied": m.StockMovementsApplied(
        event_id=EVENT_ID, occurred_at=AT, correlation_id="c-42", message_id="msg-0004",
        result=MovementsPosted(
            movements=[_MOVEMENT],
            balances=[BalanceView(sku="SKU-JACKET-1000", location_id="ST-BERGEN-SENTRUM",
                                  on_hand=12, reserved=0, incoming=0, safety_stock=1, available=11)],
            shortages=[],
        ),
    ),
    "stock.movements.rejected": m.StockMovementsRejected(
        event_id=EVENT_ID, occurred_at=AT, correlation_id="c-43", message_id="msg-0005", reason="unknown_location",
        detail="location 'ST-NOWHERE' does not exist", field="movements[0].location_id",
    ),
}  # fmt: skip


def tag_of(struct_type: type[msgspec.Struct]) -> str:
    tag = struct_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def generate() -> dict[str, bytes]:
    """Every file of proto/, by relative path."""
    files: dict[str, bytes] = {}
    for struct_type in (*m.COMMAND_TYPES, *m.EVENT_TYPES):
        tag = tag_of(struct_type)
        files[f"schemas/{tag}.json"] = _pretty(_clean_docs(msgspec.json.schema(struct_type)))
        files[f"examples/{tag}.json"] = _pretty(msgspec.to_builtins(EXAMPLES[tag]))
    files["asyncapi.json"] = _pretty(asyncapi())
    return files


def asyncapi() -> dict[str, Any]:
    all_types = (*m.COMMAND_TYPES, *m.EVENT_TYPES)
    _, components = msgspec.json.schema_components(
        all_types, ref_template="#/components/schemas/{name}"
    )
    components = _clean_docs(components)
    messages = {
        tag_of(t): {
            "name": tag_of(t),
            "title": tag_of(t),
            "summary": (t.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{t.__name__}"},
            "bindings": {"amqp": {"messageType": tag_of(t), "bindingVersion": "0.3.0"}},
            "examples": [{"name": "golden", "payload": msgspec.to_builtins(EXAMPLES[tag_of(t)])}],
        }
        for t in all_types
    }

    def refs(types: tuple[type[msgspec.Struct], ...]) -> dict[str, Any]:
        return {tag_of(t): {"$ref": f"#/components/messages/{tag_of(t)}"} for t in types}

    def exchange(name: str) -> dict[str, Any]:
        return {"amqp": {"is": "routingKey", "exchange": {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}, "bindingVersion": "0.3.0"}}  # fmt: skip

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Inventory service messages",
            "version": "1.0.0",
            "description": (
                "Commands in on the topic exchange inventory.commands (routing key = the "
                "message type), consumed from the quorum queue inventory.commands; events out "
                "on inventory.events. Every message carries a message_id; a command delivered "
                "twice has one effect and gets identical replies. AMQP reply_to and "
                "correlation_id are honoured: the outcome is also sent to reply_to. Invalid "
                "commands are dead-lettered to inventory.commands.dead-letter with the reason "
                "in the x-inventory-error header."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": {
            "commands": {
                "address": "{message_type}",
                "description": f"Exchange {topology.COMMANDS_EXCHANGE}; queue {topology.COMMANDS_QUEUE}.",
                "parameters": {"message_type": {"description": "The command's type."}},
                "messages": refs(m.COMMAND_TYPES),
                "bindings": exchange(topology.COMMANDS_EXCHANGE),
            },
            "events": {
                "address": "{event_type}",
                "description": f"Exchange {topology.EVENTS_EXCHANGE}: bind a queue with e.g. 'reservation.*'.",
                "parameters": {"event_type": {"description": "The event's type."}},
                "messages": refs(m.EVENT_TYPES),
                "bindings": exchange(topology.EVENTS_EXCHANGE),
            },
            "replies": {
                "address": None,
                "description": "The AMQP reply_to queue of a command: the same payload as its event.",
                "messages": refs(m.EVENT_TYPES),
            },
        },
        "operations": {
            "receiveCommands": {"action": "receive", "channel": {"$ref": "#/channels/commands"}},
            "sendEvents": {"action": "send", "channel": {"$ref": "#/channels/events"}},
            "sendReplies": {"action": "send", "channel": {"$ref": "#/channels/replies"}},
        },
        "components": {"messages": messages, "schemas": components},
    }  # fmt: skip


def _clean_docs(schema: Any) -> Any:
    """Descriptions as ``inspect.cleandoc`` gives them: msgspec 0.23 dedents docstrings,
    0.22 did not, and proto/ must not depend on which one is installed."""
    if isinstance(schema, dict):
        return {
            key: inspect.cleandoc(value)
            if key == "description" and isinstance(value, str)
            else _clean_docs(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_clean_docs(item) for item in schema]
    return schema


def _pretty(value: object) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def write(directory: Path = PROTO_DIR) -> list[str]:
    """Write every generated file; returns the relative paths that changed."""
    changed = []
    for relative, content in generate().items():
        path = directory / relative
        if not path.exists() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            changed.append(relative)
    return changed


if __name__ == "__main__":
    changed = write()
    print(f"proto/: {len(changed)} file(s) written" + "".join(f"\n  {c}" for c in changed))
    sys.exit(0)
