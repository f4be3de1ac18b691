"""Availability, above all the one-SKU read (``GET /v1/availability/{sku}/locations/
{location_id}``). When the corpus was recorded (main before issue 11) two paths answered
it: memory, in the edge middleware, when it could, and the handler otherwise; "(memory)"
and "(handler)" in a step's name say which one answered then. One ``@asgi`` route answers
every step now, with the same bytes."""

from __future__ import annotations

from tests.corpus.scenes.world import location, movements, receipt, stock
from tests.corpus.steps import Http

ONE = "/v1/availability/S1/locations/ST-A"


def read(name: str, path: str = ONE, key: str | None = "reader", **more: object) -> Http:
    return Http(name, "GET", path, key=key, **more)  # type: ignore[arg-type]


STEPS = [
    location("ST-A", latitude=59.91, longitude=10.75),
    location("ST-B", latitude=59.95, longitude=10.80),
    location("ST-FAR", latitude=63.43, longitude=10.39),
    location("WH-1", "warehouse", latitude=59.80, longitude=10.80),
    stock(
        "stock-1",
        ("ST-A", "S1", 5),
        ("ST-B", "S1", 2),
        ("WH-1", "S1", 100),
        ("ST-A", "S2", 1),
        ("ST-FAR", "S1", 9),
    ),
    # ---------------------------------------------------------------- the one-SKU read
    read("a reader reads S1 at ST-A (handler: not in memory yet)"),
    read("a reader reads S1 at ST-A again (memory)"),
    read("a webshop reads S1 at ST-A (memory)", key="webshop"),
    read("an integration reads S1 at ST-A (memory)", key="integration"),
    read("staff of ST-A read S1 at ST-A (memory)", key="staff-a"),
    read("staff of ST-B may not read S1 at ST-A", key="staff-b"),
    read(
        "staff of ST-B read S1 at ST-B (memory)",
        "/v1/availability/S1/locations/ST-B",
        key="staff-b",
    ),
    read("an admin reads S1 at ST-A (memory)", key="admin"),
    read("a read without a key", key=None),
    read("a read with an unknown key", key="unknown"),
    read(
        "a read with a Basic authorization",
        key=None,
        headers=(("authorization", "Basic cmVhZGVyOnNlY3JldA=="),),
    ),
    read("a read with an empty bearer token", key=None, headers=(("authorization", "Bearer "),)),
    read(
        "a read with a malformed token", key=None, headers=(("authorization", "Bearer not-a-key"),)
    ),
    read("the warehouse WH-1 (memory)", "/v1/availability/S1/locations/WH-1"),
    read(
        "a location that does not exist, SKU in memory (handler)",
        "/v1/availability/S1/locations/ST-NOWHERE",
    ),
    read(
        "a location that does not exist, SKU not in memory (handler)",
        "/v1/availability/S7/locations/ST-NOWHERE",
    ),
    read(
        "a SKU nobody stocks at ST-A (handler: not in memory yet)",
        "/v1/availability/S9/locations/ST-A",
    ),
    read("a SKU nobody stocks at ST-A again (memory)", "/v1/availability/S9/locations/ST-A"),
    read(
        "S2, stocked only at ST-A, at ST-B (handler: not in memory yet)",
        "/v1/availability/S2/locations/ST-B",
    ),
    read(
        "S2 at ST-A, in memory since the last read (memory)", "/v1/availability/S2/locations/ST-A"
    ),
    read("a lower-case location id (handler)", "/v1/availability/S1/locations/st-a"),
    read("a SKU with a space (handler)", "/v1/availability/S%201/locations/ST-A"),
    read("a SKU of 65 characters (handler)", "/v1/availability/" + "S" * 65 + "/locations/ST-A"),
    read("a location id of one character (handler)", "/v1/availability/S1/locations/A"),
    read("an invalid path without a key", "/v1/availability/S1/locations/st-a", key=None),
    read("an unknown query parameter is ignored (memory)", ONE + "?fields=all"),
    read("a trailing slash (memory)", ONE + "/"),
    read(
        "a request id the client sent is echoed (memory)",
        headers=(("x-request-id", "client-req-1"),),
    ),
    read("a request id with a space is replaced (memory)", headers=(("x-request-id", "bad id"),)),
    read(
        "a request id the client sent is echoed (handler)",
        "/v1/availability/S1/locations/ST-NOWHERE",
        headers=(("x-request-id", "client-req-2"),),
    ),
    Http("HEAD of the one-SKU read", "HEAD", ONE, key="reader"),
    Http("POST to the one-SKU read", "POST", ONE, key="reader", json={}),
    Http("DELETE of the one-SKU read without a key", "DELETE", ONE, key=None),
    Http("OPTIONS of the one-SKU read", "OPTIONS", ONE, key=None),
    # a change drops the SKU from memory: the next read is the handler's, then memory's
    movements(
        "an integration sells 2 S1 at ST-A",
        "sale-1",
        {"kind": "sale", "sku": "S1", "location_id": "ST-A", "quantity": 2},
    ),
    read("S1 at ST-A after the sale (handler: dropped from memory)"),
    read("S1 at ST-A after the sale again (memory)"),
    Http(
        "an integration sets S1's safety stock at ST-A to 2",
        "PUT",
        "/v1/stock/S1/locations/ST-A/safety-stock",
        key="integration",
        json={"safety_stock": 2},
    ),
    read("S1 at ST-A with safety stock (handler)"),
    read("S1 at ST-A with safety stock again (memory)"),
    movements(
        "an integration sells the last S1 at ST-A",
        "sale-2",
        {"kind": "sale", "sku": "S1", "location_id": "ST-A", "quantity": 3},
    ),
    read("S1 at ST-A out of stock (handler)"),
    read("S1 at ST-A out of stock again (memory)"),
    Http(
        "a webshop reserves the S2 at ST-A",
        "POST",
        "/v1/reservations",
        key="webshop",
        json={
            "reservation_id": "r-av-1",
            "location_id": "ST-A",
            "lines": [{"sku": "S2", "quantity": 1}],
        },
    ),
    read("S2 at ST-A, all reserved (handler)", "/v1/availability/S2/locations/ST-A"),
    read("S2 at ST-A, all reserved again (memory)", "/v1/availability/S2/locations/ST-A"),
    location(
        "ST-B", step="an admin deactivates ST-B", latitude=59.95, longitude=10.80, active=False
    ),
    read(
        "S1 at an inactive location (handler: memory was dropped)",
        "/v1/availability/S1/locations/ST-B",
    ),
    read("S1 at an inactive location again (memory)", "/v1/availability/S1/locations/ST-B"),
    movements("an integration receives S1 at ST-B, inactive", "stock-2", receipt("ST-B", "S1", 1)),
    location("ST-B", step="an admin activates ST-B again", latitude=59.95, longitude=10.80),
    # ---------------------------------------------------------------- one SKU everywhere
    read("S1 at every location", "/v1/availability/S1"),
    read("S1 at every store", "/v1/availability/S1?kind=store"),
    read("S1 at every warehouse", "/v1/availability/S1?kind=warehouse"),
    read("a kind that does not exist", "/v1/availability/S1?kind=shop"),
    read("a SKU nobody stocks, everywhere", "/v1/availability/S404"),
    read("an invalid SKU, everywhere", "/v1/availability/S%201"),
    read("staff of ST-A may not read S1 everywhere", "/v1/availability/S1", key="staff-a"),
    read("S1 everywhere without a key", "/v1/availability/S1", key=None),
    # ---------------------------------------------------------------- nearby
    read("stores near Oslo with S1", "/v1/availability/S1/nearby?lat=59.91&lon=10.75"),
    read("stores near Oslo with 3 S1", "/v1/availability/S1/nearby?lat=59.91&lon=10.75&quantity=3"),
    read("stores within 1000 km", "/v1/availability/S1/nearby?lat=59.91&lon=10.75&radius_km=1000"),
    read(
        "stores within 500 km, at most 1",
        "/v1/availability/S1/nearby?lat=59.91&lon=10.75&radius_km=500&limit=1",
    ),
    read("nearby without lon", "/v1/availability/S1/nearby?lat=59.91"),
    read("nearby with lat 91", "/v1/availability/S1/nearby?lat=91&lon=10.75"),
    read(
        "nearby with a lat that is not a number", "/v1/availability/S1/nearby?lat=north&lon=10.75"
    ),
    read("nearby with limit 0", "/v1/availability/S1/nearby?lat=59.91&lon=10.75&limit=0"),
    read("nearby with quantity 0", "/v1/availability/S1/nearby?lat=59.91&lon=10.75&quantity=0"),
    read("nearby as staff", "/v1/availability/S1/nearby?lat=59.91&lon=10.75", key="staff-a"),
    # ---------------------------------------------------------------- a cart
    Http(
        "a cart at named locations",
        "POST",
        "/v1/availability/query",
        key="webshop",
        json={
            "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S2", "quantity": 1}],
            "location_ids": ["ST-A", "ST-B", "WH-1"],
        },
    ),
    Http(
        "a cart near Oslo",
        "POST",
        "/v1/availability/query",
        key="reader",
        json={
            "lines": [{"sku": "S1", "quantity": 2}],
            "near": {"lat": 59.91, "lon": 10.75, "radius_km": 30},
        },
    ),
    Http(
        "a cart at a location that does not exist",
        "POST",
        "/v1/availability/query",
        json={"lines": [{"sku": "S1", "quantity": 1}], "location_ids": ["ST-NOWHERE"]},
    ),
    Http(
        "a cart with neither locations nor near",
        "POST",
        "/v1/availability/query",
        json={"lines": [{"sku": "S1", "quantity": 1}]},
    ),
    Http(
        "a cart with both locations and near",
        "POST",
        "/v1/availability/query",
        json={
            "lines": [{"sku": "S1", "quantity": 1}],
            "location_ids": ["ST-A"],
            "near": {"lat": 59.91, "lon": 10.75},
        },
    ),
    Http(
        "a cart without lines",
        "POST",
        "/v1/availability/query",
        json={"lines": [], "location_ids": ["ST-A"]},
    ),
    Http(
        "a cart with an unknown field",
        "POST",
        "/v1/availability/query",
        json={
            "lines": [{"sku": "S1", "quantity": 1}],
            "location_ids": ["ST-A"],
            "sort": "distance",
        },
    ),
    Http(
        "a cart line with an unknown field",
        "POST",
        "/v1/availability/query",
        json={"lines": [{"sku": "S1", "quantity": 1, "note": "x"}], "location_ids": ["ST-A"]},
    ),
    Http(
        "a cart with the same SKU twice",
        "POST",
        "/v1/availability/query",
        json={
            "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 2}],
            "location_ids": ["ST-A"],
        },
    ),
    Http("a cart that is not JSON", "POST", "/v1/availability/query", body=b"lines=S1"),
    Http(
        "a cart as text/plain",
        "POST",
        "/v1/availability/query",
        body=b'{"lines":[{"sku":"S1","quantity":1}],"location_ids":["ST-A"]}',
        content_type="text/plain",
    ),
    Http(
        "a cart by staff",
        "POST",
        "/v1/availability/query",
        key="staff-a",
        json={"lines": [{"sku": "S1", "quantity": 1}], "location_ids": ["ST-A"]},
    ),
]
