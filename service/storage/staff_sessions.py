"""The staff page's sessions, in PostgreSQL so that every replica shares them.

A session id is 32 random bytes (256 bits), URL-safe in the cookie; the table holds
only its SHA-256. A fast hash is enough for a value no one can guess, and a copy of
the table opens no session.
"""

from __future__ import annotations

import hashlib
import secrets

from service.domain.access import Principal
from service.domain.staff_sessions import Flash, StaffSession
from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("staff_sessions.sql")
MAX_ID_LENGTH = 64  # a cookie longer than any id this module makes is no session


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class StaffSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def insert(self, session_id: str, key_id: str, lifetime_s: int) -> None:
        await self.conn.execute(Q.insert, session_hash(session_id), key_id, float(lifetime_s))

    async def resume(self, session_id: str, idle_s: int) -> StaffSession | None:
        """The live session of ``session_id``, marked as seen now and with its message
        taken (None when it has ended or never was)."""
        row = await self.conn.fetchrow(Q.resume, session_hash(session_id), float(idle_s))
        if row is None:
            return None
        principal = Principal(
            key_id=row["key_id"],
            name=row["name"],
            role=row["role"],
            location_ids=frozenset(row["location_ids"]),
        )
        stored = row["flash"]  # {"text": ..., "error": ...} or NULL
        flash = Flash(str(stored["text"]), bool(stored["error"])) if stored else None
        return StaffSession(principal, flash)

    async def tell(self, session_id: str, flash: Flash) -> None:
        stored = {"text": flash.text, "error": flash.error}
        await self.conn.execute(Q.tell, session_hash(session_id), stored)

    async def delete(self, session_id: str) -> bool:
        deleted: str = await self.conn.execute(Q.delete, session_hash(session_id))
        return deleted != "DELETE 0"

    async def delete_of_key(self, key_id: str) -> None:
        await self.conn.execute(Q.delete_of_key, key_id)

    async def delete_ended(self, idle_s: int) -> None:
        await self.conn.execute(Q.delete_ended, float(idle_s))
