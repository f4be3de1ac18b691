"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import load_settings
from service.storage import migrations
from service.storage.pool import connect
from tests.helpers import Client


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
        "checks": {"database": "ok", "migrations": "ok", "availability_cache": "ok"},
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
