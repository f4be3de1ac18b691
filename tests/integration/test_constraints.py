"""Constraint violations by name: a client's broken rule becomes a domain error, a race to
insert the same new id is retried, anything else is raised at once.

The names in service/storage/constraints.py are checked against the schema that
migrations/ builds, so a renamed or dropped constraint cannot silently stop mapping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import httpx
import pytest

from service.domain.errors import InvalidInput
from service.domain.pickup_slots import SlotRules
from service.domain.reservations import Outcome, OutcomeKind
from service.storage import constraints
from service.storage.database import RACES, Database
from service.storage.errors import CLIENT_RULES
from service.storage.pickups import PickupRepository
from service.storage.pool import Connection, Pool
from service.usecases.reservation_engine import decide_in_transaction
from tests.integration.test_pickup_capacity import until_waiting_on_locks
from tests.integration.test_reservation_batch_write import WEBSHOP, create
from tests.pickup_helpers import assert_problem, given_store, given_warehouse

T = TypeVar("T")

# Constraints no client input can break, left as errors: a rule of the service's own
# (broken means a bug), or a key whose only writer inserts with ON CONFLICT or an identity.
THE_SERVICES_OWN = {
    "balance_reserved_not_negative",
    "balance_incoming_not_negative",
    "movement_kind_valid",
    "movement_balance_fk",
    "reservation_status_valid",
    "reservation_line_reservation_fk",
    "pickup_status_valid",
    "pickup_line_pickup_fk",
    "pickup_slot_booked_not_negative",
    "pickups_pkey",  # a new pickup id is serialised by pickups.sql's lock_new_id
    "pickups_id_key",
    "pickup_lines_pkey",  # one line per SKU: checked before (validate_lines)
    "locations_pkey",
    "balances_pkey",
    "transfers_pkey",
    "transfers_id_sku_key",
    "idempotency_keys_pkey",
    "api_keys_pkey",
    "api_key_replaces_fk",  # set only by keys rotate, from a key it has just locked
    "pickup_settings_pkey",
    "pickup_slot_usage_pkey",
    "movements_pkey",
    "outbox_pkey",
    "availability_changes_pkey",
    "schema_migrations_pkey",
    "staff_sessions_pkey",  # 32 random bytes a session
    "staff_session_key_fk",  # opened for a key just verified
    "staff_session_ends_after_start",
    "staff_sign_in_failures_pkey",  # counted with an upsert
    "staff_sign_in_failures_positive",
}


async def schema_constraints(pool: Pool) -> dict[str, str]:
    """name -> contype (c check, f foreign key, p primary key, u unique)."""
    rows = await pool.fetch(
        "SELECT conname, contype::text FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
    )
    return {r["conname"]: r["contype"] for r in rows}


def named_constants() -> dict[str, str]:
    return {k: v for k, v in vars(constraints).items() if k.isupper() and isinstance(v, str)}


async def test_every_constraint_name_the_service_acts_on_is_in_the_migrated_schema(
    pool: Pool,
) -> None:
    schema = await schema_constraints(pool)
    assert set(named_constants().values()) - set(schema) == set()
    assert {name: schema[name] for name in RACES} == {
        "reservations_pkey": "p",
        "reservations_id_key": "u",
        "reservation_lines_pkey": "p",
    }
    assert {schema[name] for name in CLIENT_RULES} <= {"c", "f", "p", "u"}


def test_each_constant_is_named_after_the_constraint_it_holds() -> None:
    assert {k: v for k, v in named_constants().items() if k != v.upper()} == {}
    assert set(CLIENT_RULES) | RACES <= set(named_constants().values())


async def test_every_constraint_is_a_clients_rule_a_race_or_the_services_own(
    pool: Pool,
) -> None:
    """A constraint added by a new migration must be put in one of the three."""
    schema = set(await schema_constraints(pool))
    assert schema - set(CLIENT_RULES) - RACES - THE_SERVICES_OWN == set()
    assert THE_SERVICES_OWN - schema == set()
    assert set(CLIENT_RULES) & RACES == set()


async def given_red_stock_at(pool: Pool, *locations: str) -> None:
    for location in locations:
        await pool.execute(
            "INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)"
            " VALUES ($1, 'store', $1, 1, 2, 'UTC')",
            location,
        )
        await pool.execute(
            "INSERT INTO balances (location_id, sku, on_hand) VALUES ($1, 'RED', 10)", location
        )


def counted(
    attempts: list[BaseException | None], work: Callable[[Connection], Awaitable[T]]
) -> Callable[[Connection], Awaitable[T]]:
    """``work`` that notes each attempt: None when it returned, else what it raised."""

    async def run(conn: Connection) -> T:
        try:
            result = await work(conn)
        except Exception as exc:
            attempts.append(exc)
            raise
        attempts.append(None)
        return result

    return run


# ------------------------------------------------------------------ races


@pytest.mark.parametrize(
    ("loser_at", "quantity", "answer", "violated"),
    [
        # The same create at the same store: the loser waits for the balance, finds no
        # reservation (the winner's is uncommitted), and then meets the winner's rows
        # when it inserts its own (its line first, as PostgreSQL runs the write).
        ("ST-A", 1, (OutcomeKind.DONE, "ok"), {"reservations_pkey", "reservation_lines_pkey"}),
        # The same id at another store: the loser waits on the winner's index entry.
        ("ST-B", 2, (OutcomeKind.CONFLICT, "reservation_conflict"), {"reservations_id_key"}),
    ],
)
async def test_the_loser_of_a_race_to_create_one_new_reservation_retries_and_reads_the_winners(
    clean: None,
    db: Database,
    pool: Pool,
    loser_at: str,
    quantity: int,
    answer: tuple[OutcomeKind, str],
    violated: set[str],
) -> None:
    await given_red_stock_at(pool, "ST-A", "ST-B")
    attempts: list[BaseException | None] = []
    async with pool.acquire() as winner, winner.transaction():
        won = await decide_in_transaction(winner, [(create("r-1", ("RED", 1)), WEBSHOP)])
        loser = asyncio.create_task(
            db.run(
                counted(
                    attempts,
                    lambda conn: decide_in_transaction(
                        conn, [(create("r-1", ("RED", quantity), at=loser_at), WEBSHOP)]
                    ),
                )
            )
        )
        await until_waiting_on_locks(pool, 1)
    lost: list[Outcome] = await loser

    assert [(o.kind, o.code) for o in won] == [(OutcomeKind.CREATED, "ok")]
    assert [(o.kind, o.code) for o in lost] == [answer]
    first, retry = attempts
    assert isinstance(first, asyncpg.UniqueViolationError)
    assert (first.constraint_name in violated, retry) == (True, None)
    reserved = dict(await pool.fetch("SELECT location_id, reserved FROM balances"))
    assert reserved == {"ST-A": 1, "ST-B": 0}


# ------------------------------------------------------------------ no races


async def test_a_warehouse_named_twice_among_a_stores_suppliers_is_refused_without_a_retry(
    clean: None, db: Database, pool: Pool
) -> None:
    await given_red_stock_at(pool, "ST-A")
    await pool.execute(
        "INSERT INTO locations (location_id, kind, name, latitude, longitude, timezone)"
        " VALUES ('WH-1', 'warehouse', 'W', 1, 2, 'UTC')"
    )
    rules = SlotRules()
    twice = [("WH-1", 10), ("WH-1", 20)]
    attempts: list[BaseException | None] = []

    with pytest.raises(InvalidInput) as refused:
        await db.run(
            counted(
                attempts, lambda conn: PickupRepository(conn).save_settings("ST-A", rules, twice)
            )
        )

    assert (refused.value.field, len(attempts)) == ("suppliers", 1)
    assert isinstance(refused.value.__cause__, asyncpg.UniqueViolationError)
    assert refused.value.__cause__.constraint_name == constraints.SUPPLY_ROUTES_PKEY


async def test_a_store_given_one_warehouse_twice_answers_422_naming_the_suppliers(
    client: httpx.AsyncClient,
) -> None:
    await given_store(client, "ST-A")
    await given_warehouse(client, "WH-1")
    body = {"suppliers": [{"warehouse_id": "WH-1", "lead_time_minutes": m} for m in (10, 20)]}

    response = await client.put("/v1/locations/ST-A/pickup-settings", json=body)

    assert assert_problem(response, 422, "invalid_input")["field"] == "suppliers"


async def test_a_unique_violation_that_is_neither_a_clients_nor_a_race_is_raised_at_once(
    clean: None, db: Database
) -> None:
    attempts: list[BaseException | None] = []
    same_key_twice = (
        "INSERT INTO api_keys (key_id, name, role, secret_hash)"
        " VALUES ('k-1', 'a', 'admin', 'h'), ('k-1', 'b', 'admin', 'h')"
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.run(counted(attempts, lambda conn: conn.execute(same_key_twice)))
    assert len(attempts) == 1


@pytest.mark.parametrize(
    ("statement", "field"),
    [
        (
            "INSERT INTO transfers (to_location_id, transfer_id, sku, from_location_id, quantity)"
            " VALUES ('ST-A', 't-1', 'RED', 'ST-A', 1)",
            "to_location_id",
        ),
        ("UPDATE balances SET safety_stock = -1", "safety_stock"),
        ("INSERT INTO balances (location_id, sku) VALUES ('ST-NONE', 'RED')", "location_id"),
    ],
)
async def test_a_clients_broken_rule_becomes_the_domain_error_of_its_constraint(
    clean: None, db: Database, pool: Pool, statement: str, field: str
) -> None:
    await given_red_stock_at(pool, "ST-A")
    attempts: list[BaseException | None] = []
    with pytest.raises(InvalidInput) as refused:
        await db.run(counted(attempts, lambda conn: conn.execute(statement)))
    assert (refused.value.field, len(attempts)) == (field, 1)
