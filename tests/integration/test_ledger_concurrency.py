"""Many clients post sales, receipts and counts on the same few balances at once.

Afterwards no update is lost: every balance equals the sum of its movements,
every posted movement has exactly one row, and replaying the rows in
movement_id order (a count sets on_hand to its figure) gives the final figures.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.storage.pool import Pool
from tests.helpers import Client, client_of, count, given_locations, post, receipt, sale

BALANCES = [("ST-A", "S1"), ("ST-B", "S1"), ("ST-A", "S2")]
Batch = list[dict[str, Any]]


def random_batches(seed: int, n: int) -> list[Batch]:
    """n batches of 1 to 4 movements over BALANCES, in random order, each with a unique reference."""
    rng = random.Random(seed)
    batches = []
    for b in range(n):
        batch = []
        for m in range(rng.choice([1, 1, 2, 3, 4])):
            location_id, sku = rng.choice(BALANCES)
            ref = {"reference": f"b{b}-m{m}"}
            kind = rng.choices(["receipt", "sale", "count"], weights=[5, 5, 1])[0]
            if kind == "receipt":
                batch.append(receipt(location_id, rng.randint(1, 9), sku, **ref))
            elif kind == "sale":
                batch.append(sale(location_id, rng.randint(1, 9), sku, **ref))
            else:
                batch.append(count(location_id, rng.randint(0, 40), sku, **ref))
        batches.append(batch)
    return batches


async def post_all(clients: list[Client], batches: list[Batch]) -> None:
    answers = await asyncio.gather(
        *(post(clients[i % len(clients)], f"batch-{i}", *b) for i, b in enumerate(batches))
    )
    assert [a.status_code for a in answers] == [200] * len(batches), next(
        a.text for a in answers if a.status_code != 200
    )


async def assert_ledger_exact(pool: Pool, batches: list[Batch]) -> None:
    posted = {m["reference"]: m for batch in batches for m in batch}
    rows = await pool.fetch(
        "SELECT location_id, sku, on_hand_delta, reference FROM movements ORDER BY movement_id"
    )
    assert len(rows) == len(posted)
    assert {r["reference"] for r in rows} == set(posted)

    replay: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        key = (row["location_id"], row["sku"])
        movement = posted[row["reference"]]
        if movement["kind"] == "count":
            assert row["on_hand_delta"] == movement["counted"] - replay[key], row
            replay[key] = movement["counted"]
        else:
            sign = 1 if movement["kind"] == "receipt" else -1
            assert row["on_hand_delta"] == sign * movement["quantity"], row
            replay[key] += row["on_hand_delta"]

    balances = await pool.fetch(
        """
        SELECT b.location_id, b.sku, b.on_hand, b.reserved, b.incoming,
            (SELECT coalesce(sum(on_hand_delta), 0) FROM movements m
             WHERE m.location_id = b.location_id AND m.sku = b.sku) AS movements_on_hand
        FROM balances b
        """
    )
    assert {(b["location_id"], b["sku"]): b["on_hand"] for b in balances} == dict(replay)
    assert all(b["on_hand"] == b["movements_on_hand"] for b in balances), balances
    assert all(b["reserved"] == 0 and b["incoming"] == 0 for b in balances), balances


async def test_concurrent_sales_receipts_and_counts_on_the_same_balances_lose_no_update(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    batches = random_batches(seed=20260101, n=240)
    await post_all([client], batches)
    await assert_ledger_exact(pool, batches)
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == len(batches)


async def test_the_same_batches_posted_again_concurrently_change_nothing(
    client: Client, pool: Pool
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    batches = random_batches(seed=7, n=100)
    await post_all([client], batches)
    before = await pool.fetch("SELECT * FROM balances ORDER BY location_id, sku")
    await post_all([client], batches)
    assert await pool.fetch("SELECT * FROM balances ORDER BY location_id, sku") == before
    await assert_ledger_exact(pool, batches)


@pytest.fixture
async def replicas(client: Client, settings: Settings) -> AsyncIterator[list[Client]]:
    """Two app instances, each with its own pool and change feed: two replicas, called
    with the same key (one caller whose requests a load balancer spreads)."""
    other = await Runtime.start(settings)
    key = client.headers["Authorization"].removeprefix("Bearer ")
    try:
        async with client_of(create_app(runtime=other), key) as two:
            yield [client, two]
    finally:
        await other.stop()


async def test_two_replicas_posting_at_once_lose_no_update(
    replicas: list[Client], pool: Pool
) -> None:
    await given_locations(replicas[0], "ST-A", "ST-B")
    batches = random_batches(seed=42, n=240)
    await post_all(replicas, batches)
    await assert_ledger_exact(pool, batches)


async def test_the_same_batch_posted_on_two_replicas_at_once_applies_once(
    replicas: list[Client], pool: Pool
) -> None:
    await given_locations(replicas[0], "ST-A")
    answers = await asyncio.gather(
        *(post(replicas[i % 2], "one-key", receipt("ST-A", 3)) for i in range(20))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert await pool.fetchval("SELECT on_hand FROM balances") == 3
    assert await pool.fetchval("SELECT count(*) FROM movements") == 1


async def test_a_movement_on_one_replica_reaches_the_other_replicas_availability(
    replicas: list[Client],
) -> None:
    one, two = replicas
    await given_locations(one, "ST-A")
    assert (await post(one, "stock", receipt("ST-A", 5))).status_code == 200
    url = "/v1/availability/S1/locations/ST-A"
    assert (await two.get(url)).json()["on_hand"] == 5  # now cached on replica two
    assert (await post(one, "sale", sale("ST-A", 2))).status_code == 200
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (await two.get(url)).json()["on_hand"] != 3:
        assert loop.time() < deadline, "replica two never saw the sale made on replica one"
        await asyncio.sleep(0.01)
