"""Bodies under /v1 only as application/json: a plain cross-site form can send
text/plain, url-encoded or multipart bodies (no CORS preflight), never JSON, so a
/v1 route that read those as JSON could be driven from any web page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.storage.pool import Pool
from tests.pickup_helpers import assert_problem, given_pickup_store, lines_of

REFUSED = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json-patch+json",
    "application/json; charset=latin-1",
    "",  # a body without a content type
]
ACCEPTED = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/JSON",
    'application/json ; charset="utf-8"',
]


def reservation(reservation_id: str) -> dict[str, Any]:
    return {"reservation_id": reservation_id, "location_id": "ST-A", "lines": lines_of(("S1", 1))}


BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/reservations", reservation("R-CT")),  # an ASGI route (reads its own body)
    ("POST", "/v1/availability/query", {"lines": lines_of(("S1", 1))}),
    ("POST", "/v1/stock/movements", {"movements": []}),
    ("PUT", "/v1/stock/S1/locations/ST-A/safety-stock", {"safety_stock": 1}),
    ("PUT", "/v1/locations/ST-Z", {"kind": "store"}),
    ("POST", "/v1/pickups/P-1/collect", {"code": "ZZZZ-ZZZZ"}),
]


async def send(
    client: httpx.AsyncClient, method: str, path: str, body: bytes, content_type: str
) -> httpx.Response:
    headers = {"Idempotency-Key": "k-1"}
    if content_type:
        headers["Content-Type"] = content_type
    return await client.request(method, path, content=body, headers=headers)


@pytest.mark.parametrize("content_type", REFUSED)
@pytest.mark.parametrize(("method", "path", "body"), BODIES, ids=lambda v: str(v)[:40])
async def test_a_v1_body_that_is_not_application_json_is_415_and_nothing_is_applied(
    client: httpx.AsyncClient,
    pool: Pool,
    method: str,
    path: str,
    body: dict[str, Any],
    content_type: str,
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    raw = httpx.Request("POST", "/", json=body).content
    response = await send(client, method, path, raw, content_type)
    problem = assert_problem(response, 415, "unsupported_media_type")
    assert "application/json" in problem["detail"]
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0


@pytest.mark.parametrize("content_type", ACCEPTED)
async def test_application_json_with_or_without_a_charset_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    raw = httpx.Request("POST", "/", json=reservation("R-1")).content
    response = await send(client, "POST", "/v1/reservations", raw, content_type)
    assert response.status_code == 201, response.text


async def test_two_content_types_are_refused(client: httpx.AsyncClient) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    raw = httpx.Request("POST", "/", json=reservation("R-1")).content
    headers = [("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    response = await client.post("/v1/reservations", content=raw, headers=headers)
    assert_problem(response, 415, "unsupported_media_type")


async def test_a_request_without_a_body_needs_no_content_type(client: httpx.AsyncClient) -> None:
    await given_pickup_store(client, "ST-A", ("S1", 5))
    created = await client.post("/v1/reservations", json=reservation("R-1"))
    assert created.status_code == 201, created.text
    cancelled = await client.post("/v1/reservations/R-1/cancel")
    assert cancelled.status_code == 200, cancelled.text


async def test_every_v1_operation_that_takes_a_body_documents_the_415(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    with_body = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/v1/") and isinstance(operation, dict) and "requestBody" in operation
    ]
    assert len(with_body) >= 10
    for method, path, operation in with_body:
        answer = operation["responses"].get("415")
        assert answer is not None, f"{method.upper()} {path} does not document its 415"
        assert "application/problem+json" in answer["content"]
