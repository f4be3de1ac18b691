"""The ``inventory`` commands that report on the running system: which pickup-code secrets
the live pickups need, and what waits in the outbox."""

from __future__ import annotations

from service.cli_keys import with_db
from service.settings import Settings
from service.storage.database import Database


async def pickup_secrets(settings: Settings) -> int:
    from service.cli_keys import shown
    from service.usecases.pickup_code_secrets import code_secrets_of, secrets_in_use

    async def work(db: Database) -> int:
        for use in await secrets_in_use(db, code_secrets_of(settings)):
            holds = f", the last hold ends {shown(use.last_hold_until)}" if use.live else ""
            line = f"{use.role:<9} {use.secret_id or '-':<16}  {use.live} live pickup(s){holds}"
            if use.role == "previous":
                line += (
                    ": keep INVENTORY_PICKUP_CODE_SECRET_PREVIOUS until then"
                    if use.live
                    else ": INVENTORY_PICKUP_CODE_SECRET_PREVIOUS is no longer needed"
                )
            elif use.role == "missing":
                line += ": made with a secret that is not configured; they cannot be collected"
            print(line)
        return 0

    return await with_db(settings, work)


async def outbox_status(settings: Settings) -> int:
    """One line: how many events and replies wait and since when. Exit status 0 either
    way: a backlog is for the operator to judge (a relay stopped, the broker down)."""
    from datetime import UTC, datetime

    from service.usecases.outbox import outbox_backlog

    async def work(db: Database) -> int:
        backlog = await outbox_backlog(db)
        if backlog.oldest is None:
            print("outbox: empty (everything committed has been published)")
            return 0
        age = (datetime.now(UTC) - backlog.oldest).total_seconds()
        print(
            f"outbox: {backlog.events} event(s) and {backlog.replies} reply(ies) waiting; "
            f"the oldest written {backlog.oldest.isoformat(timespec='seconds')} ({age:.0f} s ago)"
        )
        return 0

    return await with_db(settings, work)
