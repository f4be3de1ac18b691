"""The ledger's pure rules: what each movement does to a balance, and what is available."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidInput
from service.domain.ledger import (
    Adjustment,
    Balance,
    Delta,
    Receipt,
    Return,
    Sale,
    StockCount,
    Transfer,
    TransferReceipt,
    WriteOff,
    available,
    deltas_for,
    plan_movements,
    status,
)

EMPTY = Balance("ST-A", "S1")
TEN = Balance("ST-A", "S1", on_hand=10)


def only(rows: list[Delta]) -> tuple[str, int, int, int]:
    assert len(rows) == 1, rows
    row = rows[0]
    return (row.kind, row.on_hand, row.reserved, row.incoming)


def test_a_receipt_adds_its_quantity_to_on_hand() -> None:
    rows = deltas_for(Receipt(sku="S1", location_id="ST-A", quantity=4), EMPTY)
    assert only(rows) == ("receipt", 4, 0, 0)


def test_a_return_adds_its_quantity_to_on_hand() -> None:
    rows = deltas_for(Return(sku="S1", location_id="ST-A", quantity=2), EMPTY)
    assert only(rows) == ("return", 2, 0, 0)


def test_a_sale_takes_its_quantity_from_on_hand() -> None:
    rows = deltas_for(Sale(sku="S1", location_id="ST-A", quantity=3), TEN)
    assert only(rows) == ("sale", -3, 0, 0)


def test_a_write_off_takes_its_quantity_from_on_hand_and_keeps_its_reason() -> None:
    rows = deltas_for(WriteOff(sku="S1", location_id="ST-A", quantity=2, reason="theft"), TEN)
    assert only(rows) == ("write_off", -2, 0, 0)
    assert rows[0].reason == "theft"


@pytest.mark.parametrize("quantity", [5, -5])
def test_an_adjustment_moves_on_hand_by_its_signed_quantity(quantity: int) -> None:
    rows = deltas_for(Adjustment(sku="S1", location_id="ST-A", quantity=quantity), TEN)
    assert only(rows) == ("adjustment", quantity, 0, 0)


def test_an_adjustment_without_a_reason_records_no_reason() -> None:
    rows = deltas_for(Adjustment(sku="S1", location_id="ST-A", quantity=1), TEN)
    assert rows[0].reason is None


@pytest.mark.parametrize(("counted", "delta"), [(14, 4), (6, -4), (10, 0), (0, -10)])
def test_a_count_records_the_difference_between_counted_and_current_on_hand(
    counted: int, delta: int
) -> None:
    rows = deltas_for(StockCount(sku="S1", location_id="ST-A", counted=counted), TEN)
    assert only(rows) == ("count", delta, 0, 0)


def test_a_count_after_on_hand_went_negative_brings_it_back_to_the_counted_figure() -> None:
    short = Balance("ST-A", "S1", on_hand=-3)
    rows = deltas_for(StockCount(sku="S1", location_id="ST-A", counted=2), short)
    assert only(rows) == ("count", 5, 0, 0)


def test_a_transfer_takes_stock_out_of_the_source_and_makes_it_incoming_at_the_destination() -> (
    None
):
    transfer = Transfer(
        sku="S1", location_id="WH-A", quantity=3, to_location_id="ST-B", transfer_id="T-1"
    )
    rows = deltas_for(transfer, Balance("WH-A", "S1", on_hand=10))
    assert [(r.location_id, r.kind, r.on_hand, r.incoming, r.reference) for r in rows] == [
        ("WH-A", "transfer_out", -3, 0, "T-1"),
        ("ST-B", "transfer_in", 0, 3, "T-1"),
    ]


def test_a_transfer_receipt_moves_incoming_into_on_hand() -> None:
    receipt = TransferReceipt(sku="S1", location_id="ST-B", quantity=2, transfer_id="T-1")
    rows = deltas_for(receipt, Balance("ST-B", "S1", incoming=3))
    assert only(rows) == ("transfer_receipt", 2, 0, -2)
    assert rows[0].reference == "T-1"


def test_a_transfer_to_its_own_location_is_refused_naming_the_destination_field() -> None:
    transfer = Transfer(
        sku="S1", location_id="ST-A", quantity=1, to_location_id="ST-A", transfer_id="T-1"
    )
    with pytest.raises(InvalidInput) as refused:
        plan_movements([transfer], {("ST-A", "S1"): TEN})
    assert refused.value.field == "movements[0].to_location_id"


def test_a_zero_adjustment_is_refused_with_the_path_of_the_movement() -> None:
    batch = [
        Receipt(sku="S1", location_id="ST-A", quantity=1),
        Receipt(sku="S1", location_id="ST-A", quantity=1),
        Adjustment(sku="S1", location_id="ST-A", quantity=0),
    ]
    with pytest.raises(InvalidInput) as refused:
        plan_movements(batch, {("ST-A", "S1"): EMPTY})
    assert refused.value.field == "movements[2].quantity"


def test_available_is_on_hand_less_reserved_and_safety_stock() -> None:
    assert available(on_hand=10, reserved=3, safety_stock=2) == 5
    assert Balance("ST-A", "S1", on_hand=10, reserved=3, safety_stock=2).available == 5


@pytest.mark.parametrize(
    ("on_hand", "reserved", "safety_stock"), [(2, 3, 0), (-4, 0, 0), (3, 1, 2), (1, 0, 5)]
)
def test_available_never_goes_below_zero(on_hand: int, reserved: int, safety_stock: int) -> None:
    assert available(on_hand, reserved, safety_stock) == 0


@pytest.mark.parametrize(
    ("units", "expected"),
    [(0, "out_of_stock"), (1, "low_stock"), (3, "low_stock"), (4, "in_stock"), (100, "in_stock")],
)
def test_status_is_low_stock_up_to_and_including_the_threshold(units: int, expected: str) -> None:
    assert status(units, low_stock_threshold=3) == expected


def test_with_a_zero_threshold_any_stock_is_in_stock() -> None:
    assert status(1, low_stock_threshold=0) == "in_stock"
    assert status(0, low_stock_threshold=0) == "out_of_stock"


def test_a_plan_applies_movements_in_order_so_a_count_sees_earlier_movements_of_the_batch() -> None:
    batch = [
        Receipt(sku="S1", location_id="ST-A", quantity=5),
        StockCount(sku="S1", location_id="ST-A", counted=12),
        Sale(sku="S1", location_id="ST-A", quantity=2),
    ]
    plan = plan_movements(batch, {("ST-A", "S1"): TEN})
    assert [d.on_hand for d in plan.deltas] == [5, -3, -2]
    assert plan.balances[("ST-A", "S1")].on_hand == 10


def test_a_sale_below_zero_is_planned_and_reported_as_a_shortage() -> None:
    plan = plan_movements(
        [Sale(sku="S1", location_id="ST-A", quantity=3)],
        {("ST-A", "S1"): Balance("ST-A", "S1", on_hand=1)},
    )
    assert plan.balances[("ST-A", "S1")].on_hand == -2
    assert [(b.key, b.short_by) for b in plan.shortages()] == [(("ST-A", "S1"), 2)]


def test_a_sale_that_leaves_reservations_uncovered_is_a_shortage_of_the_uncovered_units() -> None:
    start = Balance("ST-A", "S1", on_hand=5, reserved=4)
    plan = plan_movements([Sale(sku="S1", location_id="ST-A", quantity=3)], {start.key: start})
    assert [b.short_by for b in plan.shortages()] == [2]
    assert plan.balances[start.key].available == 0


def test_a_sale_that_leaves_reservations_covered_is_no_shortage() -> None:
    start = Balance("ST-A", "S1", on_hand=10, reserved=4)
    plan = plan_movements([Sale(sku="S1", location_id="ST-A", quantity=6)], {start.key: start})
    assert plan.shortages() == []


def test_a_receipt_into_a_short_balance_is_not_reported_again_as_a_shortage() -> None:
    start = Balance("ST-A", "S1", on_hand=-5)
    plan = plan_movements([Receipt(sku="S1", location_id="ST-A", quantity=1)], {start.key: start})
    assert plan.shortages() == []
