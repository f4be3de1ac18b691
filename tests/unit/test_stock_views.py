"""Wire movements become the domain's movements field for field, and back out as views."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import msgspec
import pytest

from service.contracts import stock as wire
from service.domain import ledger
from service.usecases.stock_views import DOMAIN_MOVEMENT, movement_of, recorded_view

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_every_wire_movement_kind_has_a_domain_movement() -> None:
    assert set(DOMAIN_MOVEMENT) == set(wire.Movement.__args__)


@pytest.mark.parametrize(("wire_kind", "domain_kind"), list(DOMAIN_MOVEMENT.items()))
def test_a_domain_movement_has_exactly_the_fields_of_its_wire_movement(
    wire_kind: type[msgspec.Struct], domain_kind: type[object]
) -> None:
    wire_fields = set(wire_kind.__struct_fields__)
    domain_fields = {f.name for f in dataclasses.fields(domain_kind)}  # type: ignore[arg-type]
    assert wire_fields == domain_fields


def test_a_transfer_keeps_every_field_it_came_with() -> None:
    transfer = wire.Transfer(
        sku="S1",
        location_id="WH-A",
        quantity=3,
        to_location_id="ST-B",
        transfer_id="T-1",
        reference="po-9",
        occurred_at=WHEN,
    )
    assert movement_of(transfer) == ledger.Transfer(
        sku="S1",
        location_id="WH-A",
        quantity=3,
        to_location_id="ST-B",
        transfer_id="T-1",
        reference="po-9",
        occurred_at=WHEN,
    )


def test_an_adjustment_without_a_reason_keeps_the_empty_reason() -> None:
    adjustment = movement_of(wire.Adjustment(sku="S1", location_id="ST-A", quantity=-2))
    assert adjustment == ledger.Adjustment(sku="S1", location_id="ST-A", quantity=-2, reason="")


def test_a_recorded_movement_encodes_as_the_wire_row_it_stands_for() -> None:
    fields = {
        "movement_id": 7,
        "location_id": "ST-A",
        "sku": "S1",
        "kind": "sale",
        "on_hand_delta": -1,
        "reserved_delta": 0,
        "incoming_delta": 0,
        "reference": None,
        "reason": None,
        "actor": "pos",
        "occurred_at": WHEN,
        "recorded_at": WHEN,
    }
    view = recorded_view(ledger.RecordedMovement(**fields))  # type: ignore[arg-type]
    assert msgspec.json.encode(view) == msgspec.json.encode(wire.RecordedMovement(**fields))  # type: ignore[arg-type]
