"""The staff page's sessions: sign in (throttled), resume, leave a message, sign out.

Sessions and failure counts live in PostgreSQL, so every replica knows every session
and counts every failure, and times are the database's clock, one for all replicas.
Rules: ``service/domain/staff_sessions.py``.
"""

from __future__ import annotations

from service.domain.staff_sessions import (
    Flash,
    SessionPolicy,
    SignInRefused,
    SignInThrottled,
    StaffSession,
    ThrottlePolicy,
    may_sign_in,
    throttle_subjects,
)
from service.logging import get_logger
from service.storage.api_keys import KeyCache, parse_token
from service.storage.database import Database
from service.storage.pool import Connection
from service.storage.sign_in_failures import SignInFailureRepository
from service.storage.staff_sessions import (
    MAX_ID_LENGTH,
    StaffSessionRepository,
    new_session_id,
)

log = get_logger(__name__)


async def sign_in(
    db: Database,
    keys: KeyCache,
    token: str,
    address: str | None,
    sessions: SessionPolicy,
    throttle: ThrottlePolicy,
) -> str:
    """Open a session for a live staff or admin key; returns its id, for the cookie
    (the database keeps only its hash). Raises SignInThrottled (this address or key
    failed too often lately: the key was not even looked at), SignInRefused (not a
    live staff or admin key: one more failure of the address and the key)."""
    parsed = parse_token(token)
    subjects = throttle_subjects(address, parsed[0] if parsed else None)
    await _refuse_if_throttled(db, subjects, throttle)
    principal = await keys.authenticate(token) if parsed else None
    if principal is None or not may_sign_in(principal):
        await _count_failure(db, subjects, throttle)
        raise SignInRefused("that is not a staff key")
    session_id = new_session_id()
    await _open(db, session_id, principal.key_id, sessions, throttle)
    log.info("staff_signed_in", key_id=principal.key_id)
    return session_id


async def _refuse_if_throttled(db: Database, subjects: list[str], throttle: ThrottlePolicy) -> None:
    async with db.connection() as conn:
        wait_s = await SignInFailureRepository(conn).throttled_for(
            subjects, throttle.max_failures, throttle.window_s
        )
    if wait_s:
        log.warning("staff_sign_in_throttled", subjects=subjects, retry_after_s=wait_s)
        raise SignInThrottled(wait_s)


async def _count_failure(db: Database, subjects: list[str], throttle: ThrottlePolicy) -> None:
    async def work(conn: Connection) -> None:
        await SignInFailureRepository(conn).count_failure(subjects, throttle.window_s)

    await db.run(work)
    log.info("staff_sign_in_refused", subjects=subjects)


async def _open(
    db: Database, session_id: str, key_id: str, sessions: SessionPolicy, throttle: ThrottlePolicy
) -> None:
    async def work(conn: Connection) -> None:
        # Housekeeping first: sessions and failure windows that have ended, so that
        # the tables hold little more than what lives.
        await StaffSessionRepository(conn).delete_ended(sessions.idle_s)
        await SignInFailureRepository(conn).delete_ended(throttle.window_s)
        await StaffSessionRepository(conn).insert(session_id, key_id, sessions.lifetime_s)

    await db.run(work)


async def resume(db: Database, session_id: str, sessions: SessionPolicy) -> StaffSession | None:
    """The live session of ``session_id`` (None: ended, or never was), seen now, with
    the message left for it (taken: shown once)."""
    if not session_id or len(session_id) > MAX_ID_LENGTH:
        return None

    async def work(conn: Connection) -> StaffSession | None:
        return await StaffSessionRepository(conn).resume(session_id, sessions.idle_s)

    return await db.run(work)


async def tell(db: Database, session_id: str, flash: Flash) -> None:
    """Leave ``flash`` for the next page this session loads."""
    await db.run(lambda conn: StaffSessionRepository(conn).tell(session_id, flash))


async def sign_out(db: Database, session_id: str) -> None:
    """End the session: its cookie opens nothing from now on, at any replica."""
    if session_id and len(session_id) <= MAX_ID_LENGTH:
        ended = await db.run(lambda conn: StaffSessionRepository(conn).delete(session_id))
        if ended:
            log.info("staff_signed_out")
