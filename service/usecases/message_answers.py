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

from service.domain.errors import DomainError
from service.domain.reservations import Outcome
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository
from service.storage.outbox import OutboxRepository, reply
from service.storage.pool import Connection

MESSAGE_SCOPE = "amqp.commands"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the answer to a message goes."""

    reply_to: str | None = None
    correlation_id: str | None = None


Answer = tuple[int, bytes]  # (status, reply payload)


async def handle_once(
    db: Database,
    *,
    key: str,
    fingerprint: str,
    delivery: Delivery,
    apply: Callable[[Connection], Awaitable[Answer]],
    refusal: Callable[[DomainError], bytes],
) -> Outcome:
    """Apply a message once; refusals (DomainError from ``apply``) are answered too."""

    async def first(conn: Connection) -> Outcome:
        again = await _answered_before(conn, key, fingerprint, delivery)
        if again is not None:
            return again
        status, payload = await apply(conn)
        await _answer(conn, key, status, payload, delivery)
        return Outcome(status)

    try:
        return await db.run(first)
    except DomainError as error:
        refused = error

    async def refuse(conn: Connection) -> Outcome:
        again = await _answered_before(conn, key, fingerprint, delivery)
        if again is not None:
            return again
        await _answer(conn, key, 422, refusal(refused), delivery)
        return Outcome(422, refused.code, refused.detail, field=refused.field)

    return await db.run(refuse)


async def _answered_before(
    conn: Connection, key: str, fingerprint: str, delivery: Delivery
) -> Outcome | None:
    stored = await IdempotencyRepository(conn).claim_or_stored(MESSAGE_SCOPE, key, fingerprint)
    if stored is None:
        return None
    if not stored.same:
        return Outcome(409, "message_id_reused", f"message id {key!r} was used for another message")
    response = stored.response
    if (
        delivery.reply_to
        and isinstance(response, dict)
        and isinstance(response.get("payload"), str)
    ):
        await OutboxRepository(conn).add(
            [reply(delivery.reply_to, response["payload"].encode(), delivery.correlation_id)]
        )
    return Outcome(stored.status_code, "duplicate", "already processed")


async def _answer(
    conn: Connection, key: str, status: int, payload: bytes, delivery: Delivery
) -> None:
    if delivery.reply_to:
        await OutboxRepository(conn).add(
            [reply(delivery.reply_to, payload, delivery.correlation_id)]
        )
    await IdempotencyRepository(conn).record(
        MESSAGE_SCOPE, key, status, {"payload": payload.decode()}
    )
