"""Every /v1 route group against every kind of caller: no key and unknown keys are
401, a key outside its role is 403, a staff key works at its own store only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from litestar import Litestar
from litestar.routes import ASGIRoute, BaseRoute

from service.api.openapi import OPENAPI
from service.runtime import Runtime
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.keys import create_key, revoke_key
from tests.conftest import truncate_all
from tests.pickup_helpers import (
    Client,
    at_noon,
    booked,
    given_pickup_store,
    given_warehouse,
    lines_of,
    store_body,
)
from tests.staff_helpers import staff_browser

StaffScope = Literal["everywhere", "own store", "nowhere"]
OWN = {"loc": "ST-A", "pid": "P-A"}
OTHER = {"loc": "ST-B", "pid": "P-B"}


@dataclass(frozen=True)
class Route:
    group: str
    method: str
    path: str  # with {loc} and {pid}
    roles: frozenset[str]  # roles that may call it everywhere (admin always may)
    staff: StaffScope
    body: Callable[[dict[str, str]], Any] | None = None
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.group}: {self.method} {self.path}"

    async def call(self, http: Client, where: dict[str, str], **headers: str) -> httpx.Response:
        headers = {"Idempotency-Key": uuid.uuid4().hex, **headers}
        kwargs: dict[str, Any] = {"headers": headers, "params": self.params}
        if self.body is not None:
            kwargs["json"] = self.body(where)
        return await http.request(self.method, self.path.format(**where), **kwargs)


def route(group: str, method: str, path: str, roles: str, staff: StaffScope, **more: Any) -> Route:
    return Route(group, method, path, frozenset(roles.split()), staff, **more)


READERS = "reader webshop integration"
ROUTES = [
    route("locations read", "GET", "/v1/locations", READERS + " staff", "everywhere"),
    route("locations read", "GET", "/v1/locations/{loc}", READERS + " staff", "everywhere"),
    route("locations write", "PUT", "/v1/locations/{loc}", "", "nowhere",
          body=lambda w: store_body()),
    route("stock movements", "POST", "/v1/stock/movements", "integration", "nowhere",
          body=lambda w: {"movements": [{"kind": "receipt", "sku": "S1", "location_id": w["loc"], "quantity": 1}]}),
    route("stock ledger read", "GET", "/v1/stock/S1/locations/{loc}/movements", "integration", "own store"),
    route("safety stock", "PUT", "/v1/stock/S1/locations/{loc}/safety-stock", "integration", "nowhere",
          body=lambda w: {"safety_stock": 1}),
    route("availability", "GET", "/v1/availability/S1", READERS, "nowhere"),
    route("availability", "GET", "/v1/availability/S1/locations/{loc}", READERS, "own store"),
    route("availability", "GET", "/v1/availability/S1/nearby", READERS, "nowhere",
          params={"lat": "59.91", "lon": "10.75"}),
    route("availability", "POST", "/v1/availability/query", READERS, "nowhere",
          body=lambda w: {"lines": lines_of(("S1", 1)), "location_ids": [w["loc"]]}),
    route("reservations", "POST", "/v1/reservations", "webshop", "nowhere",
          body=lambda w: {"reservation_id": f"R-{uuid.uuid4().hex[:8]}", "location_id": w["loc"], "lines": lines_of(("S1", 1))}),
    route("reservations", "GET", "/v1/reservations/R-1", "webshop", "nowhere"),
    route("reservations", "POST", "/v1/reservations/R-1/cancel", "webshop", "nowhere"),
    route("reservations", "POST", "/v1/reservations/R-1/fulfil", "webshop", "nowhere"),
    route("pickup slots", "GET", "/v1/locations/{loc}/pickup-slots", "reader webshop", "own store"),
    route("pickup settings", "GET", "/v1/locations/{loc}/pickup-settings", "reader webshop", "own store"),
    route("pickup settings", "PUT", "/v1/locations/{loc}/pickup-settings", "", "nowhere",
          body=lambda w: {"prep_minutes": 0}),
    route("pickups book", "POST", "/v1/pickups", "webshop", "nowhere",
          body=lambda w: {"pickup_id": f"P-{uuid.uuid4().hex[:8]}", "location_id": w["loc"],
                          "slot_start": at_noon(2).isoformat(), "lines": lines_of(("S1", 1)),
                          "customer": {"name": "Kari"}}),
    route("pickups read", "GET", "/v1/pickups/{pid}", "webshop", "own store"),
    route("pickups reschedule", "POST", "/v1/pickups/{pid}/reschedule", "webshop", "nowhere",
          body=lambda w: {"slot_start": at_noon(1, 30).isoformat()}),
    route("pickups cancel", "POST", "/v1/pickups/{pid}/cancel", "webshop", "own store"),
    route("pickups ready", "POST", "/v1/pickups/{pid}/ready", "", "own store"),
    route("pickups collect", "POST", "/v1/pickups/{pid}/collect", "", "own store",
          body=lambda w: {"code": "ZZZZ-ZZZZ"}),
    route("store day list", "GET", "/v1/locations/{loc}/pickups", "", "own store"),
    route("returns", "POST", "/v1/locations/{loc}/returns", "", "own store",
          body=lambda w: {"sku": "S1", "quantity": 1}),
]  # fmt: skip


@dataclass
class World:
    http: Client  # sends no key unless told
    admin: Client  # sends the admin key
    keys: dict[str, str]  # role -> token; "staff" is a staff key of ST-A
    staff_cookies: str  # the cookies of a browser signed in to the staff page (admin key)

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
async def world(app: Litestar, db: Database, pool: Pool, runtime: Runtime) -> AsyncIterator[World]:
    """Stores ST-A and ST-B (with stock S1 and a booked pickup each: P-A, P-B), a
    warehouse, reservation R-1 at ST-A, and a key per role (staff: of ST-A).

    Built once for the module (the tests only add to it, and ask only who may
    call what), on a database emptied first as the ``clean`` fixture does."""
    await truncate_all(pool)
    runtime.read_model.reset()
    await runtime.read_model.locations.load()
    keys = {
        role: await create_key(db, f"test {role}", role, [])
        for role in ("reader", "webshop", "integration", "admin")
    }
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://caller.test") as http,
        httpx.AsyncClient(
            transport=transport,
            base_url="http://admin.test",
            headers={"Authorization": f"Bearer {keys['admin']}"},
        ) as admin,
    ):
        for store in ("ST-A", "ST-B"):
            await given_pickup_store(admin, store, ("S1", 1000), capacity_per_slot=1000)
        await given_warehouse(admin, "WH-1")
        await booked(admin, "P-A", "ST-A", at_noon(1), ("S1", 1))
        await booked(admin, "P-B", "ST-B", at_noon(1), ("S1", 1))
        body = {"reservation_id": "R-1", "location_id": "ST-A", "lines": lines_of(("S1", 1))}
        assert (await admin.post("/v1/reservations", json=body)).status_code == 201
        keys["staff"] = await create_key(db, "test staff", "staff", ["ST-A"])
        async with staff_browser(app) as browser:
            assert (await browser.sign_in(keys["admin"])).status_code == 303
            cookies = browser.cookie_header()
        yield World(http, admin, keys, cookies)


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].lower().startswith("bearer")


def assert_forbidden(response: httpx.Response, who: str) -> None:
    assert response.status_code == 403, f"{who}: {response.status_code} {response.text}"
    assert response.json()["code"] == "forbidden", who


def assert_let_through(response: httpx.Response, who: str) -> None:
    assert response.status_code not in (401, 403), f"{who}: {response.status_code} {response.text}"
    assert response.status_code < 500, f"{who}: {response.status_code} {response.text}"


@pytest.mark.parametrize("target", ROUTES, ids=str)
async def test_a_request_without_a_key_or_with_an_unknown_key_is_401(
    world: World, target: Route
) -> None:
    assert_unauthorized(await target.call(world.http, OWN))
    for token in ("garbage", "inv_000000000000_not-the-secret", "inv__", ""):
        assert_unauthorized(await target.call(world.http, OWN, Authorization=f"Bearer {token}"))
    real = world.keys["admin"]
    tampered = real[:-2] + ("xx" if not real.endswith("xx") else "yy")
    assert_unauthorized(await target.call(world.http, OWN, Authorization=f"Bearer {tampered}"))
    assert_unauthorized(await target.call(world.http, OWN, Authorization=f"Basic {real}"))


@pytest.mark.parametrize("target", ROUTES, ids=str)
async def test_a_key_outside_its_role_is_403_and_a_key_within_it_is_let_through(
    world: World, target: Route
) -> None:
    roles = ("reader", "webshop", "integration", "admin")
    for role in sorted(roles, key=lambda r: r == "admin" or r in target.roles):
        response = await target.call(world.http, OWN, **world.bearer(role))
        if role == "admin" or role in target.roles:
            assert_let_through(response, role)
        else:
            assert_forbidden(response, role)


@pytest.mark.parametrize("target", ROUTES, ids=str)
async def test_a_staff_key_works_at_its_own_store_and_is_403_at_another(
    world: World, target: Route
) -> None:
    at_other = await target.call(world.http, OTHER, **world.bearer("staff"))
    at_own = await target.call(world.http, OWN, **world.bearer("staff"))
    if target.staff == "nowhere":
        assert_forbidden(at_own, "staff at its own store")
        assert_forbidden(at_other, "staff at another store")
    elif target.staff == "own store":
        assert_let_through(at_own, "staff at its own store")
        assert_forbidden(at_other, "staff at another store")
    else:
        assert_let_through(at_own, "staff at its own store")
        assert_let_through(at_other, "staff at another store")


@pytest.mark.parametrize("target", ROUTES, ids=str)
async def test_the_staff_page_s_session_cookie_authenticates_no_v1_route(
    world: World, target: Route
) -> None:
    """Only ``Authorization: Bearer`` authenticates under /v1: neither the staff page's
    session cookie (of an admin) nor an API key in a cookie, as the page once kept it."""
    assert world.staff_cookies
    assert_unauthorized(await target.call(world.http, OWN, Cookie=world.staff_cookies))
    legacy = f"inventory_session={world.keys['admin']}"
    assert_unauthorized(await target.call(world.http, OWN, Cookie=legacy))


def test_the_route_table_covers_every_v1_route_of_the_app(app: Litestar) -> None:
    served = {
        (method, r.path)
        for r in app.routes
        if r.path.startswith("/v1")
        for method in _methods(r)
        if method not in ("HEAD", "OPTIONS")
    }
    tested = {(t.method, _litestar_path(t.path)) for t in ROUTES}
    assert served == tested


def _methods(route: BaseRoute) -> set[str]:
    """An HTTP route's methods; an ASGI route's, as its OpenAPI operation names it."""
    if isinstance(route, ASGIRoute):
        return {route.route_handler.opt[OPENAPI].method}
    return set(getattr(route, "methods", ()))


def _litestar_path(path: str) -> str:
    """Our table's path in Litestar's spelling of path parameters."""
    return (
        path.replace("{loc}", "{location_id:str}")
        .replace("{pid}", "{pickup_id:str}")
        .replace("/S1/", "/{sku:str}/")
        .replace("/S1", "/{sku:str}")
        .replace("/R-1", "/{reservation_id:str}")
        .replace("/v1/locations/ST-A", "/v1/locations/{location_id:str}")
    )


# ------------------------------------------------------------------ the staff key at work


async def test_a_staff_key_runs_the_counter_of_its_own_store_from_ready_to_collected(
    world: World,
) -> None:
    code = (await booked(world.admin, "P-A2", "ST-A", at_noon(1), ("S1", 2)))["pickup_code"]
    staff = world.bearer("staff")
    day = await world.http.get(
        "/v1/locations/ST-A/pickups", params={"date": str(at_noon(1).date())}, headers=staff
    )
    listed = day.json()["pickups"]
    assert "P-A2" in [p["pickup_id"] for p in listed]
    assert {p["location_id"] for p in listed} == {"ST-A"}
    before = await world.http.get("/v1/availability/S1/locations/ST-A", headers=staff)
    assert before.status_code == 200, before.text
    ready = await world.http.post("/v1/pickups/P-A2/ready", headers=staff)
    assert ready.json()["status"] == "ready", ready.text
    done = await world.http.post("/v1/pickups/P-A2/collect", json={"code": code}, headers=staff)
    assert done.json()["status"] == "collected", done.text
    ledger = await world.http.get("/v1/stock/S1/locations/ST-A/movements", headers=staff)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json()["movements"][0]["kind"] == "fulfil"
    after = await world.http.get("/v1/availability/S1/locations/ST-A", headers=staff)
    assert after.json()["on_hand"] == before.json()["on_hand"] - 2
    returned = await world.http.post(
        "/v1/locations/ST-A/returns", json={"sku": "S1", "quantity": 1},
        headers={**staff, "Idempotency-Key": "ret-1"},
    )  # fmt: skip
    assert returned.status_code == 200, returned.text


async def test_a_staff_key_cannot_touch_a_pickup_of_another_store_and_changes_nothing(
    world: World,
) -> None:
    await booked(world.admin, "P-B2", "ST-B", at_noon(1), ("S1", 1))
    staff = world.bearer("staff")
    for action in ("ready", "cancel"):
        response = await world.http.post(f"/v1/pickups/P-B2/{action}", headers=staff)
        assert_forbidden(response, action)
    assert (await world.admin.get("/v1/pickups/P-B2")).json()["status"] == "booked"


async def test_a_staff_key_naming_two_stores_acts_at_both_and_at_no_third(
    world: World, db: Database
) -> None:
    await given_pickup_store(world.admin, "ST-C")
    both = {"Authorization": f"Bearer {await create_key(db, 'two', 'staff', ['ST-A', 'ST-B'])}"}
    for store in ("ST-A", "ST-B"):
        assert_let_through(
            await world.http.get(f"/v1/locations/{store}/pickups", headers=both), store
        )
    assert_forbidden(await world.http.get("/v1/locations/ST-C/pickups", headers=both), "ST-C")


# ------------------------------------------------------------------ revocation and public routes


async def test_a_revoked_key_is_401_from_then_on(world: World, db: Database) -> None:
    token = await create_key(db, "soon revoked", "webshop", [])
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await world.http.get("/v1/pickups/P-A", headers=bearer)).status_code == 200
    key_id = token.split("_")[1]
    assert await revoke_key(db, key_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        response = await world.http.get("/v1/pickups/P-A", headers=bearer)
        if response.status_code == 401 or loop.time() > deadline:
            break
        await asyncio.sleep(0.02)
    assert_unauthorized(response)
    assert not await revoke_key(db, key_id)


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/schema/openapi.json"])
async def test_health_and_the_openapi_document_need_no_key(world: World, path: str) -> None:
    response = await world.http.get(path)
    assert response.status_code == 200, response.text
