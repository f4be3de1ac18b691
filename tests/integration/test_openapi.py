"""The published contract: public, secured by API key, with examples to try."""

from __future__ import annotations

import httpx
import pytest


async def test_the_openapi_document_is_public_and_every_operation_asks_for_the_api_key(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/schema/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    document = response.json()
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert document["security"] == [{"apiKey": []}]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/v1/stock/movements", "post"),
        ("/v1/locations/{location_id}", "put"),
        ("/v1/reservations", "post"),
        ("/v1/availability/query", "post"),
        ("/v1/pickups", "post"),
    ],
)
async def test_the_main_request_bodies_come_with_an_example(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    content = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    assert content["schema"]["examples"], f"{method.upper()} {path} has no example"
