"""Database errors caused by the data a client sent become domain errors.

Check constraints a client can break are translated by name (the names are in
the migrations);
data exceptions (SQLSTATE class 22, such as a NUL character in a text value or a
number out of range) become InvalidInput. Anything else is left alone.
"""

from __future__ import annotations

import asyncpg

from service.domain.errors import DomainError, InvalidInput

CONSTRAINT_MESSAGES: dict[str, tuple[str, str | None]] = {
    "transfer_distinct_locations": ("a transfer needs two different locations", "to_location_id"),
    "transfer_settled_within_quantity": ("more received than was sent", "quantity"),
    "location_latitude_range": ("latitude must be between -90 and 90", "latitude"),
    "location_longitude_range": ("longitude must be between -180 and 180", "longitude"),
}


def translate(exc: Exception) -> DomainError | None:
    """The domain error for a database error the client caused, or None."""
    if isinstance(exc, asyncpg.CheckViolationError):
        # Only rules a client can break; a balance rule broken is the service's fault.
        known = CONSTRAINT_MESSAGES.get(exc.constraint_name or "")
        return InvalidInput(known[0], field=known[1]) if known else None
    if isinstance(
        exc, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError
    ):
        return InvalidInput("text may not contain NUL characters or invalid UTF-8")
    if isinstance(exc, asyncpg.DataError):
        return InvalidInput(f"a value cannot be stored: {exc.args[0] if exc.args else exc}")
    return None
