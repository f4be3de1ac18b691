"""Exactly-once effect for message-borne commands that are not reservation steps.

The message id is claimed in the transaction that applies the message, and the
reply is stored beside it. A redelivery finds the claim, changes nothing, and
gets the stored reply again (sent to its reply_to). A business refusal is also
recorded (in a second transaction, after the first rolled back), so a
redelivered refusal is answered identically instead of being retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from service.domain.errors import DomainError, MessageIdReused
from service.domain.reservations import Outcome
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository, StoredAnswer
from service.storage.outbox import OutboxRepository, reply
from service.storage.pool import Connection

MESSAGE_SCOPE = "amqp.commands"
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the answer to a message goes."""

    reply_to: str | None = None
    correlation_id: str | None = None


Answer = tuple[int, bytes]  # (status, reply payload)
Replay = Callable[[Connection, object], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Once:
    """How one message is applied and answered."""

    key: str
    fingerprint: str
    delivery: Delivery
    apply: Callable[[Connection], Awaitable[Answer]]
    refusal: Callable[[DomainError], bytes]
    # A reply that must not be stored (it holds a pickup code) is stored as
    # ``stored_form(payload)`` and rebuilt by ``replay``, which gives the same payload.
    replay: Replay | None = None
    stored_form: Callable[[bytes], object] | None = None


async def handle_once(db: Database, once: Once) -> Outcome:
    """Apply a message once; refusals (DomainError from ``apply``) are answered too."""

    async def first(conn: Connection) -> Outcome:
        again = await _answered_before(conn, once)
        if again is not None:
            return again
        status, payload = await once.apply(conn)
        stored = once.stored_form(payload) if once.stored_form else {"payload": payload.decode()}
        await _answer(conn, once, status, payload, stored)
        return Outcome(status)

    try:
        return await db.run(first)
    except DomainError as error:
        refused = error

    async def refuse(conn: Connection) -> Outcome:
        again = await _answered_before(conn, once)
        if again is not None:
            return again
        payload = once.refusal(refused)
        await _answer(conn, once, 422, payload, {"payload": payload.decode()})
        return Outcome(422, refused.code, refused.detail, field=refused.field)

    return await db.run(refuse)


async def _answered_before(conn: Connection, once: Once) -> Outcome | None:
    stored = await IdempotencyRepository(conn).claim_or_stored(
        MESSAGE_SCOPE, once.key, once.fingerprint
    )
    if stored is None:
        return None
    if stored.same:
        outcome = Outcome(stored.status_code, "duplicate", "already processed")
        payload = await _stored_reply(conn, once, stored)
    else:
        reused = MessageIdReused(
            f"message id {once.key!r} was used for another message", field="message_id"
        )
        log.warning("message_id_reused", message_id=once.key)
        outcome = Outcome(409, reused.code, reused.detail, field=reused.field)
        payload = once.refusal(reused)
    if once.delivery.reply_to and payload is not None:
        await OutboxRepository(conn).add(
            [reply(once.delivery.reply_to, payload, once.delivery.correlation_id)]
        )
    return outcome


async def _stored_reply(conn: Connection, once: Once, stored: StoredAnswer) -> bytes | None:
    response = stored.response
    if once.replay is not None and stored.status_code < 300:
        return await once.replay(conn, response)
    if isinstance(response, dict) and isinstance(response.get("payload"), str):
        return str(response["payload"]).encode()
    return None


async def _answer(
    conn: Connection, once: Once, status: int, payload: bytes, stored: object
) -> None:
    if once.delivery.reply_to:
        await OutboxRepository(conn).add(
            [reply(once.delivery.reply_to, payload, once.delivery.correlation_id)]
        )
    await IdempotencyRepository(conn).record(MESSAGE_SCOPE, once.key, status, stored)
