"""The app and the webshop ask what is in stock where: per location, nearby, per cart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.storage.pool import Pool
from tests.conftest import KeyMaker
from tests.helpers import (
    Client,
    assert_problem,
    client_of,
    given_locations,
    location_body,
    posted,
    read_model_settled,
    receipt,
    sale,
)

CUSTOMER_IN_OSLO = {"lat": 59.9111, "lon": 10.7528}  # Oslo S
STORES = {  # real coordinates; km from the customer: 0.75, 17.3, 35.8, 305
    "ST-OSLO": (59.9133, 10.7400),
    "ST-LILLESTROM": (59.9560, 11.0500),
    "ST-DRAMMEN": (59.7439, 10.2045),
    "ST-BERGEN": (60.3913, 5.3221),
}


async def settled(runtime: Runtime, pool: Pool) -> None:
    await read_model_settled(runtime, pool)


async def get(client: Client, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def nordic(client: Client, runtime: Runtime, pool: Pool) -> None:
    """Stores in four real cities with stock of S1, plus some that must never be listed."""
    for code, (lat, lon) in STORES.items():
        await given_locations(client, code, latitude=lat, longitude=lon, name=code.title())
    await given_locations(client, "ST-OSLO-EMPTY", latitude=59.9200, longitude=10.7500)
    await given_locations(client, "ST-OSLO-SOLD-OUT", latitude=59.9150, longitude=10.7450)
    await given_locations(client, "ST-OSLO-CLOSED", latitude=59.9120, longitude=10.7530)
    await given_locations(client, "WH-OSLO", kind="warehouse", latitude=59.9112, longitude=10.7529)
    await posted(
        client,
        "stock",
        receipt("ST-OSLO", 10),
        receipt("ST-LILLESTROM", 3),
        receipt("ST-DRAMMEN", 8),
        receipt("ST-BERGEN", 20),
        receipt("ST-OSLO-SOLD-OUT", 2),
        sale("ST-OSLO-SOLD-OUT", 2),
        receipt("ST-OSLO-CLOSED", 50),
        receipt("WH-OSLO", 100),
    )
    closed = location_body(latitude=59.9120, longitude=10.7530, active=False)
    assert (await client.put("/v1/locations/ST-OSLO-CLOSED", json=closed)).status_code == 200
    await settled(runtime, pool)


async def nearby(client: Client, **params: Any) -> list[dict[str, Any]]:
    body = await get(client, "/v1/availability/S1/nearby", **CUSTOMER_IN_OSLO, **params)
    stores: list[dict[str, Any]] = body["stores"]
    return stores


@pytest.mark.usefixtures("nordic")
async def test_nearby_lists_stores_with_stock_nearest_first_within_the_radius(
    client: Client,
) -> None:
    stores = await nearby(client, radius_km=50)
    assert [s["location_id"] for s in stores] == ["ST-OSLO", "ST-LILLESTROM", "ST-DRAMMEN"]
    assert [s["distance_km"] for s in stores] == pytest.approx([0.75, 17.3, 35.8], abs=1)
    assert [s["available"] for s in stores] == [10, 3, 8]
    assert [s["status"] for s in stores] == ["in_stock", "low_stock", "in_stock"]
    assert all(s["pickup_offered"] for s in stores)
    assert stores[0]["latitude"] == STORES["ST-OSLO"][0]


@pytest.mark.usefixtures("nordic")
async def test_a_wider_radius_reaches_bergen_last(client: Client) -> None:
    stores = await nearby(client, radius_km=400)
    assert [s["location_id"] for s in stores][-1] == "ST-BERGEN"
    assert stores[-1]["distance_km"] == pytest.approx(305, abs=2)


@pytest.mark.usefixtures("nordic")
async def test_nearby_respects_the_limit_keeping_the_nearest(client: Client) -> None:
    stores = await nearby(client, radius_km=50, limit=2)
    assert [s["location_id"] for s in stores] == ["ST-OSLO", "ST-LILLESTROM"]


@pytest.mark.usefixtures("nordic")
async def test_nearby_with_a_quantity_lists_only_stores_that_have_that_many(
    client: Client,
) -> None:
    stores = await nearby(client, radius_km=50, quantity=5)
    assert [s["location_id"] for s in stores] == ["ST-OSLO", "ST-DRAMMEN"]


@pytest.mark.usefixtures("nordic")
async def test_nearby_for_a_sku_nobody_has_is_empty(client: Client) -> None:
    body = await get(client, "/v1/availability/NEVER-SEEN/nearby", **CUSTOMER_IN_OSLO)
    assert body == {"sku": "NEVER-SEEN", "stores": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91, "lon": 10}, "lat"),
        ({"lat": 59, "lon": 181}, "lon"),
        ({"lat": "north", "lon": 10}, "lat"),
        ({"lat": 59, "lon": 10, "radius_km": 0}, "radius_km"),
        ({"lat": 59, "lon": 10, "radius_km": 501}, "radius_km"),
        ({"lat": 59, "lon": 10, "limit": 0}, "limit"),
        ({"lat": 59, "lon": 10, "quantity": 0}, "quantity"),
    ],
)
async def test_a_wrong_coordinate_or_bound_is_refused(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/availability/S1/nearby", params=params)
    assert_problem(response, 400, "invalid_parameter", field)


async def test_nearby_without_a_position_is_refused(client: Client) -> None:
    response = await client.get("/v1/availability/S1/nearby", params={"lon": 10})
    assert_problem(response, 400, "missing_parameter", "lat")


async def test_availability_lists_every_active_location_with_its_figures(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await given_locations(client, "WH-A", kind="warehouse")
    await given_locations(client, "ST-GONE", active=False)
    await posted(client, "stock", receipt("ST-A", 5), receipt("WH-A", 40), sale("ST-B", 1))
    await settled(runtime, pool)
    body = await get(client, "/v1/availability/S1")
    figures = {
        loc["location_id"]: (loc["kind"], loc["on_hand"], loc["available"], loc["status"])
        for loc in body["locations"]
    }
    assert figures == {
        "ST-A": ("store", 5, 5, "in_stock"),
        "ST-B": ("store", -1, 0, "out_of_stock"),
        "WH-A": ("warehouse", 40, 40, "in_stock"),
    }
    assert body["total_available"] == 45
    stores = await get(client, "/v1/availability/S1", kind="store")
    assert {loc["location_id"] for loc in stores["locations"]} == {"ST-A", "ST-B"}
    assert stores["total_available"] == 5


async def test_a_sku_never_seen_is_out_of_stock_everywhere(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await given_locations(client, "WH-A", kind="warehouse")
    await settled(runtime, pool)
    body = await get(client, "/v1/availability/NEVER-SEEN")
    assert body["total_available"] == 0
    assert {loc["location_id"]: loc["status"] for loc in body["locations"]} == {
        "ST-A": "out_of_stock",
        "ST-B": "out_of_stock",
        "WH-A": "out_of_stock",
    }
    one = await get(client, "/v1/availability/NEVER-SEEN/locations/ST-A")
    assert (one["on_hand"], one["available"], one["status"]) == (0, 0, "out_of_stock")


@pytest.mark.parametrize(
    ("units", "status"), [(0, "out_of_stock"), (2, "low_stock"), (3, "low_stock"), (4, "in_stock")]
)
async def test_the_status_follows_the_locations_low_stock_threshold(
    client: Client, units: int, status: str
) -> None:
    await given_locations(client, "ST-A", low_stock_threshold=3)
    await posted(client, "stock", receipt("ST-A", 10), sale("ST-A", 10 - units))
    one = await get(client, "/v1/availability/S1/locations/ST-A")
    assert (one["available"], one["status"]) == (units, status)


async def test_reserved_and_safety_stock_count_against_the_status(client: Client) -> None:
    await given_locations(client, "ST-A", low_stock_threshold=3, default_safety_stock=2)
    await posted(client, "stock", receipt("ST-A", 6))
    one = await get(client, "/v1/availability/S1/locations/ST-A")
    assert (one["on_hand"], one["available"], one["status"]) == (6, 4, "in_stock")
    await posted(client, "sale", sale("ST-A", 1))
    one = await get(client, "/v1/availability/S1/locations/ST-A")
    assert (one["available"], one["status"]) == (3, "low_stock")


async def test_one_locations_availability_for_an_unknown_location_is_404(client: Client) -> None:
    response = await client.get("/v1/availability/S1/locations/ST-NOWHERE")
    assert_problem(response, 404, "location_not_found")


async def test_a_bad_sku_in_the_path_is_refused(client: Client) -> None:
    response = await client.get("/v1/availability/-bad sku")
    assert_problem(response, 400, "invalid_parameter", "sku")


async def test_availability_reflects_a_movement_at_once(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 5))
    await settled(runtime, pool)
    for n in range(1, 5):  # each read warms the cache; each sale must still show
        assert (await get(client, "/v1/availability/S1"))["total_available"] == 6 - n
        assert (await get(client, "/v1/availability/S1/locations/ST-A"))["on_hand"] == 6 - n
        await posted(client, f"sale-{n}", sale("ST-A", 1))
    assert (await get(client, "/v1/availability/S1/locations/ST-A"))["available"] == 1


@pytest.mark.usefixtures("nordic")
async def test_nearby_reflects_a_sale_at_once(client: Client) -> None:
    assert [s["location_id"] for s in await nearby(client, radius_km=50, quantity=5)] == [
        "ST-OSLO",
        "ST-DRAMMEN",
    ]
    await posted(client, "sale", sale("ST-OSLO", 6))
    assert [s["location_id"] for s in await nearby(client, radius_km=50, quantity=5)] == [
        "ST-DRAMMEN"
    ]


@asynccontextmanager
async def replica_without_feed(
    settings: Settings, pool: Pool, api_key: str
) -> AsyncIterator[Client]:
    """A second replica, started now, whose LISTEN connection then goes down."""
    replica = await Runtime.start(settings)
    try:
        await replica.feed.stop()
        await read_model_settled(replica, pool)
        async with client_of(create_app(runtime=replica), api_key) as http:
            yield http
    finally:
        await replica.stop()


# The read model promises that while the change feed is down every read goes to
# the database; a replica must at least see the location changes it wrote itself.


async def test_a_replica_whose_change_feed_is_down_lists_a_store_it_just_created(
    settings: Settings, pool: Pool, make_key: KeyMaker
) -> None:
    async with replica_without_feed(settings, pool, await make_key("admin")) as replica:
        lat, lon = STORES["ST-OSLO"]
        await given_locations(replica, "ST-NEW", latitude=lat, longitude=lon)
        await posted(replica, "stock", receipt("ST-NEW", 2))
        listed = await get(replica, "/v1/availability/S1")
        assert [loc["location_id"] for loc in listed["locations"]] == ["ST-NEW"]
        near = await get(replica, "/v1/availability/S1/nearby", **CUSTOMER_IN_OSLO)
        assert [s["location_id"] for s in near["stores"]] == ["ST-NEW"]


async def test_a_replica_whose_change_feed_is_down_stops_listing_a_store_it_deactivated(
    client: Client, settings: Settings, pool: Pool, make_key: KeyMaker
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await posted(client, "stock", receipt("ST-A", 2), receipt("ST-B", 2))
    async with replica_without_feed(settings, pool, await make_key("admin")) as replica:
        before = await get(replica, "/v1/availability/S1")
        assert [loc["location_id"] for loc in before["locations"]] == ["ST-A", "ST-B"]
        await given_locations(replica, "ST-B", active=False)
        listed = await get(replica, "/v1/availability/S1")
        assert [loc["location_id"] for loc in listed["locations"]] == ["ST-A"]
        near = await get(replica, "/v1/availability/S1/nearby", lat=59.91, lon=10.75)
        assert [s["location_id"] for s in near["stores"]] == ["ST-A"]


# The one-SKU read is an ASGI route (service/api/availability.py) answered from memory
# once its SKU is cached, else from the database.


async def test_an_answer_from_memory_is_the_answer_read_from_the_database_byte_for_byte(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A", low_stock_threshold=3)
    await posted(client, "stock", receipt("ST-A", 5))
    await settled(runtime, pool)
    runtime.read_model.balances.clear()
    from_database = await client.get("/v1/availability/S1/locations/ST-A")  # a cache miss
    assert runtime.read_model.balances.cached("S1") is not None
    from_memory = await client.get("/v1/availability/S1/locations/ST-A")
    assert from_memory.status_code == from_database.status_code == 200
    assert from_memory.content == from_database.content
    assert from_memory.json()["available"] == 5
    assert from_memory.headers["x-request-id"] != from_database.headers["x-request-id"]
    assert headers_but_the_request_id(from_memory) == headers_but_the_request_id(from_database)


def headers_but_the_request_id(response: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")


async def test_a_cached_sku_is_still_refused_without_a_key_or_with_a_bad_path(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 5))
    await settled(runtime, pool)
    await get(client, "/v1/availability/S1/locations/ST-A")
    assert runtime.read_model.balances.cached("S1") is not None
    anonymous = await client.get(
        "/v1/availability/S1/locations/ST-A", headers={"Authorization": ""}
    )
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(await client.get("/v1/availability/S1/locations/ST-NOWHERE"), 404,
                   "location_not_found")  # fmt: skip
    assert_problem(await client.get("/v1/availability/S1/locations/st-a"), 400, "invalid_parameter")


async def test_a_cached_sku_is_403_for_a_staff_key_of_another_store(
    client: Client, runtime: Runtime, pool: Pool, make_key: KeyMaker
) -> None:
    await given_locations(client, "ST-A", "ST-B")
    await posted(client, "stock", receipt("ST-A", 5), receipt("ST-B", 5))
    await settled(runtime, pool)
    await get(client, "/v1/availability/S1/locations/ST-B")
    assert runtime.read_model.balances.cached("S1") is not None
    staff_of_a = {"Authorization": f"Bearer {await make_key('staff', 'ST-A')}"}
    elsewhere = await client.get("/v1/availability/S1/locations/ST-B", headers=staff_of_a)
    assert_problem(elsewhere, 403, "forbidden")
    own = await client.get("/v1/availability/S1/locations/ST-A", headers=staff_of_a)
    assert own.status_code == 200
    assert own.json()["available"] == 5


async def test_a_replica_whose_change_feed_is_down_answers_one_sku_from_the_database(
    client: Client, settings: Settings, pool: Pool, make_key: KeyMaker
) -> None:
    await given_locations(client, "ST-A")
    await posted(client, "stock", receipt("ST-A", 5))
    async with replica_without_feed(settings, pool, await make_key("admin")) as replica:
        assert (await get(replica, "/v1/availability/S1/locations/ST-A"))["available"] == 5
        await posted(client, "sale", sale("ST-A", 2))  # through the other replica
        assert (await get(replica, "/v1/availability/S1/locations/ST-A"))["available"] == 3


async def test_location_changes_in_quick_succession_leave_the_latest_in_memory(
    client: Client, runtime: Runtime, pool: Pool
) -> None:
    await given_locations(client, "ST-A")
    await settled(runtime, pool)
    directory = runtime.read_model.locations
    for n in range(1, 6):  # each change starts a reload while the previous may still run
        await pool.execute(
            "UPDATE locations SET name = $1, updated_at = now() WHERE location_id = 'ST-A'",
            f"Renamed {n}",
        )
        directory.changed()
    await settled(runtime, pool)
    assert (location := directory.get("ST-A")) is not None
    assert location.name == "Renamed 5"


# The cart query.


def cart(*lines: tuple[str, int], **target: Any) -> dict[str, Any]:
    return {"lines": [{"sku": s, "quantity": q} for s, q in lines], **target}


async def ask(client: Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/v1/availability/query", json=body)
    assert response.status_code == 200, response.text
    locations: list[dict[str, Any]] = response.json()["locations"]
    return locations


@pytest.fixture
async def three_stores(client: Client, runtime: Runtime, pool: Pool) -> None:
    """ST-A: 5 of S1, none of S2. ST-B: 2 of S1, 1 of S2. ST-C: 1 of S1, 3 of S2."""
    await given_locations(client, "ST-A", "ST-B", "ST-C")
    await posted(
        client,
        "stock",
        receipt("ST-A", 5),
        receipt("ST-B", 2),
        receipt("ST-B", 1, sku="S2"),
        receipt("ST-C", 1),
        receipt("ST-C", 3, sku="S2"),
    )
    await settled(runtime, pool)


@pytest.mark.usefixtures("three_stores")
async def test_a_cart_against_named_locations_puts_complete_locations_first(
    client: Client,
) -> None:
    answer = await ask(client, cart(("S1", 2), ("S2", 1), location_ids=["ST-A", "ST-B", "ST-C"]))
    assert [(a["location_id"], a["complete"]) for a in answer] == [
        ("ST-B", True),
        ("ST-A", False),
        ("ST-C", False),
    ]
    lines = {a["location_id"]: [(x["sku"], x["available"], x["enough"]) for x in a["lines"]]
             for a in answer}  # fmt: skip
    assert lines == {
        "ST-A": [("S1", 5, True), ("S2", 0, False)],
        "ST-B": [("S1", 2, True), ("S2", 1, True)],
        "ST-C": [("S1", 1, False), ("S2", 3, True)],
    }
    assert all(a["distance_km"] is None for a in answer)


@pytest.mark.usefixtures("three_stores")
async def test_the_same_sku_on_two_lines_is_requested_as_their_sum(client: Client) -> None:
    answer = await ask(client, cart(("S1", 1), ("S1", 1), location_ids=["ST-B", "ST-C"]))
    assert [(a["location_id"], a["complete"]) for a in answer] == [("ST-B", True), ("ST-C", False)]
    assert answer[0]["lines"] == [{"sku": "S1", "requested": 2, "available": 2, "enough": True}]


@pytest.mark.usefixtures("three_stores")
async def test_a_cart_of_skus_nobody_has_is_complete_nowhere(client: Client) -> None:
    answer = await ask(client, cart(("NEVER-SEEN", 1), location_ids=["ST-A"]))
    assert answer[0]["complete"] is False
    assert answer[0]["lines"][0]["available"] == 0


@pytest.mark.usefixtures("three_stores")
async def test_a_cart_reflects_a_movement_at_once(client: Client) -> None:
    query = cart(("S2", 1), location_ids=["ST-A"])
    assert (await ask(client, query))[0]["complete"] is False
    await posted(client, "restock", receipt("ST-A", 1, sku="S2"))
    assert (await ask(client, query))[0]["complete"] is True


@pytest.mark.usefixtures("nordic")
async def test_a_cart_near_a_point_answers_for_stores_in_the_radius_complete_first(
    client: Client,
) -> None:
    answer = await ask(client, cart(("S1", 5), near={**CUSTOMER_IN_OSLO, "radius_km": 50}))
    ids = [a["location_id"] for a in answer]
    assert ids[:2] == ["ST-OSLO", "ST-DRAMMEN"]
    assert [a["complete"] for a in answer[:2]] == [True, True]
    assert "ST-LILLESTROM" in ids[2:]
    assert not any(a["complete"] for a in answer[2:])
    assert "ST-BERGEN" not in ids
    assert "WH-OSLO" not in ids
    assert "ST-OSLO-CLOSED" not in ids
    distances = {a["location_id"]: a["distance_km"] for a in answer}
    assert distances["ST-DRAMMEN"] == pytest.approx(35.8, abs=1)


async def test_a_cart_naming_an_unknown_location_is_404(client: Client) -> None:
    await given_locations(client, "ST-A")
    response = await client.post(
        "/v1/availability/query", json=cart(("S1", 1), location_ids=["ST-A", "ST-NOWHERE"])
    )
    assert_problem(response, 404, "location_not_found")


@pytest.mark.parametrize(
    "target",
    [{}, {"location_ids": ["ST-A"], "near": {"lat": 59.9, "lon": 10.7}}],
    ids=["neither", "both"],
)
async def test_a_cart_needs_exactly_one_of_location_ids_and_near(
    client: Client, target: dict[str, Any]
) -> None:
    await given_locations(client, "ST-A")
    response = await client.post("/v1/availability/query", json=cart(("S1", 1), **target))
    assert_problem(response, 422, "invalid_input")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (cart(("S1", 0), location_ids=["ST-A"]), "lines[0].quantity"),
        (cart(location_ids=["ST-A"]), "lines"),
        (cart(("S1", 1), location_ids=[]), "location_ids"),
        (cart(("S1", 1), near={"lat": 91, "lon": 10}), "near.lat"),
        (cart(("S1", 1), near={"lat": 59, "lon": 10, "radius_km": 0}), "near.radius_km"),
    ],
    ids=["zero-quantity", "no-lines", "no-locations", "bad-lat", "zero-radius"],
)
async def test_a_bad_cart_is_refused_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/availability/query", json=body)
    assert_problem(response, 422, "invalid_body", field)
