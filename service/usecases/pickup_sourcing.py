"""Where a cart's lines would come from: the store, or a supplying warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from service.domain import pickups as rules
from service.domain.ledger import Balance, BalanceKey
from service.domain.pickup_slots import SlotRules
from service.domain.pickups import LineSource
from service.domain.reservations import SkuQuantity
from service.storage.ledger import LedgerRepository
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection


async def source_cart(
    conn: Connection,
    store_id: str,
    lines: Sequence[SkuQuantity],
    now: datetime,
    slot_rules: SlotRules,
) -> tuple[list[LineSource], dict[str, int]]:
    """Where each line would come from, and the most any one source has of each SKU
    (read without locks; the reservation re-checks)."""
    suppliers = await PickupRepository(conn).suppliers(store_id)
    balances = await balances_for(
        conn, [store_id, *(w for w, _ in suppliers)], [x.sku for x in lines]
    )
    sources = rules.source_lines(
        lines, store_id, balances, suppliers, now, timedelta(minutes=slot_rules.prep_minutes)
    )
    best: dict[str, int] = {}
    for balance in balances.values():
        best[balance.sku] = max(best.get(balance.sku, 0), balance.available)
    return sources, best


async def balances_for(
    conn: Connection, location_ids: list[str], skus: list[str]
) -> dict[BalanceKey, Balance]:
    found = await LedgerRepository(conn).balances_of_skus(skus)
    wanted = set(location_ids)
    return {b.key: b for b in found if b.location_id in wanted}
