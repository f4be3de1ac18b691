"""The model-based test (issue 12): Hypothesis drives random sequences of receipts,
sales, counts, transfers and transfer receipts, reservations, cancellations and
expiries, pickup bookings, readiness, collections (whole and partial) and no-shows
through the public HTTP API of the app, against a reference model of a few lines
written here. After every step the API's availability of every balance, the status of
every reservation and pickup, and each answer's status equal the model's, and the
ledger verifies (``verify_ledger``).

Time moves two ways, as in production: a reservation whose TTL is over is made so by
setting its ``expires_at`` in the past (the clock of that one reservation), then the
expiry sweep runs; a hold period ends by running the no-show sweep at a pickup's
``hold_until`` (the sweep's own clock), which ends every hold due by then.

The sweeps run on the app's runtime, as in a serve process that runs the worker too
(``INVENTORY_RUN_WORKERS_IN_PROCESS``), so the app reads its own writes at once; a
separate worker's changes reach it by NOTIFY a moment later. The machine runs in a
thread of its own; each step sends its requests to the
session's event loop, where the app, its runtime and the database pool live. Every
example starts on an empty database with two stores (24/7, UTC, pickup offered) and a
warehouse.

CI: ``MODEL_EXAMPLES`` (default 25) sequences of up to ``MODEL_STEPS`` (default 30)
steps, the same every run, about 10 s. ``make fuzz`` runs 300 of 60, drawn anew
(FUZZ_RANDOM=1; a failure is kept in .hypothesis/, which git ignores, and replayed first).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from litestar import Litestar

from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.expiry import expire_due
from service.usecases.keys import create_key
from service.usecases.pickup_changes import mark_no_shows
from service.usecases.verify import verify_ledger
from tests.conftest import truncate_all
from tests.helpers import read_model_settled
from tests.pickup_helpers import at_noon, given_settings, given_store, given_warehouse, instant

T = TypeVar("T")
EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", "25"))
STEPS = int(os.environ.get("MODEL_STEPS", "30"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"  # CI: the same sequences every run
STORES = ("ST-A", "ST-B")
WAREHOUSE = "WH-1"
LOCATIONS = (*STORES, WAREHOUSE)
SKUS = ("S1", "S2")
STOCK = 8  # of each SKU everywhere at the start: enough for a few bookings
ACTIVE, CANCELLED, EXPIRED = "active", "cancelled", "expired"
BOOKED, READY, COLLECTED, NO_SHOW = "booked", "ready", "collected", "no_show"

quantities = st.integers(min_value=1, max_value=6)
locations = st.sampled_from(LOCATIONS)
stores = st.sampled_from(STORES)
skus = st.sampled_from(SKUS)
carts = st.dictionaries(skus, quantities, min_size=1, max_size=2)


# ------------------------------------------------------------------ the model


@dataclass
class Figures:
    on_hand: int = 0
    reserved: int = 0
    incoming: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)


@dataclass
class Booking:
    """A reservation or a pickup: where, what, and its status."""

    location_id: str
    lines: dict[str, int]
    status: str
    code: str = ""
    hold_until: datetime | None = None


@dataclass
class Model:
    balances: dict[tuple[str, str], Figures] = field(default_factory=dict)
    reservations: dict[str, Booking] = field(default_factory=dict)
    pickups: dict[str, Booking] = field(default_factory=dict)
    transfers: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # to, sku, left

    def figures(self, location_id: str, sku: str) -> Figures:
        return self.balances.setdefault((location_id, sku), Figures())

    def fits(self, location_id: str, lines: dict[str, int]) -> bool:
        return all(self.figures(location_id, s).available >= q for s, q in lines.items())

    def hold(self, booking: Booking, sign: int) -> None:
        for sku, quantity in booking.lines.items():
            self.figures(booking.location_id, sku).reserved += sign * quantity


# ------------------------------------------------------------------ the machine


@dataclass(frozen=True)
class World:
    loop: asyncio.AbstractEventLoop
    app: Litestar
    runtime: Runtime
    db: Database
    pool: Pool


class InventoryMachine(RuleBasedStateMachine):
    world: World  # set on the subclass made per test run

    reservation_ids = Bundle("reservation_ids")
    pickup_ids = Bundle("pickup_ids")
    transfer_ids = Bundle("transfer_ids")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.client: httpx.AsyncClient | None = None
        self.counter = 0
        self.trail: list[str] = []  # what changed, for a failure's message

    # -------------------------------------------------------------- plumbing

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.world.loop).result(timeout=60)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self.client is not None
        answer = self.run(self.client.request(method, path, **kwargs))
        if method != "GET":
            self.trail.append(f"{method} {path} {kwargs.get('json')} -> {answer.status_code}")
        return answer

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def movements(self, *moves: dict[str, Any]) -> httpx.Response:
        return self.send(
            "POST",
            "/v1/stock/movements",
            json={"movements": list(moves)},
            headers={"Idempotency-Key": self.new_id("k")},
        )

    def teardown(self) -> None:
        if self.client is not None:
            self.run(self.client.aclose())

    # -------------------------------------------------------------- the start

    @initialize()
    def two_stores_and_a_warehouse_with_some_stock(self) -> None:
        self.client = self.run(self._start())
        self.some_stock_everywhere()

    async def _start(self) -> httpx.AsyncClient:
        world = self.world
        await truncate_all(world.pool)
        world.runtime.keys.forget("*")
        world.runtime.read_model.reset()
        await world.runtime.read_model.locations.load()
        token = await create_key(world.db, "model", "admin", [])
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=world.app),
            base_url="http://model.test",
            headers={"Authorization": f"Bearer {token}"},
        )
        for store in STORES:
            await given_store(client, store)
            await given_settings(client, store, capacity_per_slot=1000)
        await given_warehouse(client, WAREHOUSE)
        await read_model_settled(world.runtime, world.pool)
        return client

    def some_stock_everywhere(self) -> None:
        for location in LOCATIONS:
            for sku in SKUS:
                self.receipt(location, sku, STOCK)

    # -------------------------------------------------------------- movements

    @rule(location=locations, sku=skus, quantity=quantities)
    def receipt(self, location: str, sku: str, quantity: int) -> None:
        answer = self.movements(_move("receipt", location, sku, quantity=quantity))
        assert answer.status_code == 200, answer.text
        self.model.figures(location, sku).on_hand += quantity

    @rule(location=locations, sku=skus, quantity=quantities)
    def sale(self, location: str, sku: str, quantity: int) -> None:
        """Never refused for lack of stock: on_hand may fall below reserved, or below 0."""
        answer = self.movements(_move("sale", location, sku, quantity=quantity))
        assert answer.status_code == 200, answer.text
        self.model.figures(location, sku).on_hand -= quantity

    @rule(location=locations, sku=skus, counted=st.integers(min_value=0, max_value=12))
    def count(self, location: str, sku: str, counted: int) -> None:
        answer = self.movements(_move("count", location, sku, counted=counted))
        assert answer.status_code == 200, answer.text
        self.model.figures(location, sku).on_hand = counted

    @rule(
        target=transfer_ids,
        source=locations,
        destination=locations,
        sku=skus,
        quantity=quantities,
    )
    def transfer(self, source: str, destination: str, sku: str, quantity: int) -> Any:
        if source == destination:
            return multiple()
        transfer_id = self.new_id("T")
        move = _move("transfer", source, sku, quantity=quantity)
        answer = self.movements(move | {"to_location_id": destination, "transfer_id": transfer_id})
        assert answer.status_code == 200, answer.text
        self.model.figures(source, sku).on_hand -= quantity
        self.model.figures(destination, sku).incoming += quantity
        self.model.transfers[transfer_id] = (destination, sku, quantity)
        return transfer_id

    @rule(transfer_id=transfer_ids, quantity=quantities)
    def transfer_receipt(self, transfer_id: str, quantity: int) -> None:
        """Part or all of what is still on its way; more than that is refused."""
        destination, sku, left = self.model.transfers[transfer_id]
        move = _move("transfer_receipt", destination, sku, quantity=quantity)
        answer = self.movements(move | {"transfer_id": transfer_id})
        if quantity > left:
            assert answer.status_code == 422, answer.text
            assert answer.json()["code"] == "transfer_over_received", answer.text
            return
        assert answer.status_code == 200, answer.text
        figures = self.model.figures(destination, sku)
        figures.incoming -= quantity
        figures.on_hand += quantity
        self.model.transfers[transfer_id] = (destination, sku, left - quantity)

    # -------------------------------------------------------------- reservations

    @rule(target=reservation_ids, store=stores, cart=carts)
    def reserve(self, store: str, cart: dict[str, int]) -> Any:
        reservation_id = self.new_id("r")
        lines = [{"sku": s, "quantity": q} for s, q in cart.items()]
        body = {"reservation_id": reservation_id, "location_id": store, "lines": lines}
        answer = self.send("POST", "/v1/reservations", json=body)
        if not self.model.fits(store, cart):
            assert answer.status_code == 409, answer.text
            assert answer.json()["code"] == "insufficient_stock", answer.text
            return multiple()
        assert answer.status_code == 201, answer.text
        booking = Booking(store, cart, ACTIVE)
        self.model.reservations[reservation_id] = booking
        self.model.hold(booking, +1)
        return reservation_id

    @rule(reservation_id=reservation_ids)
    def cancel(self, reservation_id: str) -> None:
        """Releases an active reservation; a cancelled one answers the same again;
        an expired one cannot be cancelled; one never made is not found."""
        answer = self.send("POST", f"/v1/reservations/{reservation_id}/cancel")
        booking = self.model.reservations.get(reservation_id)
        if booking is None:
            assert answer.status_code == 404, answer.text
            return
        if booking.status == EXPIRED:
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 200, answer.text
        if booking.status == ACTIVE:
            self.model.hold(booking, -1)
            booking.status = CANCELLED

    @rule(reservation_id=reservation_ids)
    def its_ttl_ends(self, reservation_id: str) -> None:
        """The reservation's TTL is over; the expiry sweep releases it (and nothing else:
        every other reservation here lives for 15 minutes)."""
        self.run(
            self.world.pool.execute(
                """UPDATE reservations SET expires_at = now() - interval '1 second'
                   WHERE reservation_id = $1 AND status = 'active'""",
                reservation_id,
            )
        )
        expired = self.run(expire_due(self.world.runtime.db, self.world.runtime.engine, limit=100))
        self.trail.append(f"expiry sweep after {reservation_id}'s TTL: {expired}")
        booking = self.model.reservations.get(reservation_id)
        if booking is None or booking.status != ACTIVE:
            assert expired == 0
            return
        assert expired == 1
        self.model.hold(booking, -1)
        booking.status = EXPIRED

    # -------------------------------------------------------------- pickups

    @rule(
        target=pickup_ids,
        store=stores,
        cart=carts,
        day=st.integers(min_value=1, max_value=3),
        half_hour=st.integers(min_value=0, max_value=3),
    )
    def book(self, store: str, cart: dict[str, int], day: int, half_hour: int) -> Any:
        pickup_id = self.new_id("P")
        body = {
            "pickup_id": pickup_id,
            "location_id": store,
            "slot_start": (at_noon(day) + timedelta(minutes=30 * half_hour)).isoformat(),
            "lines": [{"sku": s, "quantity": q} for s, q in cart.items()],
            "customer": {"name": "Kari Nordmann", "email": "kari@example.com"},
        }
        answer = self.send("POST", "/v1/pickups", json=body)
        if not self.model.fits(store, cart):
            assert answer.status_code == 409, answer.text
            return multiple()
        assert answer.status_code == 201, answer.text
        booked = answer.json()
        hold_until = instant(booked["pickup"]["hold_until"])
        booking = Booking(store, cart, BOOKED, booked["pickup_code"], hold_until)
        self.model.pickups[pickup_id] = booking
        self.model.hold(booking, +1)
        return pickup_id

    @rule(pickup_id=pickup_ids)
    def ready(self, pickup_id: str) -> None:
        answer = self.send("POST", f"/v1/pickups/{pickup_id}/ready")
        booking = self.model.pickups.get(pickup_id)
        if booking is None:
            assert answer.status_code == 404, answer.text
            return
        if booking.status not in (BOOKED, READY):
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 200, answer.text
        booking.status = READY

    @rule(pickup_id=pickup_ids, data=st.data())
    def collect(self, pickup_id: str, data: st.DataObject) -> None:
        """With the right code: everything, or fewer units of some lines (the rest is
        released). Only a ready pickup can be collected; a collected one answers the
        same again."""
        booking = self.model.pickups.get(pickup_id)
        code = booking.code if booking is not None else "ABCDEFGH"
        lines = booking.lines if booking is not None else {"S1": 1}
        taken = data.draw(
            st.none() | st.fixed_dictionaries({s: st.integers(1, q) for s, q in lines.items()})
        )
        body: dict[str, Any] = {"code": code}
        if taken is not None:
            body["lines"] = [{"sku": s, "quantity": q} for s, q in taken.items()]
        answer = self.send("POST", f"/v1/pickups/{pickup_id}/collect", json=body)
        if booking is None:
            assert answer.status_code == 404, answer.text
            return
        if booking.status not in (READY, COLLECTED):
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 200, answer.text
        if booking.status == READY:
            self.model.hold(booking, -1)
            for sku, quantity in (taken or booking.lines).items():
                self.model.figures(booking.location_id, sku).on_hand -= quantity
            booking.status = COLLECTED

    @rule(pickup_id=pickup_ids)
    def its_hold_ends(self, pickup_id: str) -> None:
        """The no-show sweep at this pickup's hold_until: every hold due by then ends; a
        ready pickup is a no-show, one never made ready is cancelled; stock released."""
        booking = self.model.pickups.get(pickup_id)
        if booking is None or booking.hold_until is None:
            return
        at = booking.hold_until + timedelta(seconds=1)
        ended = self.run(mark_no_shows(self.world.runtime.db, 100, now=at))
        self.trail.append(f"no-show sweep at {pickup_id}'s hold_until: {ended}")
        due = [
            b
            for b in self.model.pickups.values()
            if b.status in (BOOKED, READY) and b.hold_until is not None and b.hold_until < at
        ]
        assert ended == len(due)
        for gone in due:
            self.model.hold(gone, -1)
            gone.status = NO_SHOW if gone.status == READY else CANCELLED

    # -------------------------------------------------------------- after every step

    def mismatch(self, what: str) -> str:
        return f"{what}, after:\n" + "\n".join(self.trail)

    @invariant()
    def the_api_says_what_the_model_says(self) -> None:
        if self.client is None:
            return
        for sku in SKUS:
            answer = self.send("GET", f"/v1/availability/{sku}")
            assert answer.status_code == 200, answer.text
            seen = {a["location_id"]: a for a in answer.json()["locations"]}
            for location in LOCATIONS:
                want = self.model.figures(location, sku)
                have = seen.get(location, {})
                got = tuple(
                    have.get(k, 0) for k in ("on_hand", "reserved", "incoming", "available")
                )
                expected = (want.on_hand, want.reserved, want.incoming, want.available)
                assert got == expected, self.mismatch(
                    f"{location}/{sku}: api {got}, model {expected}"
                )
        for reservation_id, booking in self.model.reservations.items():
            answer = self.send("GET", f"/v1/reservations/{reservation_id}")
            status = answer.json()["status"]
            assert status == booking.status, self.mismatch(f"{reservation_id}: {answer.text}")
        for pickup_id, booking in self.model.pickups.items():
            answer = self.send("GET", f"/v1/pickups/{pickup_id}")
            status = answer.json()["status"]
            assert status == booking.status, self.mismatch(f"{pickup_id}: {answer.text}")
        problems = self.run(verify_ledger(self.world.db))
        assert problems == [], problems


def _move(kind: str, location_id: str, sku: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "sku": sku, "location_id": location_id, **more}


@pytest.mark.slow
async def test_random_sequences_through_the_api_agree_with_the_reference_model(
    app: Litestar, runtime: Runtime, db: Database, pool: Pool, clean: None
) -> None:
    world = World(asyncio.get_running_loop(), app, runtime, db, pool)
    machine = type("Machine", (InventoryMachine,), {"world": world})
    budget = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        derandomize=not RANDOM,
        database=None if not RANDOM else settings.default.database,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=budget)
