"""``inventory verify-ledger``: the invariants of the ledger, checked in the database."""

from __future__ import annotations

from service.storage.database import Database
from service.storage.ledger import LedgerRepository
from service.storage.reservations import ReservationRepository


async def verify_ledger(db: Database, limit: int = 1000) -> list[str]:
    """One line per balance that breaks an invariant (empty when all hold):
    each balance equals the sum of its movements, and its reserved figure equals
    the units of its active reservations."""
    async with db.connection() as conn:
        ledger = await LedgerRepository(conn).ledger_mismatches(limit)
        reserved = await ReservationRepository(conn).reserved_mismatches(limit)
    problems = [
        f"MISMATCH {r['location_id']} {r['sku']}: on_hand {r['on_hand']} vs {r['movements_on_hand']}, "
        f"reserved {r['reserved']} vs {r['movements_reserved']}, "
        f"incoming {r['incoming']} vs {r['movements_incoming']} (balance vs sum of movements)"
        for r in ledger
    ]
    problems += [
        f"MISMATCH {r['location_id']} {r['sku']}: reserved {r['reserved']} vs "
        f"{r['reservations_reserved']} (balance vs active reservations)"
        for r in reserved
    ]
    return problems
