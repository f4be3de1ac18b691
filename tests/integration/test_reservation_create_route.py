"""POST /v1/reservations, the flash sale's request, is an ASGI route
(service/api/reservations.py, service/api/asgi_routes.py): it reads and decodes its
body itself and must answer every request as an ordinary Litestar route would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases import reservations
from tests.helpers import assert_problem
from tests.reservation_helpers import count_rows, create_body, given_stock

Client = httpx.AsyncClient
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def store(client: Client, db: Database) -> str:
    await given_stock(db, "ST-A", ("S1", 10))
    return "ST-A"


async def post(client: Client, raw: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/v1/reservations", content=raw, headers=headers or JSON)


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


async def test_a_repeated_create_gets_the_first_answer_with_200(client: Client, store: str) -> None:
    body = encoded(create_body("r-1", store, ("S1", 2), external_ref="order-1"))
    first = await post(client, body)
    again = await post(client, body)
    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]


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
async def test_a_refused_create_is_a_problem_and_writes_nothing(
    client: Client, store: str, pool: Pool, body: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(await post(client, encoded(body)), status, code)
    assert await count_rows(pool, "reservations") == 0


@pytest.mark.parametrize(
    ("raw", "status", "code", "field"),
    [
        (b"{not json", 400, "malformed_json", None),
        (b"", 400, "malformed_json", None),
        (b'{"reservation_id": "r-1"}', 422, "invalid_body", "location_id"),
        (
            b'{"reservation_id": "r-1", "location_id": "ST-A", "x": 1}',
            422,
            "invalid_body",
            "x",
        ),
        (
            b'{"reservation_id": "r-1", "location_id": "ST-A", "lines": [{"sku": "S1"}]}',
            422,
            "invalid_body",
            "lines[0].quantity",
        ),
    ],
    ids=["undecodable", "empty", "missing-field", "unknown-field", "nested-missing-field"],
)
async def test_a_body_that_is_not_a_create_is_refused_naming_the_field(
    client: Client, store: str, pool: Pool, raw: bytes, status: int, code: str, field: str | None
) -> None:
    response = await post(client, raw)
    assert_problem(response, status, code)
    assert response.json().get("field") == field
    assert await count_rows(pool, "reservations") == 0


async def test_numbers_sent_as_strings_are_taken_as_every_route_takes_them(
    client: Client, store: str
) -> None:
    raw = b'{"reservation_id": "r-1", "location_id": "ST-A", "lines": [{"sku": "S1", "quantity": "2"}]}'
    response = await post(client, raw, {"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["quantity"] == 2


async def test_a_body_over_the_limit_is_refused_with_413_whether_declared_or_streamed(
    client: Client, store: str
) -> None:
    line = {"sku": "S1", "quantity": 1}
    big = encoded({"reservation_id": "r-1", "location_id": store, "lines": [line] * 200_000})
    assert_problem(await post(client, big), 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is counted
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    streamed = await client.post("/v1/reservations", content=chunks(), headers=JSON)
    assert_problem(streamed, 413, "payload_too_large")


async def test_a_create_needs_a_key_that_may_reserve(
    client: Client, store: str, make_key: Any
) -> None:
    body = encoded(create_body("r-1", store, ("S1", 1)))
    anonymous = await post(client, body, {**JSON, "Authorization": ""})
    assert_problem(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="inventory"'
    reader = await post(
        client, body, {**JSON, "Authorization": f"Bearer {await make_key('reader')}"}
    )
    assert_problem(reader, 403, "forbidden")


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
async def test_an_ignored_field_is_still_checked_as_json(
    client: Client, store: str, pool: Pool, raw: bytes
) -> None:
    response = await post(client, raw)
    assert_problem(response, 400, "malformed_json")
    assert response.headers["x-request-id"]
    assert await count_rows(pool, "reservations") == 0


async def test_an_unexpected_failure_is_a_500_with_a_request_id(
    client: Client, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("the engine is gone")

    monkeypatch.setattr(reservations, "create_reservation", broken)
    response = await post(client, encoded(create_body("r-1", store, ("S1", 1))))
    assert_problem(response, 500, "internal_error")
    assert response.headers["x-request-id"]


async def test_other_methods_are_refused_and_options_lists_the_allowed_ones(client: Client) -> None:
    refused = await client.get("/v1/reservations")
    assert_problem(refused, 405, "method_not_allowed")
    assert refused.headers["allow"] == "POST, OPTIONS"
    options = await client.options("/v1/reservations", headers={"Authorization": ""})
    assert options.status_code == 204
    assert options.headers["allow"] == "POST, OPTIONS"


async def test_the_openapi_document_describes_the_route(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/v1/reservations"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["allOf"] == [{"$ref": "#/components/schemas/CreateReservation"}]
    assert "reservation_id" in document["components"]["schemas"]["CreateReservation"]["properties"]
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/Reservation"}
    again = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert again == {"$ref": "#/components/schemas/Reservation"}
    assert sorted(operation["responses"]) == [
        "200",
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
    ]
