"""POST /v1/reservations is answered by the edge middleware when its body is plain JSON
(service/api/middleware.py, ``answer_from_body``); everything else reaches the handler.
Both must give the same answers, byte for byte, and the same effects."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases import reservations
from tests.helpers import assert_problem
from tests.reservation_helpers import count_rows, create_body, given_stock

Client = httpx.AsyncClient
SHORTCUT = {"Content-Type": "application/json"}
HANDLER = {"Content-Type": "application/json; charset=utf-8"}  # a parameter: not taken here


@pytest.fixture
async def store(client: Client, db: Database) -> str:
    await given_stock(db, "ST-A", ("S1", 10))
    return "ST-A"


async def post(client: Client, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/reservations", content=json.dumps(body), headers=headers)


def answered(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
    return response.status_code, response.content, headers


async def test_a_repeated_create_gets_the_same_bytes_from_the_middleware_and_the_handler(
    client: Client, store: str
) -> None:
    body = create_body("r-1", store, ("S1", 2), external_ref="order-1")
    first = await post(client, body, SHORTCUT)
    assert first.status_code == 201, first.text
    by_handler = await post(client, body, HANDLER)
    by_middleware = await post(client, body, SHORTCUT)
    assert answered(by_handler) == answered(by_middleware)
    assert by_middleware.status_code == 200
    assert by_middleware.json() == first.json()
    assert by_middleware.headers["x-request-id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (create_body("r-9", "ST-A", ("S1", 50)), 409, "insufficient_stock"),
        (create_body("r-9", "ST-A", ("S1", 1), ("S1", 2)), 422, "invalid_input"),
        (create_body("r-9", "ST-NOWHERE", ("S1", 1)), 422, "unknown_location"),
        (create_body("pickup:p-1", "ST-A", ("S1", 1)), 422, "owned_by_pickup"),
    ],
    ids=["short", "sku-twice", "unknown-location", "pickup-owned"],
)
async def test_a_refusal_is_the_same_from_the_middleware_and_the_handler(
    client: Client, store: str, pool: Pool, body: dict[str, Any], status: int, code: str
) -> None:
    by_middleware = await post(client, body, SHORTCUT)
    by_handler = await post(client, body, HANDLER)
    assert_problem(by_middleware, status, code)
    assert answered(by_middleware) == answered(by_handler)
    assert await count_rows(pool, "reservations") == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"reservation_id": "r-1"}', b'{"reservation_id": "r-1", "extra": 1}'],
    ids=["undecodable", "missing-fields", "unknown-field"],
)
async def test_a_body_the_middleware_cannot_decode_gets_the_handlers_error(
    client: Client, store: str, pool: Pool, raw: bytes
) -> None:
    by_middleware = await client.post("/v1/reservations", content=raw, headers=SHORTCUT)
    by_handler = await client.post("/v1/reservations", content=raw, headers=HANDLER)
    assert by_middleware.status_code in (400, 422)
    assert answered(by_middleware) == answered(by_handler)
    assert await count_rows(pool, "reservations") == 0


async def test_a_body_over_the_limit_is_still_refused_with_413(
    client: Client, store: str, db: Database
) -> None:
    line = {"sku": "S1", "quantity": 1}
    body = {"reservation_id": "r-1", "location_id": store, "lines": [line] * 200_000}
    response = await post(client, body, SHORTCUT)
    assert_problem(response, 413, "payload_too_large")


async def test_a_create_needs_a_key_that_may_reserve(client: Client, store: str) -> None:
    body = json.dumps(create_body("r-1", store, ("S1", 1)))
    anonymous = await client.post(
        "/v1/reservations", content=body, headers={**SHORTCUT, "Authorization": ""}
    )
    assert_problem(anonymous, 401, "unauthorized")


def with_line_extra(extra: bytes) -> bytes:
    """A valid create whose line carries an extra field (lines ignore unknown fields)."""
    return (
        b'{"reservation_id": "r-1", "location_id": "ST-A", '
        b'"lines": [{"sku": "S1", "quantity": 1, "note": ' + extra + b"}]}"
    )


@pytest.mark.parametrize(
    "raw",
    [
        with_line_extra(b'"\xff\xfe"'),
        with_line_extra(b"1e999"),
        with_line_extra(b"9" * 5000),
        with_line_extra(b"[" * 1200 + b"]" * 1200),
    ],
    ids=["invalid-utf8", "number-out-of-range", "huge-integer", "deep-nesting"],
)
async def test_an_ignored_field_is_still_checked_as_json_on_both_paths(
    client: Client, store: str, pool: Pool, raw: bytes
) -> None:
    by_middleware = await client.post("/v1/reservations", content=raw, headers=SHORTCUT)
    by_handler = await client.post("/v1/reservations", content=raw, headers=HANDLER)
    assert by_middleware.status_code == 400, by_middleware.text
    assert answered(by_middleware) == answered(by_handler)
    assert by_middleware.headers["x-request-id"]
    assert await count_rows(pool, "reservations") == 0


async def test_an_unexpected_failure_is_the_same_500_with_a_request_id_on_both_paths(
    client: Client, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("the engine is gone")

    monkeypatch.setattr(reservations, "create_reservation", broken)
    body = create_body("r-1", store, ("S1", 1))
    by_middleware = await post(client, body, SHORTCUT)
    by_handler = await post(client, body, HANDLER)
    assert_problem(by_middleware, 500, "internal_error")
    assert answered(by_middleware) == answered(by_handler)
    assert by_middleware.headers["x-request-id"]
