"""Admins create, replace, list and read warehouses and stores."""

from __future__ import annotations

from typing import Any

import pytest

from service.storage.pool import Pool
from tests.helpers import Client, assert_problem, given_locations, location_body, snapshot


async def test_putting_a_new_location_creates_it_with_201(client: Client) -> None:
    response = await client.put("/v1/locations/ST-OSLO-SENTRUM", json=location_body(name="Oslo"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location_id"] == "ST-OSLO-SENTRUM"
    assert (body["kind"], body["name"], body["timezone"]) == ("store", "Oslo", "Europe/Oslo")
    assert body["opening_hours"]["monday"] == [{"opens": "09:00", "closes": "20:00"}]
    assert body["opening_hours"]["sunday"] == []
    assert body["active"] is True


async def test_putting_an_existing_location_replaces_it_with_200(client: Client) -> None:
    created = (await client.put("/v1/locations/ST-A", json=location_body(name="Old"))).json()
    response = await client.put(
        "/v1/locations/ST-A", json=location_body(name="New", low_stock_threshold=7, active=False)
    )
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["name"], replaced["low_stock_threshold"], replaced["active"]) == (
        "New",
        7,
        False,
    )
    assert replaced["created_at"] == created["created_at"]
    assert replaced["updated_at"] >= created["updated_at"]
    assert (await client.get("/v1/locations/ST-A")).json()["name"] == "New"


async def test_a_location_can_be_read_back_as_it_was_stored(client: Client) -> None:
    put = (await client.put("/v1/locations/WH-OSLO", json=location_body("warehouse"))).json()
    response = await client.get("/v1/locations/WH-OSLO")
    assert response.status_code == 200
    assert response.json() == put


async def test_reading_an_unknown_location_is_404(client: Client) -> None:
    response = await client.get("/v1/locations/ST-NOWHERE")
    assert_problem(response, 404, "location_not_found", "location_id")


async def test_the_list_holds_every_location_and_filters_by_kind(client: Client) -> None:
    await given_locations(client, "ST-B", "ST-A")
    await given_locations(client, "WH-A", kind="warehouse")
    every = (await client.get("/v1/locations")).json()["locations"]
    assert [loc["location_id"] for loc in every] == ["ST-A", "ST-B", "WH-A"]
    stores = (await client.get("/v1/locations", params={"kind": "store"})).json()["locations"]
    assert [loc["location_id"] for loc in stores] == ["ST-A", "ST-B"]
    warehouses = (await client.get("/v1/locations?kind=warehouse")).json()["locations"]
    assert [loc["location_id"] for loc in warehouses] == ["WH-A"]


async def test_listing_by_an_unknown_kind_is_refused(client: Client) -> None:
    response = await client.get("/v1/locations?kind=depot")
    assert_problem(response, 400, "invalid_parameter", "kind")


BAD_BODIES: list[tuple[str, dict[str, Any], int, str, str]] = [
    ("timezone", {"timezone": "Europe/Atlantis"}, 422, "invalid_input", "timezone"),
    ("latitude", {"latitude": 91}, 422, "invalid_body", "latitude"),
    ("longitude", {"longitude": -180.5}, 422, "invalid_body", "longitude"),
    ("kind", {"kind": "depot"}, 422, "invalid_body", "kind"),
    ("name", {"name": ""}, 422, "invalid_body", "name"),
    ("threshold", {"low_stock_threshold": -1}, 422, "invalid_body", "low_stock_threshold"),
    ("clock", {"opening_hours": {"monday": [{"opens": "9", "closes": "17:00"}]}}, 422,
     "invalid_body", "opening_hours.monday[0].opens"),
    ("backwards", {"opening_hours": {"monday": [{"opens": "17:00", "closes": "09:00"}]}}, 422,
     "invalid_input", "opening_hours.monday[0]"),
    ("overlap", {"opening_hours": {"friday": [{"opens": "09:00", "closes": "15:00"},
                                              {"opens": "14:00", "closes": "20:00"}]}},
     422, "invalid_input", "opening_hours.friday[1]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [b[1:] for b in BAD_BODIES],
    ids=[b[0] for b in BAD_BODIES],
)
async def test_a_bad_location_body_is_refused_naming_the_field_and_stores_nothing(
    client: Client, pool: Pool, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    before = await snapshot(pool)
    response = await client.put("/v1/locations/ST-A", json=location_body(**change))
    assert_problem(response, status, code, field)
    assert await snapshot(pool) == before


async def test_an_unknown_top_level_field_is_refused_naming_that_field(client: Client) -> None:
    response = await client.put("/v1/locations/ST-A", json=location_body(colour="red"))
    body = assert_problem(response, 422, "invalid_body")
    assert "colour" in body["detail"]
    assert body.get("field") in (None, "colour"), "the field must be one the client sent"


async def test_a_bad_body_does_not_change_an_existing_location(client: Client) -> None:
    await given_locations(client, "ST-A", name="Kept")
    response = await client.put("/v1/locations/ST-A", json=location_body(name="Lost", latitude=91))
    assert response.status_code == 422
    assert (await client.get("/v1/locations/ST-A")).json()["name"] == "Kept"


@pytest.mark.parametrize("location_id", ["bad_id", "st-lower", "X", "ST A"])
async def test_a_bad_location_id_in_the_path_is_refused_with_400(
    client: Client, pool: Pool, location_id: str
) -> None:
    response = await client.put(f"/v1/locations/{location_id}", json=location_body())
    assert_problem(response, 400, "invalid_parameter", "location_id")
    assert await pool.fetchval("SELECT count(*) FROM locations") == 0
    assert (await client.get(f"/v1/locations/{location_id}")).status_code == 400


async def test_a_location_body_that_is_not_json_is_refused(client: Client) -> None:
    response = await client.put(
        "/v1/locations/ST-A", content=b"kind=store", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
