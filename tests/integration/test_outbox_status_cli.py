"""``inventory outbox status``: what an operator sees when events stop flowing: how
many events and replies wait to be published, and since when."""

from __future__ import annotations

import pytest

from service.storage.database import Database
from service.storage.outbox import OutboxRepository, event, reply
from service.storage.pool import Pool
from tests.integration.test_cli import inventory

pytestmark = pytest.mark.usefixtures("clean")


async def test_an_empty_outbox_says_so(database_url: str) -> None:
    code, out, err = await inventory("outbox", "status", INVENTORY_DATABASE_URL=database_url)
    assert code == 0, err
    assert out.strip() == "outbox: empty (everything committed has been published)"


async def test_a_backlog_is_counted_by_kind_with_the_age_of_the_oldest(
    database_url: str, db: Database, pool: Pool
) -> None:
    waiting = [
        event("reservation.confirmed", b"{}"),
        event("reservation.confirmed", b"{}"),
        reply("webshop.replies", b"{}", "c-1", ("m-1", "fingerprint")),
    ]
    await db.run(lambda conn: OutboxRepository(conn).add(waiting))
    await pool.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")

    code, out, err = await inventory("outbox", "status", INVENTORY_DATABASE_URL=database_url)

    assert code == 0, err
    assert out.startswith("outbox: 2 event(s) and 1 reply(ies) waiting; the oldest written ")
    assert out.strip().endswith(" s ago)")
    age = int(out.rsplit("(", 1)[1].split(" ")[0])
    assert 90 <= age < 150
