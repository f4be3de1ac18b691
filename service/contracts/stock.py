"""Stock movements posted by integrations (ERP, WMS, POS) and the ledger's answers."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.contracts.common import (
    AwareDatetime,
    Count,
    Identifier,
    LocationId,
    Quantity,
    Reference,
    SignedQuantity,
    Sku,
)


class _Movement(msgspec.Struct, kw_only=True, tag_field="kind"):
    """Nested in a batch; unknown fields are ignored so that producers may add fields."""

    sku: Sku
    location_id: LocationId
    reference: Reference | None = None
    occurred_at: AwareDatetime | None = None


class Receipt(_Movement, tag="receipt"):
    """Goods received: on_hand rises."""

    quantity: Quantity


class Sale(_Movement, tag="sale"):
    """Goods sold at a till: on_hand falls, even below what the ledger thought was there."""

    quantity: Quantity


class Return(_Movement, tag="return"):
    """Goods returned into sellable stock: on_hand rises."""

    quantity: Quantity


class WriteOff(_Movement, tag="write_off"):
    """Goods removed from sellable stock: on_hand falls."""

    quantity: Quantity
    reason: Literal["damaged", "theft", "expired", "lost", "other"] = "damaged"


class Adjustment(_Movement, tag="adjustment"):
    """A signed correction of on_hand (not zero)."""

    quantity: SignedQuantity
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class StockCount(_Movement, tag="count"):
    """A stock count: on_hand becomes ``counted``; the ledger records the difference."""

    counted: Count


class Transfer(_Movement, tag="transfer"):
    """Goods leave ``location_id`` and are incoming at ``to_location_id`` until received."""

    quantity: Quantity
    to_location_id: LocationId
    transfer_id: Identifier


class TransferReceipt(_Movement, tag="transfer_receipt"):
    """Goods of transfer ``transfer_id`` arrive at ``location_id`` (the destination)."""

    quantity: Quantity
    transfer_id: Identifier


Movement = Receipt | Sale | Return | WriteOff | Adjustment | StockCount | Transfer | TransferReceipt
MovementKind = Literal[
    "receipt",
    "sale",
    "return",
    "write_off",
    "adjustment",
    "count",
    "transfer_out",
    "transfer_in",
    "transfer_receipt",
    "reserve",
    "release",
    "fulfil",
]


class PostMovements(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A batch of movements: all are applied, or none."""

    movements: Annotated[list[Movement], msgspec.Meta(min_length=1)]
    actor: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class RecordedMovement(msgspec.Struct, kw_only=True):
    movement_id: int
    location_id: str
    sku: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    incoming_delta: int
    reference: str | None
    reason: str | None
    actor: str
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime


class BalanceView(msgspec.Struct, kw_only=True):
    sku: str
    location_id: str
    on_hand: int
    reserved: int
    incoming: int
    safety_stock: int
    available: int


class Shortage(msgspec.Struct, kw_only=True):
    """on_hand fell below reserved: some reservations cannot be honoured."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    short_by: int


class MovementsPosted(msgspec.Struct, kw_only=True):
    movements: list[RecordedMovement]
    balances: list[BalanceView]
    shortages: list[Shortage]


class MovementPage(msgspec.Struct, kw_only=True):
    """One page of a balance's ledger, newest first."""

    sku: str
    location_id: str
    movements: list[RecordedMovement]
    next_cursor: str | None


class SafetyStockIn(msgspec.Struct, forbid_unknown_fields=True):
    """``null`` returns the balance to its location's default."""

    safety_stock: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None
