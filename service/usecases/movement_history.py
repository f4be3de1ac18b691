"""A balance's ledger, page by page, newest first, with cursors this service issues."""

from __future__ import annotations

import base64
import binascii

from service.contracts.stock import MovementPage
from service.domain.errors import InvalidCursor, LocationNotFound
from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.usecases.stock_views import recorded_view


async def movements_page(
    db: Database, location_id: str, sku: str, *, cursor: str | None, limit: int
) -> MovementPage:
    """One page of a balance's ledger, newest first. Raises LocationNotFound, InvalidCursor."""
    before = decode_cursor(cursor) if cursor else 2**63 - 1
    async with db.connection() as conn:
        ledger = LedgerRepository(conn)
        if location_id not in await ledger.existing_locations([location_id]):
            raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
        rows = await ledger.movements_page(location_id, sku, before=before, limit=limit + 1)
    next_cursor = encode_cursor(rows[limit - 1].movement_id) if len(rows) > limit else None
    return MovementPage(
        sku=sku,
        location_id=location_id,
        movements=[recorded_view(x) for x in rows[:limit]],
        next_cursor=next_cursor,
    )


def encode_cursor(movement_id: int) -> str:
    return base64.urlsafe_b64encode(f"m{movement_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("m"):
            raise ValueError(raw)
        movement_id = int(raw[1:])
        if not 0 < movement_id < 2**63:
            raise ValueError(raw)
        return movement_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("cursor is not one this service issued", field="cursor") from None
