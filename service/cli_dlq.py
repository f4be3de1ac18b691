"""``inventory dlq``: list, show, replay and purge the dead-letter queue.

Every subcommand holds the queue's messages unacked while it runs and gives back all it
did not replay or purge (service/messaging/dead_letter_queue.py says why nothing can be
lost or reordered). A named id that is not in the queue refuses the whole command, so
a typo never replays or purges half a list.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from service.messaging.dead_letter_queue import DeadLetter, HeldDeadLetters, held_dead_letters
from service.settings import Settings

Runner = Callable[[Awaitable[int]], int]
Action = Callable[[HeldDeadLetters, list[DeadLetter]], Awaitable[None]]


def add_dlq_commands(commands: Any, run: Runner) -> None:
    """The ``dlq`` subcommands, on ``commands`` (the CLI's subparsers)."""
    dlq = commands.add_parser("dlq", help="the dead-letter queue: list, show, replay, purge")
    actions = dlq.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="one line per dead letter: id, command, reason, when, how many times"
    )
    listing.set_defaults(handler=lambda s, a: run(_list(s)))
    show = actions.add_parser("show", help="a dead letter whole: properties, headers, body")
    show.add_argument("message_id")
    show.set_defaults(handler=lambda s, a: run(_show(s, a.message_id)))
    replay = actions.add_parser(
        "replay",
        help="republish to the command exchange (the normal consumer, with its idempotency); "
        "removed from the queue once the broker confirmed",
    )
    _targets(replay)
    replay.set_defaults(handler=lambda s, a: run(_act(s, a, _replay, confirmed=True)))
    purge = actions.add_parser("purge", help="delete dead letters for good (needs --yes)")
    _targets(purge)
    purge.add_argument("--yes", action="store_true", help="confirm: they cannot be recovered")
    purge.set_defaults(handler=lambda s, a: run(_act(s, a, _purge, confirmed=a.yes)))


def _targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("message_ids", nargs="*", metavar="MESSAGE_ID")
    parser.add_argument("--all", action="store_true", help="every dead letter in the queue")


async def _list(settings: Settings) -> int:
    async with held_dead_letters(settings.amqp_url) as held:
        if not held.letters:
            print("dead-letter queue: empty")
            return 0
        print("MESSAGE_ID\tCOMMAND\tREASON\tDEAD_LETTERED\tTIMES")
        for letter in held.letters:
            info = letter.info
            when = (
                info.dead_lettered_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                if info.dead_lettered_at
                else "-"
            )
            print(f"{info.message_id}\t{info.command}\t{info.reason}\t{when}\t{info.times}")
        print(f"inventory: {len(held.letters)} dead letter(s)", file=sys.stderr)
    return 0


async def _show(settings: Settings, message_id: str) -> int:
    async with held_dead_letters(settings.amqp_url) as held:
        found, missing = held.named([message_id])
        if missing:
            print(f"inventory: no dead letter {message_id!r}", file=sys.stderr)
            return 1
        for letter in found:
            print(shown(letter))
    return 0


def shown(letter: DeadLetter) -> str:
    info, message = letter.info, letter.message
    when = info.dead_lettered_at.isoformat() if info.dead_lettered_at else "-"
    properties = {
        "message_id": message.message_id,
        "correlation_id": message.correlation_id,
        "reply_to": message.reply_to,
        "content_type": message.content_type,
        "routing_key": info.routing_key,
    }
    return "\n".join(
        [
            f"message_id: {info.message_id}",
            f"command: {info.command}",
            f"reason: {info.reason}",
            f"detail: {info.detail}",
            f"dead-lettered: {when} ({info.times} time(s))",
            "properties: " + json.dumps(properties, indent=2),
            "headers: " + json.dumps(message.headers, indent=2, sort_keys=True, default=str),
            "body:",
            _body(message.body),
        ]
    )


def _body(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return body.decode(errors="backslashreplace")


async def _act(
    settings: Settings, args: argparse.Namespace, action: Action, *, confirmed: bool
) -> int:
    if args.all == bool(args.message_ids):
        print("inventory: name dead letters by MESSAGE_ID, or give --all", file=sys.stderr)
        return 2
    async with held_dead_letters(settings.amqp_url) as held:
        chosen, missing = held.named(args.message_ids)
        if args.all:
            chosen = list(held.letters)
        if missing:
            print(
                f"inventory: not in the dead-letter queue: {', '.join(missing)}; nothing done",
                file=sys.stderr,
            )
            return 1
        if not confirmed:
            print(
                f"inventory: purge deletes {len(chosen)} dead letter(s) for good; add --yes",
                file=sys.stderr,
            )
            return 2
        await action(held, chosen)
    return 0


async def _replay(held: HeldDeadLetters, letters: list[DeadLetter]) -> None:
    for letter in letters:
        await held.replay(letter)
        info = letter.info
        print(f"replayed {info.message_id} ({info.command}) under {info.routing_key}")
    print(f"inventory: {len(letters)} dead letter(s) replayed", file=sys.stderr)


async def _purge(held: HeldDeadLetters, letters: list[DeadLetter]) -> None:
    for letter in letters:
        await held.purge(letter)
        print(f"purged {letter.info.message_id} ({letter.info.command}, {letter.info.reason})")
    print(f"inventory: {len(letters)} dead letter(s) purged", file=sys.stderr)
