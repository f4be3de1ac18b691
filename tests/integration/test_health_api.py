"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import msgspec

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings, load_settings
from service.storage import migrations
from service.storage.pool import connect
from tests.helpers import Client
from tests.reservation_helpers import eventually
from tests.tcp_proxy import TcpProxy, through


async def test_live_answers_200(client: Client) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_answers_200_when_the_database_answers_and_migrations_are_current(
    client: Client,
) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "change_feed": "ok",
            "availability_cache": "ok",
        },
    }


async def test_ready_answers_503_naming_a_pending_migration(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    url = await new_database()
    conn = await connect(url)
    try:
        applied = await migrations.migrate(conn)
        await conn.execute("DELETE FROM schema_migrations WHERE name = $1", applied[-1])
    finally:
        await conn.close()
    runtime = await Runtime.start(load_settings({}, database_url=url, environment="test"))
    try:
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://ready.test") as http:
            response = await http.get("/health/ready")
    finally:
        await runtime.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert applied[-1] in body["checks"]["migrations"]


async def test_every_response_carries_the_request_id_it_was_given(client: Client) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    generated = await client.get("/health/live")
    assert len(generated.headers["x-request-id"]) >= 16


@asynccontextmanager
async def served_through(settings: Settings, proxy: TcpProxy) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a runtime of its own that reaches the database through ``proxy``."""
    behind = msgspec.structs.replace(
        settings,
        database_url=through(settings.database_url, proxy.port),
        db_connect_timeout_s=0.5,
        readiness_timeout_s=0.5,
    )
    runtime = await Runtime.start(behind)
    try:
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://ready.test") as http:
            yield http
    finally:
        await runtime.stop()


async def test_the_service_starts_while_the_database_is_down_and_is_ready_once_it_is_back(
    settings: Settings,
) -> None:
    proxy = TcpProxy(5432)
    await proxy.up()
    await proxy.down()  # the port is kept: the database is "down" behind it
    try:
        async with served_through(settings, proxy) as http:
            waiting = await http.get("/health/ready")
            assert waiting.status_code == 503
            checks = waiting.json()["checks"]
            assert checks["change_feed"] == "waiting for the database"
            assert checks["database"].startswith("error")
            await proxy.up()

            async def ready() -> bool | None:
                return True if (await http.get("/health/ready")).status_code == 200 else None

            await eventually(ready, "readiness once the database is back", within_s=20)
    finally:
        await proxy.down()


async def test_readiness_answers_within_its_deadline_when_the_database_stops_answering(
    settings: Settings,
) -> None:
    proxy = TcpProxy(5432)
    await proxy.up()
    try:
        async with served_through(settings, proxy) as http:

            async def ready() -> bool | None:
                return True if (await http.get("/health/ready")).status_code == 200 else None

            await eventually(ready, "readiness", within_s=20)
            proxy.stalled = True  # packets dropped, nothing closed
            started = time.monotonic()
            silent = await http.get("/health/ready")
            assert time.monotonic() - started < 2.0, silent.text
            assert silent.status_code == 503
            assert silent.json()["checks"]["database"] == "no answer within 0.5 s"
            proxy.stalled = False
    finally:
        await proxy.down()
