"""The ledger's rules: what each movement does to a balance, and what is available.

A balance is (on_hand, reserved, incoming, safety_stock).
``available = max(0, on_hand - reserved - safety_stock)``.
Physical events are never refused for lack of stock: on_hand may fall below
reserved (or below zero); available then clamps at 0 and a shortage is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from service.domain.errors import InvalidInput, TransferExists

BalanceKey = tuple[str, str]  # (location_id, sku): the order rows are locked in
Status = Literal["in_stock", "low_stock", "out_of_stock"]


@dataclass(frozen=True, slots=True)
class Balance:
    location_id: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    incoming: int = 0
    safety_stock: int = 0

    @property
    def key(self) -> BalanceKey:
        return (self.location_id, self.sku)

    @property
    def available(self) -> int:
        return available(self.on_hand, self.reserved, self.safety_stock)

    @property
    def short_by(self) -> int:
        """Units reserved that are not on hand (0 when every reservation is covered)."""
        return max(0, self.reserved - self.on_hand)

    def moved(self, delta: Delta) -> Balance:
        return replace(
            self,
            on_hand=self.on_hand + delta.on_hand,
            reserved=self.reserved + delta.reserved,
            incoming=self.incoming + delta.incoming,
        )


@dataclass(frozen=True, slots=True)
class Delta:
    """One ledger movement row, before it is stored."""

    location_id: str
    sku: str
    kind: str
    on_hand: int = 0
    reserved: int = 0
    incoming: int = 0
    reference: str | None = None
    reason: str | None = None

    @property
    def key(self) -> BalanceKey:
        return (self.location_id, self.sku)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Movement:
    """A physical stock event at one balance, as an integration reports it."""

    sku: str
    location_id: str
    reference: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(_Movement):
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Sale(_Movement):
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(_Movement):
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOff(_Movement):
    quantity: int
    reason: str = "damaged"


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment(_Movement):
    quantity: int  # signed
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCount(_Movement):
    counted: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(_Movement):
    """Out of ``location_id`` now, incoming at ``to_location_id`` until received."""

    quantity: int
    to_location_id: str
    transfer_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferReceipt(_Movement):
    quantity: int
    transfer_id: str


Movement = Receipt | Sale | Return | WriteOff | Adjustment | StockCount | Transfer | TransferReceipt


@dataclass(frozen=True, slots=True)
class RecordedMovement:
    """A movement row as the ledger stored it."""

    movement_id: int
    location_id: str
    sku: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    incoming_delta: int
    reference: str | None
    reason: str | None
    actor: str
    occurred_at: datetime
    recorded_at: datetime


def available(on_hand: int, reserved: int, safety_stock: int) -> int:
    return max(0, on_hand - reserved - safety_stock)


def status(available_units: int, low_stock_threshold: int) -> Status:
    if available_units <= 0:
        return "out_of_stock"
    if available_units <= low_stock_threshold:
        return "low_stock"
    return "in_stock"


def touched_keys(movement: Movement) -> list[BalanceKey]:
    keys = [(movement.location_id, movement.sku)]
    if isinstance(movement, Transfer):
        keys.append((movement.to_location_id, movement.sku))
    return keys


def deltas_for(movement: Movement, current: Balance) -> list[Delta]:
    """The ledger rows one movement writes, given the balance it applies to now.

    Raises InvalidInput for a movement that makes no sense (a zero adjustment,
    a transfer to its own location).
    """
    ref = movement.reference
    loc, sku = movement.location_id, movement.sku
    match movement:
        case Receipt(quantity=q):
            return [Delta(loc, sku, "receipt", on_hand=q, reference=ref)]
        case Return(quantity=q):
            return [Delta(loc, sku, "return", on_hand=q, reference=ref)]
        case Sale(quantity=q):
            return [Delta(loc, sku, "sale", on_hand=-q, reference=ref)]
        case WriteOff(quantity=q, reason=reason):
            return [Delta(loc, sku, "write_off", on_hand=-q, reference=ref, reason=reason)]
        case Adjustment(quantity=q, reason=reason):
            if q == 0:
                raise InvalidInput("an adjustment must change on_hand", field="quantity")
            return [Delta(loc, sku, "adjustment", on_hand=q, reference=ref, reason=reason or None)]
        case StockCount(counted=counted):
            return [Delta(loc, sku, "count", on_hand=counted - current.on_hand, reference=ref)]
        case Transfer():
            return _transfer_deltas(movement)
        case TransferReceipt(quantity=q, transfer_id=tid):
            return [
                Delta(
                    loc,
                    sku,
                    "transfer_receipt",
                    on_hand=q,
                    incoming=-q,
                    reference=ref or tid,
                    reason=f"transfer {tid}",
                )
            ]
    raise AssertionError(f"unhandled movement {movement!r}")  # pragma: no cover


def _transfer_deltas(transfer: Transfer) -> list[Delta]:
    """Out of the source now, incoming at the destination until it is received."""
    if transfer.to_location_id == transfer.location_id:
        raise InvalidInput("a transfer needs two locations", field="to_location_id")
    reference = transfer.reference or transfer.transfer_id
    reason = f"transfer {transfer.transfer_id}"
    return [
        Delta(
            transfer.location_id,
            transfer.sku,
            "transfer_out",
            on_hand=-transfer.quantity,
            reference=reference,
            reason=reason,
        ),
        Delta(
            transfer.to_location_id,
            transfer.sku,
            "transfer_in",
            incoming=transfer.quantity,
            reference=reference,
            reason=reason,
        ),
    ]


@dataclass(slots=True)
class Plan:
    """The rows a batch writes and the balances it leaves."""

    deltas: list[Delta]
    balances: dict[BalanceKey, Balance]

    def shortages(self) -> list[Balance]:
        touched = {d.key for d in self.deltas if d.on_hand < 0}
        return [b for k, b in sorted(self.balances.items()) if k in touched and b.short_by > 0]


def check_batch(movements: Sequence[Movement]) -> None:
    """What can be refused before touching storage: each movement on its own, and a
    transfer line (transfer_id, sku) named twice. Raises InvalidInput / TransferExists."""
    seen: set[tuple[str, str]] = set()
    for index, movement in enumerate(movements):
        try:
            deltas_for(movement, Balance(movement.location_id, movement.sku))
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, field=f"movements[{index}].{exc.field}") from None
        if isinstance(movement, Transfer):
            line = (movement.transfer_id, movement.sku)
            if line in seen:
                raise TransferExists(
                    f"transfer {movement.transfer_id!r} names sku {movement.sku!r} twice",
                    field=f"movements[{index}].transfer_id",
                )
            seen.add(line)


def plan_movements(movements: Sequence[Movement], balances: dict[BalanceKey, Balance]) -> Plan:
    """Apply ``movements`` in order to copies of ``balances`` (which hold every touched key).

    Raises InvalidInput with the field path of the first bad movement.
    """
    state = dict(balances)
    deltas: list[Delta] = []
    for index, movement in enumerate(movements):
        try:
            rows = deltas_for(movement, state[(movement.location_id, movement.sku)])
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, field=f"movements[{index}].{exc.field}") from None
        for row in rows:
            state[row.key] = state[row.key].moved(row)
        deltas.extend(rows)
    return Plan(deltas, state)
