"""Exactly-once effect for commands that arrive as messages: the one place that
claims message ids.

The message id is claimed in the transaction that applies the message, and the
reply is stored beside it. A redelivery finds the claim, changes nothing, and gets
the stored reply again (sent to its reply_to); the same id with other content is
refused as ``message_id_reused``. The reservation engine claims the ids of a whole
batch at once (``claim_messages`` inside its flush); every other command is applied
by ``apply_once``. A business refusal is recorded too (in a second transaction, after
the first rolled back), so a redelivered refusal is answered identically instead of
being retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from service.domain.errors import DomainError, MessageIdReused
from service.domain.reservations import Outcome, OutcomeKind
from service.logging import get_logger
from service.storage.database import Database
from service.storage.idempotency import IdempotencyRepository, StoredAnswer
from service.storage.outbox import OutboxRepository, OutgoingMessage, reply
from service.storage.pool import Connection

MESSAGE_SCOPE = "amqp.commands"
log = get_logger(__name__)

# The status stored with a message's answer, in the numbers rows already hold.
STORED_STATUS = {
    OutcomeKind.CREATED: 201,
    OutcomeKind.DONE: 200,
    OutcomeKind.NOT_DUE: 204,
    OutcomeKind.NOT_FOUND: 404,
    OutcomeKind.CONFLICT: 409,
    OutcomeKind.INVALID: 422,
}
_KIND_OF_STORED = {status: kind for kind, status in STORED_STATUS.items()}


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the answer to a message goes."""

    reply_to: str | None = None
    correlation_id: str | None = None


async def claim_messages(conn: Connection, fingerprints: dict[str, str]) -> dict[str, StoredAnswer]:
    """Claim every message id (in id order, the first step of the global lock order);
    return the stored answers of the ids claimed before. A concurrent holder of an id
    makes this wait until it commits (then its answer is returned) or rolls back."""
    return await IdempotencyRepository(conn).claim_many(MESSAGE_SCOPE, fingerprints)


def repeat_outcome(message_id: str, stored: StoredAnswer) -> Outcome:
    """The outcome of a message whose id was claimed before: the first answer again, or
    ``message_id_reused`` when the id came with other content (nothing is applied)."""
    if stored.same:
        kind = _KIND_OF_STORED.get(stored.status_code, OutcomeKind.DONE)
        return Outcome(kind, "duplicate", "already processed")
    log.warning("message_id_reused", message_id=message_id)
    reused = MessageIdReused(
        f"message id {message_id!r} was used for another message", field="message_id"
    )
    return Outcome(OutcomeKind.CONFLICT, reused.code, reused.detail, field=reused.field)


def stored_payload(stored: StoredAnswer) -> bytes | None:
    """The reply kept with an answer, when it was kept whole."""
    response = stored.response
    if isinstance(response, dict) and isinstance(response.get("payload"), str):
        return str(response["payload"]).encode()
    return None


Applied = tuple[OutcomeKind, bytes]  # what a message did, and its reply payload
Replay = Callable[[Connection, object], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class MessageHandler:
    """How one message (not a reservation step) is applied and answered."""

    message_id: str
    fingerprint: str
    delivery: Delivery
    apply: Callable[[Connection], Awaitable[Applied]]
    refusal: Callable[[DomainError], bytes]
    # A reply that must not be stored (it holds a pickup code) is stored as
    # ``stored_form(payload)`` and rebuilt by ``replay``, which gives the same payload.
    replay: Replay | None = None
    stored_form: Callable[[bytes], object] | None = None


async def apply_once(db: Database, handler: MessageHandler) -> Outcome:
    """Apply a message once; refusals (DomainError from ``apply``) are answered too."""

    async def first(conn: Connection) -> Outcome:
        again = await _answered_before(conn, handler)
        if again is not None:
            return again
        kind, payload = await handler.apply(conn)
        stored = handler.stored_form(payload) if handler.stored_form else _whole(payload)
        await _answer(conn, handler, kind, payload, stored)
        return Outcome(kind)

    try:
        return await db.run(first)
    except DomainError as error:
        refused = error

    async def refuse(conn: Connection) -> Outcome:
        again = await _answered_before(conn, handler)
        if again is not None:
            return again
        payload = handler.refusal(refused)
        await _answer(conn, handler, OutcomeKind.INVALID, payload, _whole(payload))
        return Outcome(OutcomeKind.INVALID, refused.code, refused.detail, field=refused.field)

    return await db.run(refuse)


async def _answered_before(conn: Connection, handler: MessageHandler) -> Outcome | None:
    key = handler.message_id
    stored = (await claim_messages(conn, {key: handler.fingerprint})).get(key)
    if stored is None:
        return None
    outcome = repeat_outcome(key, stored)
    if not stored.same:
        payload: bytes | None = handler.refusal(MessageIdReused(outcome.detail, field="message_id"))
    elif handler.replay is not None and outcome.ok:
        payload = await handler.replay(conn, stored.response)
    else:
        payload = stored_payload(stored)
    if handler.delivery.reply_to and payload is not None:
        await OutboxRepository(conn).add([_reply(handler, payload)])
    return outcome


async def _answer(
    conn: Connection, handler: MessageHandler, kind: OutcomeKind, payload: bytes, stored: object
) -> None:
    if handler.delivery.reply_to:
        await OutboxRepository(conn).add([_reply(handler, payload)])
    await IdempotencyRepository(conn).record(
        MESSAGE_SCOPE, handler.message_id, STORED_STATUS[kind], stored
    )


def _reply(handler: MessageHandler, payload: bytes) -> OutgoingMessage:
    delivery = handler.delivery
    assert delivery.reply_to is not None
    answering = (handler.message_id, handler.fingerprint)
    return reply(delivery.reply_to, payload, delivery.correlation_id, answering)


def _whole(payload: bytes) -> dict[str, str]:
    return {"payload": payload.decode()}
