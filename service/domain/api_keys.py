"""An API key's lifetime: active until it is revoked or its expiry passes.

Rotation issues a successor (same name, role and stores) and shortens the old
key's life to the end of an overlap, so clients switch over without downtime:
both keys work during the overlap, only the successor after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from service.domain.errors import Conflict, InvalidInput, NotFound

KeyState = Literal["active", "expired", "revoked"]
DEFAULT_OVERLAP = timedelta(days=7)


class KeyNotFound(NotFound):
    code = "key_not_found"


class KeyAlreadyRotated(Conflict):
    code = "key_already_rotated"


def key_state(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> KeyState:
    """A key is refused from the instant of its expiry on, as from its revocation."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def check_new_expiry(expires_at: datetime | None, now: datetime) -> None:
    """A new key must live a while. Raises InvalidInput."""
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the expiry of a new key must be in the future", field="expires")


def end_of_overlap(expires_at: datetime | None, now: datetime, overlap: timedelta) -> datetime:
    """The old key's expiry after a rotation: the end of the overlap, never later
    than the expiry it already had. Raises InvalidInput for a negative overlap."""
    if overlap < timedelta(0):
        raise InvalidInput("the overlap cannot be negative", field="overlap")
    end = now + overlap
    return end if expires_at is None else min(expires_at, end)
