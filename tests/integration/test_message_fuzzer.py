"""The message fuzzer (issue 12): hostile commands published to ``inventory.commands``
of this run's vhost while a worker runs. Random bytes, truncated JSON, wrong types,
huge numbers and bodies, deep nesting, invalid UTF-8, unknown types, and message ids
reused with other bodies, mixed with valid commands that cannot be applied.

Each one ends in exactly one of two places: the dead-letter queue with a reason
(``x-inventory-error``), or a rejection reply on its ``reply_to`` with a reason. The
consumer never stops (a good command after the barrage is applied), and nothing is
written: the ledger, transfer, reservation and pickup tables are as before.

The messages come from a seeded generator: ``FUZZ_SEED`` repeats a run (a failure
names its seed), ``FUZZ_MESSAGES`` sets how many (CI: 240 from a fixed seed; ``make
fuzz``: 3,000 from a new seed, FUZZ_RANDOM=1).

Two expectations are for behaviour another branch is bringing (defects 5 and 6):
a command whose type does not match its routing key is dead-lettered with
``routing_key_mismatch``; a command nobody's binding routes lands in
``inventory.commands.unroutable`` through an alternate exchange. Today the first is
applied and the second vanishes: both are strict xfails, which flip when the fix lands.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import msgspec
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from service.messaging.topology import DEAD_LETTER_QUEUE
from service.messaging.worker import Worker
from service.storage.database import Database
from service.storage.pool import Pool
from tests.pickup_helpers import table_rows
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    create_message,
    eventually,
    given_stock,
)

MESSAGES = int(os.environ.get("FUZZ_MESSAGES", "240"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
SEED = int(os.environ.get("FUZZ_SEED", str(secrets.randbits(32) if RANDOM else 20261204)))
LEDGER = (
    "balances",
    "movements",
    "transfers",
    "reservations",
    "reservation_lines",
    "pickups",
    "pickup_lines",
    "pickup_slot_usage",
)
STORE, SKU = "ST-A", "S1"
KNOWN_ID = "m-known"  # a message applied before the barrage, whose id the fuzzer reuses
UNROUTABLE_QUEUE = "inventory.commands.unroutable"


@dataclass(frozen=True)
class Hostile:
    """One message to publish: its kind (for the report), routing key and raw body."""

    kind: str
    routing_key: str
    body: bytes
    message_id: str | None


# ------------------------------------------------------------------ valid commands


def reservation(rng: random.Random, message_id: str) -> dict[str, Any]:
    return create_message(message_id, f"r-{message_id}", STORE, (SKU, rng.randint(1, 3)))


def book(rng: random.Random, message_id: str) -> dict[str, Any]:
    return {
        "type": "pickup.book",
        "message_id": message_id,
        "pickup_id": f"P-{message_id}",
        "location_id": STORE,
        "slot_start": "2031-01-01T12:00:00Z",
        "lines": [{"sku": SKU, "quantity": rng.randint(1, 3)}],
        "customer": {"name": "Kari Nordmann", "email": "kari@example.com"},
    }


def movements(rng: random.Random, message_id: str) -> dict[str, Any]:
    move = {"kind": "sale", "sku": SKU, "location_id": STORE, "quantity": rng.randint(1, 3)}
    return {"type": "stock.movements", "message_id": message_id, "movements": [move]}


def cancel(rng: random.Random, message_id: str) -> dict[str, Any]:
    kind = rng.choice(["reservation.cancel", "reservation.fulfil", "pickup.cancel"])
    field = "pickup_id" if kind.startswith("pickup") else "reservation_id"
    return {"type": kind, "message_id": message_id, field: f"x-{message_id}"}


VALID = (reservation, book, movements, cancel)


def valid_command(rng: random.Random, message_id: str) -> dict[str, Any]:
    return rng.choice(VALID)(rng, message_id)


def encoded(command: dict[str, Any]) -> bytes:
    return json.dumps(command).encode()


# ------------------------------------------------------------------ hostile kinds


def random_bytes(rng: random.Random, mid: str) -> tuple[str, bytes]:
    return rng.choice(["reservation.create", "stock.movements", "pickup.book"]), rng.randbytes(
        rng.randint(0, 300)
    )


def truncated_json(rng: random.Random, mid: str) -> tuple[str, bytes]:
    command = valid_command(rng, mid)
    raw = encoded(command)
    return command["type"], raw[: rng.randint(0, len(raw) - 1)]


WRONG_VALUES: tuple[Any, ...] = (None, True, 1.5, -1, "x", [], {}, [1, 2], 2**70, "", "\u0000")


def wrong_type(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """One field (at the top or in the first line or movement) holding a value of
    another type, or a value out of its range."""
    command = valid_command(rng, mid)
    target = command
    for nested in ("lines", "movements"):
        if nested in command and rng.random() < 0.5:
            target = command[nested][0]
    name = rng.choice([k for k in target if k not in ("type", "message_id")])
    target[name] = _wrong_for(target[name], rng)
    return command["type"], encoded(command)


def _wrong_for(value: Any, rng: random.Random) -> Any:
    while True:
        candidate = rng.choice(WRONG_VALUES)
        if type(candidate) is not type(value) or candidate in ("", "\u0000", -1, 2**70):
            return candidate


def huge_number(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """A quantity beyond every integer type, or a float that overflows to infinity."""
    command = reservation(rng, mid)
    number = rng.choice(["1e400", "-1e400", str(2**64), str(10**40), "1e308", str(-(2**63) - 1)])
    command["lines"][0]["quantity"] = "<n>"
    return command["type"], encoded(command).replace(b'"<n>"', number.encode())


def huge_body(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """70 kB to 1.5 MB: an id far over its length, or far more lines than a command
    may hold (movements at an unknown store, so that no size of batch could apply)."""
    size = rng.choice([70_000, 300_000, 1_500_000])
    command = valid_command(rng, mid)
    many = size // 40
    if command["type"] == "stock.movements":
        move = {"kind": "receipt", "sku": SKU, "location_id": "ST-NOWHERE", "quantity": 1}
        command["movements"] = [move] * many
    elif "lines" in command and rng.random() < 0.5:
        command["lines"] = [{"sku": SKU, "quantity": 1}] * many
    else:
        id_field = next(k for k in command if k.endswith("_id") and k != "message_id")
        command[id_field] = "R" * size
    return command["type"], encoded(command)


def deep_nesting(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """Arrays or objects 1,000 to 200,000 deep, closed or not, alone or as a field's value."""
    depth = rng.choice([1_000, 20_000, 200_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    nest = opener * depth + (closer * depth if rng.random() < 0.5 else b"")
    if rng.random() < 0.5:
        return "reservation.create", nest
    command = reservation(rng, mid)
    command["lines"] = "<nest>"
    return command["type"], encoded(command).replace(b'"<nest>"', nest)


def invalid_utf8(rng: random.Random, mid: str) -> tuple[str, bytes]:
    command = valid_command(rng, mid)
    raw = encoded(command)
    at = raw.index(b'"message_id"')
    bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])
    return command["type"], raw[: at + 1] + bad + raw[at + 1 :]


