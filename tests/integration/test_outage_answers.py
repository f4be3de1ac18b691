"""While the database does not answer, every route answers 503 with Retry-After and an
honest detail, and the service logs one line when the outage starts and one when it
ends (not a traceback per request)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import assert_problem
from tests.reservation_helpers import create_body, eventually
from tests.tcp_proxy import TcpProxy, through

KeyMaker = Any


@pytest.fixture
async def http(
    settings: Settings, db_proxy: TcpProxy, make_key: KeyMaker
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a runtime of its own that reaches the database through ``db_proxy``."""
    behind = msgspec.structs.replace(
        settings,
        database_url=through(settings.database_url, db_proxy.port),
        db_connect_timeout_s=0.5,
        db_acquire_timeout_s=0.5,
    )
    runtime = await Runtime.start(behind)
    headers = {"Authorization": f"Bearer {await make_key('admin')}"}
    try:
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://outage.test", headers=headers
        ) as client:
            assert (await client.get("/v1/locations")).status_code == 200  # the key is known
            yield client
    finally:
        await runtime.stop()


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, Any]]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == name]


async def test_every_route_answers_503_with_retry_after_while_the_database_is_down(
    http: httpx.AsyncClient, db_proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await db_proxy.down()
    answers = [
        await http.get("/v1/reservations/r-1"),
        await http.get("/v1/locations/ST-A"),
        await http.post("/v1/reservations", json=create_body("r-1", "ST-A", ("S1", 1))),
        await http.post(
            "/v1/stock/movements",
            json={
                "movements": [
                    {"kind": "receipt", "sku": "S1", "location_id": "ST-A", "quantity": 1}
                ]
            },
            headers={"Idempotency-Key": "k-1"},
        ),
    ]
    for answer in answers:
        assert_problem(answer, 503, "database_unavailable")
        assert answer.headers["retry-after"] == "5"
        assert "not applied" in answer.json()["detail"]
    assert len(events(caplog, "database_unavailable")) == 1
    assert events(caplog, "unhandled_error") == []

    await db_proxy.up()

    async def answered() -> bool | None:
        return True if (await http.get("/v1/reservations/r-1")).status_code == 404 else None

    await eventually(answered, "an answer once the database is back")
    [recovered] = events(caplog, "database_recovered")
    assert recovered["refused"] >= len(answers)
