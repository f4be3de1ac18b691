"""Idempotency records: a repeated request or message gets the first answer back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import msgspec

from service.domain.errors import IdempotencyKeyReused
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("idempotency.sql")


def fingerprint(request: object) -> str:
    """A stable hash of a decoded request (field order is fixed by its Struct)."""
    return hashlib.sha256(msgspec.json.encode(request)).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    response: object
    same: bool = True  # False: the key was first used for a different request


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def claim(self, scope: str, key: str, request_fingerprint: str) -> StoredAnswer | None:
        """Own ``key`` for this transaction, or return the answer already stored for it.

        Raises IdempotencyKeyReused when the key was used for a different request.
        """
        stored = await self.claim_or_stored(scope, key, request_fingerprint)
        if stored is not None and not stored.same:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a different request",
                field="Idempotency-Key",
            )
        return stored

    async def claim_or_stored(
        self, scope: str, key: str, request_fingerprint: str
    ) -> StoredAnswer | None:
        """Like ``claim``, but a key used for another request is returned with ``same=False``."""
        if await self.insert_key(scope, key, request_fingerprint):
            return None
        stored = await self.stored(scope, key, request_fingerprint)
        assert stored is not None, "a conflicting claim is committed before ON CONFLICT returns"
        return stored

    async def insert_key(self, scope: str, key: str, request_fingerprint: str) -> bool:
        """True when this transaction now owns ``key``; False when it was taken before."""
        return await self.conn.fetchval(Q.insert_key, scope, key, request_fingerprint) is not None

    async def stored(self, scope: str, key: str, request_fingerprint: str) -> StoredAnswer | None:
        row = await self.conn.fetchrow(Q.stored, scope, key)
        if row is None:
            return None
        return StoredAnswer(
            row["status_code"], row["response"], row["fingerprint"] == request_fingerprint
        )

    async def claim_many(self, scope: str, fingerprints: dict[str, str]) -> dict[str, StoredAnswer]:
        """Claim every key at once (in key order); return the stored answers of the keys
        that were taken before. Keys absent from the answer are now owned by this
        transaction."""
        claimed = await self.insert_keys(scope, fingerprints)
        taken = [k for k in sorted(fingerprints) if k not in claimed]
        if not taken:
            return {}
        return await self.stored_many(scope, taken, fingerprints)

    async def insert_keys(self, scope: str, fingerprints: dict[str, str]) -> set[str]:
        """Insert every key in key order (the lock order); returns those now owned."""
        keys = sorted(fingerprints)
        rows = await self.conn.fetch(Q.insert_keys, scope, keys, [fingerprints[k] for k in keys])
        return {r["key"] for r in rows}

    async def stored_many(
        self, scope: str, keys: list[str], fingerprints: dict[str, str]
    ) -> dict[str, StoredAnswer]:
        rows = await self.conn.fetch(Q.stored_many, scope, keys)
        return {
            r["key"]: StoredAnswer(
                r["status_code"], r["response"], r["fingerprint"] == fingerprints[r["key"]]
            )
            for r in rows
        }

    async def record(self, scope: str, key: str, status_code: int, response: object) -> None:
        await self.conn.execute(Q.record, scope, key, status_code, response)

    async def forget_older_than(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` records made before ``cutoff``; returns how many."""
        result: str = await self.conn.execute(Q.forget_older_than, cutoff, limit)
        return int(result.split()[-1])
