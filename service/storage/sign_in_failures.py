"""Failed sign-ins to the staff page per subject (client address, key id), counted in
PostgreSQL so that a guesser spreading attempts over replicas is counted once."""

from __future__ import annotations

from service.storage.pool import Connection
from service.storage.sql import Queries

Q = Queries("sign_in_failures.sql")


class SignInFailureRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def throttled_for(self, subjects: list[str], max_failures: int, window_s: int) -> int:
        """Seconds until every subject may try again (0: they may now)."""
        seconds = await self.conn.fetchval(Q.throttled_for, subjects, max_failures, float(window_s))
        return max(int(seconds or 0), 0)

    async def count_failure(self, subjects: list[str], window_s: int) -> None:
        """``subjects`` sorted (the locking order)."""
        await self.conn.execute(Q.count_failure, subjects, float(window_s))

    async def delete_ended(self, window_s: int) -> None:
        await self.conn.execute(Q.delete_ended, float(window_s))
