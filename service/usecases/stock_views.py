"""The ledger as the wire shows it: movements in, balances and recorded movements out,
each converted in one place."""

from __future__ import annotations

import msgspec

from service.contracts import stock as wire
from service.domain import ledger
from service.domain.ledger import Balance

# Each wire movement and the domain's value of it: the same fields under the same
# names (tests/unit/test_stock_views.py holds them equal).
DOMAIN_MOVEMENT: dict[type[wire.Movement], type[ledger.Movement]] = {
    wire.Receipt: ledger.Receipt,
    wire.Sale: ledger.Sale,
    wire.Return: ledger.Return,
    wire.WriteOff: ledger.WriteOff,
    wire.Adjustment: ledger.Adjustment,
    wire.StockCount: ledger.StockCount,
    wire.Transfer: ledger.Transfer,
    wire.TransferReceipt: ledger.TransferReceipt,
}


def movement_of(movement: wire.Movement) -> ledger.Movement:
    return DOMAIN_MOVEMENT[type(movement)](**msgspec.structs.asdict(movement))


def balance_view(balance: Balance) -> wire.BalanceView:
    return wire.BalanceView(
        sku=balance.sku,
        location_id=balance.location_id,
        on_hand=balance.on_hand,
        reserved=balance.reserved,
        incoming=balance.incoming,
        safety_stock=balance.safety_stock,
        available=balance.available,
    )


def recorded_view(row: ledger.RecordedMovement) -> wire.RecordedMovement:
    return wire.RecordedMovement(
        movement_id=row.movement_id,
        location_id=row.location_id,
        sku=row.sku,
        kind=row.kind,  # type: ignore[arg-type]  # the table's CHECK holds it to the kinds
        on_hand_delta=row.on_hand_delta,
        reserved_delta=row.reserved_delta,
        incoming_delta=row.incoming_delta,
        reference=row.reference,
        reason=row.reason,
        actor=row.actor,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
    )