def unknown_type(rng: random.Random, mid: str) -> tuple[str, bytes]:
    command = valid_command(rng, mid)
    routing_key = rng.choice(["reservation.teleport", "pickup.collect", "reservation.create"])
    command["type"] = rng.choice(
        [
            *("reservation.teleport", "pickup.collect", "stock.movement", "RESERVATION.CREATE"),
            *("", 7, None, ["reservation.create"], {"type": "reservation.create"}),
        ]
    )
    return routing_key, encoded(command)


def reused_id(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """The id of a message already applied, with another body (a business refusal:
    ``message_id_reused``, answered by a rejection reply)."""
    command = reservation(rng, KNOWN_ID)
    command["reservation_id"] = f"r-other-{mid}"
    return command["type"], encoded(command)


def refused_command(rng: random.Random, mid: str) -> tuple[str, bytes]:
    """Well-formed, refused by the rules: an unknown store, more than there is, an
    unknown reservation or pickup."""
    command = valid_command(rng, mid)
    if "location_id" in command:
        command["location_id"] = rng.choice(["ST-NOWHERE", STORE])
        for line in command["lines"]:
            line["quantity"] = 1_000_000
    elif command["type"] == "stock.movements":
        command["movements"][0]["location_id"] = "ST-NOWHERE"
    return command["type"], encoded(command)


KINDS: dict[str, Callable[[random.Random, str], tuple[str, bytes]]] = {
    "random bytes": random_bytes,
    "truncated JSON": truncated_json,
    "a wrong type": wrong_type,
    "a huge number": huge_number,
    "a huge body": huge_body,
    "deep nesting": deep_nesting,
    "invalid UTF-8": invalid_utf8,
    "an unknown type": unknown_type,
    "a reused id with another body": reused_id,
    "a command the rules refuse": refused_command,
}


def barrage(seed: int, count: int) -> list[Hostile]:
    rng = random.Random(seed)
    kinds = list(KINDS)
    found = []
    for index in range(count):
        kind = kinds[index % len(kinds)] if index < len(kinds) else rng.choice(kinds)
        message_id = f"fz-{index}"
        routing_key, body = KINDS[kind](rng, message_id)
        found.append(Hostile(kind, routing_key, body, message_id))
    return found


# ------------------------------------------------------------------ the broker


class DeadLetters:
    """Everything arriving in the dead-letter queue (acked as it is kept)."""

    def __init__(self) -> None:
        self.received: list[AbstractIncomingMessage] = []

    @classmethod
    async def watching(cls, connection: AbstractRobustConnection) -> tuple[DeadLetters, Any]:
        channel = await connection.channel()
        queue = await channel.get_queue(DEAD_LETTER_QUEUE)
        letters = cls()
        await queue.consume(letters._keep, no_ack=True)
        return letters, channel

    async def _keep(self, message: AbstractIncomingMessage) -> None:
        self.received.append(message)


@pytest.fixture
async def world(
    worker: Worker, broker: AbstractRobustConnection, db: Database
) -> AsyncIterator[tuple[Publisher, Inbox, DeadLetters]]:
    """A store with stock, one reservation made by message ``m-known``, a publisher,
    a reply queue and a watch on the dead-letter queue."""
    await given_stock(db, STORE, (SKU, 10))
    publisher = await Publisher.open(broker)
    inbox = await Inbox.open(broker)
    letters, channel = await DeadLetters.watching(broker)
    await publisher.send(create_message(KNOWN_ID, "r-known", STORE, (SKU, 1)), reply_to=inbox.name)
    (reply,) = await inbox.wait_for(1)
    assert msgspec.json.decode(reply.body)["type"] == "reservation.confirmed", reply.body
    inbox.received.clear()
    yield publisher, inbox, letters
    await channel.close()
    await inbox.close()
    await publisher.close()


async def test_every_hostile_message_is_dead_lettered_or_refused_with_a_reason_and_writes_nothing(
    world: tuple[Publisher, Inbox, DeadLetters], worker: Worker, pool: Pool
) -> None:
    publisher, inbox, letters = world
    before = await table_rows(pool, *LEDGER)
    messages = barrage(SEED, MESSAGES)
    for index, message in enumerate(messages):
        await publisher.send(
            message.body,
            routing_key=message.routing_key,
            message_id=message.message_id,
            reply_to=inbox.name,
            correlation_id=f"c-{index}",
        )

    async def all_settled() -> dict[str, str] | None:
        outcomes = _outcomes(inbox, letters)
        return outcomes if len(outcomes) >= len(messages) else None

    outcomes = await eventually(all_settled, f"{len(messages)} outcomes (seed {SEED})", 60)
    failures = [
        f"#{i} {m.kind} under {m.routing_key}: {outcomes.get(f'c-{i}', 'no outcome')}"
        for i, m in enumerate(messages)
        if not outcomes.get(f"c-{i}", "").split(":", 1)[-1].strip()
    ]
    assert not failures, f"seed {SEED}:\n" + "\n".join(failures[:20])
    assert len(outcomes) == len(messages), f"seed {SEED}: more outcomes than messages"
    assert await table_rows(pool, *LEDGER) == before, f"seed {SEED}: something was written"
    assert worker.consumer is not None

    await publisher.send(create_message("m-after", "r-after", STORE, (SKU, 1)), reply_to=inbox.name)
    after = await inbox.where(lambda p: p.get("correlation_id") is None and "r-after" in str(p))
    assert after["type"] == "reservation.confirmed", after


def _outcomes(inbox: Inbox, letters: DeadLetters) -> dict[str, str]:
    """correlation id -> "dead letter: <reason>" or "<reply type>: <reason>"."""
    found: dict[str, str] = {}
    for message in letters.received:
        reason = (message.headers or {}).get("x-inventory-error")
        reason = reason.decode() if isinstance(reason, bytes) else reason
        found[message.correlation_id or "?"] = f"dead letter: {reason or ''}"
    for message in inbox.received:
        reply = msgspec.json.decode(message.body)
        reason = reply.get("reason") if reply["type"].endswith(".rejected") else None
        found[message.correlation_id or "?"] = f"{reply['type']}: {reason or ''}"
    return found


# ------------------------------------------------------------------ defects 5 and 6


async def test_a_command_under_another_types_routing_key_is_dead_lettered_as_a_mismatch(
    world: tuple[Publisher, Inbox, DeadLetters], pool: Pool
) -> None:
    publisher, inbox, letters = world
    before = await table_rows(pool, *LEDGER)
    receipt = {"kind": "receipt", "sku": SKU, "location_id": STORE, "quantity": 5}
    command = {"type": "stock.movements", "message_id": "m-mismatch", "movements": [receipt]}
    await publisher.send(
        command, routing_key="reservation.create", reply_to=inbox.name, correlation_id="c-1"
    )

    async def dead_lettered() -> bool | None:
        return True if any(m.correlation_id == "c-1" for m in letters.received) else None

    await eventually(dead_lettered, "the dead letter", 10)
    [dead] = [m for m in letters.received if m.correlation_id == "c-1"]
    assert (dead.headers or {}).get("x-inventory-error") == "routing_key_mismatch"
    outcome = await eventually(lambda: _first_outcome(inbox, letters, "c-1"), "a reply", 10)
    assert outcome == "command.rejected: routing_key_mismatch"  # the sender is told
    await asyncio.sleep(0.2)  # a reply or a change would have come by now
    assert await table_rows(pool, *LEDGER) == before


async def test_a_command_no_binding_routes_lands_in_the_unroutable_queue(
    world: tuple[Publisher, Inbox, DeadLetters], broker: AbstractRobustConnection
) -> None:
    publisher, inbox, _letters = world
    command = create_message("m-unroutable", "r-unroutable", STORE, (SKU, 1))
    await publisher.send(
        command, routing_key="orders.create", reply_to=inbox.name, correlation_id="c-2"
    )
    channel = await broker.channel()
    try:
        queue = await channel.declare_queue(UNROUTABLE_QUEUE, passive=True)

        async def landed() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await queue.get(fail=False, no_ack=True)

        message = await eventually(landed, f"the command in {UNROUTABLE_QUEUE}", 5)
        assert message.correlation_id == "c-2"
        assert msgspec.json.decode(message.body) == command
    finally:
        await channel.close()


async def _first_outcome(inbox: Inbox, letters: DeadLetters, correlation_id: str) -> str | None:
    return _outcomes(inbox, letters).get(correlation_id)
