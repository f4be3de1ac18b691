"""API keys: ``inv_<key_id>_<secret>``; the database holds the SHA-256 of the secret.

The secret is 32 random URL-safe characters (192 bits), so a fast hash is
enough: no one can guess it, and a leaked table does not reveal keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from service.domain.access import Principal, Role
from service.domain.api_keys import KeyState, key_state
from service.storage.database import Database
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("api_keys.sql")
PREFIX = "inv"
_NEVER = float("inf")


@dataclass(frozen=True, slots=True)
class StoredKey:
    principal: Principal
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    replaces_key_id: str | None = None  # the key this one was issued to replace (rotation)

    def state_at(self, now: datetime) -> KeyState:
        return key_state(self.revoked_at, self.expires_at, now)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(key_id, secret, token) for a new key."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    return key_id, secret, f"{PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class ApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def insert(
        self,
        key_id: str,
        name: str,
        role: Role,
        location_ids: list[str],
        secret: str,
        *,
        expires_at: datetime | None = None,
        replaces_key_id: str | None = None,
    ) -> bool:
        inserted = await self.conn.fetchval(
            Q.insert,
            key_id,
            name,
            role,
            location_ids,
            hash_secret(secret),
            expires_at,
            replaces_key_id,
        )
        return inserted is not None

    async def get(self, key_id: str) -> StoredKey | None:
        row = await self.conn.fetchrow(Q.get, key_id)
        return None if row is None else _stored(row)

    async def lock(self, key_id: str) -> StoredKey | None:
        row = await self.conn.fetchrow(Q.lock, key_id)
        return None if row is None else _stored(row)

    async def live_successor(self, key_id: str, now: datetime) -> str | None:
        """The id of an active key issued to replace ``key_id``, if there is one."""
        successor: str | None = await self.conn.fetchval(Q.live_successor, key_id, now)
        return successor

    async def list_all(self) -> list[StoredKey]:
        return [_stored(r) for r in await self.conn.fetch(Q.list_all)]

    async def revoke(self, key_id: str) -> bool:
        revoked = await self.conn.fetchval(Q.revoke, key_id)
        await self.notify_keys_changed(key_id)
        return revoked is not None

    async def set_expiry(self, key_id: str, expires_at: datetime | None) -> bool:
        """False when there is no such key or it is revoked (revocation is final)."""
        changed = await self.conn.fetchval(Q.set_expiry, key_id, expires_at)
        await self.notify_keys_changed(key_id)
        return changed is not None

    async def notify_keys_changed(self, key_id: str) -> None:
        """Tell every replica's key cache to forget ``key_id`` (sent at commit)."""
        await self.conn.execute(Q.notify_keys_changed, key_id)


def _stored(row: asyncpg.Record) -> StoredKey:
    principal = Principal(
        key_id=row["key_id"],
        name=row["name"],
        role=row["role"],
        location_ids=frozenset(row["location_ids"]),
        lineage_id=row.get("lineage_id"),
    )
    return StoredKey(
        principal,
        row["secret_hash"],
        row["created_at"],
        row["revoked_at"],
        row["expires_at"],
        row["replaces_key_id"],
    )


class KeyCache:
    """Verified keys in memory: a request costs one SHA-256 and a dict lookup.

    Entries live ``ttl_s`` seconds; a revocation or a new expiry reaches every
    replica at once through ``NOTIFY inventory_keys`` and at the latest after the
    TTL. An expiry itself needs no message: every entry carries the key's expiry,
    checked against this replica's clock on every request, so an expired key is
    refused on every replica from that instant on (give or take clock skew).
    """

    def __init__(self, db: Database, ttl_s: float = 30.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, StoredKey | None]] = {}
        # token -> (cache deadline, monotonic; key expiry, epoch seconds; principal), no hash
        self._verified: dict[str, tuple[float, float, Principal]] = {}

    def remembered(self, token: str) -> Principal | None:
        """The key's principal when it was verified lately and has not expired since
        (no await: most requests)."""
        verified = self._verified.get(token)
        if verified is not None and verified[0] > time.monotonic() and verified[1] > time.time():
            return verified[2]
        return None

    async def authenticate(self, token: str) -> Principal | None:
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        stored = await self._verify(token)
        if stored is None:
            return None
        if len(self._verified) > 10_000:
            self._verified.clear()
        expires = _NEVER if stored.expires_at is None else stored.expires_at.timestamp()
        self._verified[token] = (time.monotonic() + self.ttl_s, expires, stored.principal)
        return stored.principal

    async def _verify(self, token: str) -> StoredKey | None:
        """The stored key of a token that is well-formed, matches and is active now."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        stored = await self._lookup(key_id)
        if stored is None or stored.state_at(datetime.now(UTC)) != "active":
            return None
        if not hmac.compare_digest(stored.secret_hash, hash_secret(secret)):
            return None
        return stored

    async def _lookup(self, key_id: str) -> StoredKey | None:
        now = time.monotonic()
        cached = self._entries.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.db.connection() as conn:
            stored = await ApiKeyRepository(conn).get(key_id)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key_id] = (now + self.ttl_s, stored)
        return stored

    def forget(self, key_id: str) -> None:
        """A key changed (revoked, a new expiry): verify it afresh; ``*`` forgets every key."""
        if key_id == "*":
            self._entries.clear()
            self._verified.clear()
            return
        self._entries.pop(key_id, None)
        for token in [t for t, (*_, p) in self._verified.items() if p.key_id == key_id]:
            del self._verified[token]
