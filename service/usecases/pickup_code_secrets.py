"""The pickup-code secrets in force, and which of them the live pickups still need.

After a rotation (INVENTORY_PICKUP_CODE_SECRET set to a new secret, the old one in
INVENTORY_PICKUP_CODE_SECRET_PREVIOUS) the previous secret is needed for as long
as a pickup whose code it made can still be collected: booked or ready. Once none
is, it can be removed; ``inventory pickup-secrets`` says when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from service.domain.pickups import CodeSecrets, secret_id
from service.settings import Settings
from service.storage.database import Database
from service.storage.pickups import PickupRepository

SecretRole = Literal["current", "previous", "missing"]


@dataclass(frozen=True, slots=True)
class SecretUse:
    """Live pickups whose code a secret made. ``missing``: a secret no longer configured
    (``secret_id`` None: booked before migration 0008 recorded it); those codes cannot
    be verified, so those pickups cannot be collected."""

    role: SecretRole
    secret_id: str | None
    live: int
    last_hold_until: datetime | None


def code_secrets_of(settings: Settings) -> CodeSecrets:
    return CodeSecrets(settings.pickup_code_secret, settings.pickup_code_secret_previous)


async def secrets_in_use(db: Database, secrets: CodeSecrets) -> list[SecretUse]:
    """One line per configured secret (zero when no live pickup needs it), then one per
    missing secret that live pickups need."""
    async with db.connection() as conn:
        codes = await PickupRepository(conn).live_codes()
    tally: dict[tuple[SecretRole, str | None], tuple[int, datetime | None]] = {
        ("current", secrets.current_id): (0, None)
    }
    if secrets.previous is not None:
        tally["previous", secret_id(secrets.previous)] = (0, None)
    for recorded_id, nonce, code_hash, hold_until in codes:
        secret = secrets.which(recorded_id, nonce, code_hash)
        key: tuple[SecretRole, str | None]
        if secret is None:
            key = ("missing", recorded_id)
        else:
            key = ("current" if secret == secrets.current else "previous", secret_id(secret))
        live, last = tally.get(key, (0, None))
        tally[key] = (live + 1, hold_until if last is None else max(last, hold_until))
    return [SecretUse(role, sid, live, last) for (role, sid), (live, last) in tally.items()]
