"""Reservations over HTTP, above all ``POST /v1/reservations``. When the corpus was
recorded (main before issue 11) two paths answered it: the edge middleware, for a body
sent as exactly ``application/json`` with a Content-Length within the limit that decoded
strictly, and the handler for everything else; "(middleware)" and "(handler)" in a
step's name say which one answered then. One ``@asgi`` route answers every step now,
with the same bytes."""

from __future__ import annotations

import gzip
from typing import Any

from tests.corpus.scenes.world import location, stock
from tests.corpus.steps import Http, compact

R = "/v1/reservations"
CHARSET = "application/json; charset=utf-8"
R1 = {"reservation_id": "r-1", "location_id": "ST-A", "lines": [{"sku": "S1", "quantity": 2}]}


def create(
    name: str, body: dict[str, Any] | bytes, key: str | None = "webshop", path: str = R, **more: Any
) -> Http:
    if isinstance(body, bytes):
        return Http(name, "POST", path, key=key, body=body, **more)
    return Http(name, "POST", path, key=key, json=body, **more)


def with_line_note(note: bytes) -> bytes:
    """A create whose line carries an ignored field holding ``note``."""
    return (
        b'{"reservation_id":"r-9","location_id":"ST-A","lines":[{"sku":"S1","quantity":1,"note":'
        + note
        + b"}]}"
    )


GZIPPED = gzip.compress(compact(R1), mtime=0)
R9 = {"reservation_id": "r-9", "location_id": "ST-A", "lines": [{"sku": "S1", "quantity": 1}]}
# Over the 1 MiB limit (INVENTORY_MAX_BODY_BYTES), built once.
BIG = (
    b'{"reservation_id":"r-big","location_id":"ST-A","lines":['
    + b'{"sku":"S1","quantity":1},' * 45_000
    + b'{"sku":"S1","quantity":1}]}'
)

STEPS = [
    location("ST-A"),
    location("ST-OFF", active=False),
    stock("stock-1", ("ST-A", "S1", 10), ("ST-A", "S2", 3)),
    # ---------------------------------------------------------------- created, repeated
    create("a webshop reserves 2 S1 (middleware)", R1),
    create("the same reservation again (middleware)", R1),
    create("the same reservation again with a charset (handler)", R1, content_type=CHARSET),
    create("the same reservation again, chunked without a length (handler)", R1, chunked=True),
    create(
        "the same reservation again as application/JSON (middleware)",
        R1,
        content_type="application/JSON",
    ),
    create(
        "the same reservation with its lines in another order (middleware)",
        {
            "reservation_id": "r-2",
            "location_id": "ST-A",
            "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S2", "quantity": 1}],
        },
    ),
    create(
        "the lines of r-2 in the other order answer 200 (middleware)",
        {
            "reservation_id": "r-2",
            "location_id": "ST-A",
            "lines": [{"sku": "S2", "quantity": 1}, {"sku": "S1", "quantity": 1}],
        },
    ),
    create("another webshop sends r-1 again (middleware)", R1, key="webshop-2"),
    create(
        "r-1 with another quantity (middleware)", {**R1, "lines": [{"sku": "S1", "quantity": 3}]}
    ),
    create(
        "r-1 with another quantity (handler)",
        {**R1, "lines": [{"sku": "S1", "quantity": 3}]},
        content_type=CHARSET,
    ),
    create("r-1 with an external ref (middleware)", {**R1, "external_ref": "order-1"}),
    create("r-1 at another location (middleware)", {**R1, "location_id": "ST-OFF"}),
    create(
        "a reservation with every field (middleware)",
        {
            "reservation_id": "r-3",
            "location_id": "ST-A",
            "lines": [{"sku": "S2", "quantity": 1}],
            "channel": "app",
            "external_ref": "order-3",
            "ttl_seconds": 3600,
        },
    ),
    # ---------------------------------------------------------------- refused
    create(
        "more than available (middleware)",
        {**R9, "lines": [{"sku": "S1", "quantity": 50}, {"sku": "S2", "quantity": 1}]},
    ),
    create(
        "more than available (handler)",
        {**R9, "lines": [{"sku": "S1", "quantity": 50}, {"sku": "S2", "quantity": 1}]},
        content_type=CHARSET,
    ),
    create("a SKU nobody stocks (middleware)", {**R9, "lines": [{"sku": "S404", "quantity": 1}]}),
    create(
        "a SKU twice (middleware)",
        {**R9, "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 2}]},
    ),
    create(
        "a SKU twice (handler)",
        {**R9, "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 2}]},
        content_type=CHARSET,
    ),
    create("an unknown location (middleware)", {**R9, "location_id": "ST-NOWHERE"}),
    create(
        "an unknown location (handler)", {**R9, "location_id": "ST-NOWHERE"}, content_type=CHARSET
    ),
    create("an inactive location (middleware)", {**R9, "location_id": "ST-OFF"}),
    create("an id owned by a pickup (middleware)", {**R9, "reservation_id": "pickup:p-1"}),
    create("a TTL over the maximum (middleware)", {**R9, "ttl_seconds": 604801}),
    create("a TTL of 0 (handler)", {**R9, "ttl_seconds": 0}),
    create("a quantity of 0 (handler)", {**R9, "lines": [{"sku": "S1", "quantity": 0}]}),
    create(
        "a quantity over a million (handler)", {**R9, "lines": [{"sku": "S1", "quantity": 1000001}]}
    ),
    create("a quantity as a string (handler)", {**R9, "lines": [{"sku": "S1", "quantity": "1"}]}),
    create("a quantity as 1.0 (handler)", {**R9, "lines": [{"sku": "S1", "quantity": 1.0}]}),
    create("lines as an object (handler)", {**R9, "lines": {"sku": "S1", "quantity": 1}}),
    create("no lines (handler)", {**R9, "lines": []}),
    create(
        "101 lines (handler)",
        {**R9, "lines": [{"sku": f"S{i}", "quantity": 1} for i in range(101)]},
    ),
    create(
        "a missing location id (handler)",
        {"reservation_id": "r-9", "lines": [{"sku": "S1", "quantity": 1}]},
    ),
    create("a reservation id with a slash (handler)", {**R9, "reservation_id": "ord/77"}),
    create("a lower-case location id (handler)", {**R9, "location_id": "st-a"}),
    create("a channel with capitals (handler)", {**R9, "channel": "Web Shop"}),
    create("an empty external ref (handler)", {**R9, "external_ref": ""}),
    create("an unknown top-level field (handler)", {**R9, "gift_wrap": True}),
    create(
        "an unknown field in a line is ignored (middleware)",
        {**R9, "reservation_id": "r-4", "lines": [{"sku": "S2", "quantity": 1, "colour": "red"}]},
    ),
    create("a null body (handler)", b"null"),
    create("an array body (handler)", b"[]"),
    create("an empty body (handler)", b""),
    create("malformed JSON (handler)", b'{"reservation_id": "r-9",'),
    create("JSON with a byte order mark (handler)", b"\xef\xbb\xbf" + b'{"reservation_id":"r-9"}'),
    create(
        "a key given twice (middleware)",
        b'{"reservation_id":"r-9","reservation_id":"r-5","location_id":"ST-A","lines":[{"sku":"S1","quantity":1}]}',
    ),
    create("invalid UTF-8 in an ignored field (handler)", with_line_note(b'"\xff\xfe"')),
    create(
        "invalid UTF-8 in a SKU (handler)",
        b'{"reservation_id":"r-9","location_id":"ST-A","lines":[{"sku":"S\xff","quantity":1}]}',
    ),
    create("a number out of range in an ignored field (handler)", with_line_note(b"1e999")),
    create("a huge integer in an ignored field (handler)", with_line_note(b"9" * 5000)),
    create(
        "nesting 1,200 deep in an ignored field (handler)",
        with_line_note(b"[" * 1200 + b"]" * 1200),
    ),
    create("nesting 100,000 deep (handler)", b"[" * 100_000),
    # ---------------------------------------------------------------- how the body arrives
    create(
        "JSON as text/plain (handler)", {**R9, "reservation_id": "r-6"}, content_type="text/plain"
    ),
    create(
        "JSON without a content type (handler)", {**R9, "reservation_id": "r-7"}, content_type=""
    ),
    create(
        "JSON as a form (handler)",
        {**R9, "reservation_id": "r-9"},
        content_type="application/x-www-form-urlencoded",
    ),
    create(
        "JSON as application/json with a space before the charset (handler)",
        R1,
        content_type="application/json ;charset=utf-8",
    ),
    create(
        "a Content-Length 5 more than the body (handler)",
        R1,
        length=len(compact(R1)) + 5,
    ),
    create(
        "a Content-Length 5 less than the body (handler)",
        R1,
        length=len(compact(R1)) - 5,
    ),
    create("a client that goes away before the end of the body (handler)", R1, disconnect=True),
    create("a body over 1 MiB (handler: the middleware leaves it to Litestar)", BIG),
    create("a body over 1 MiB with a charset (handler)", BIG, content_type=CHARSET),
    create("a body over 1 MiB chunked without a length (handler)", BIG, chunked=True),
    create(
        "a request id the client sent is echoed (middleware)",
        R1,
        headers=(("x-request-id", "client-req-1"),),
    ),
    create("r-1 again to /v1/reservations/ with a slash (middleware)", R1, path=f"{R}/"),
    create(
        "a body compressed with gzip (handler)", GZIPPED, headers=(("content-encoding", "gzip"),)
    ),
    create(
        "two Content-Type headers, text/plain then JSON (middleware)",
        R1,
        content_type="text/plain",
        headers=(("content-type", "application/json"),),
    ),
    create(
        "two Content-Type headers, JSON then text/plain (handler)",
        R1,
        headers=(("content-type", "text/plain"),),
    ),
    # ---------------------------------------------------------------- who may reserve
    create("a reservation without a key", R9, key=None),
    create("a reservation with an unknown key", R9, key="unknown"),
    create("a reservation by a reader", R9, key="reader"),
    create("a reservation by an integration", R9, key="integration"),
    create("a reservation by staff", R9, key="staff-a"),
    create("malformed JSON without a key", b"{", key=None),
    create("a body over 1 MiB without a key", BIG, key=None),
    create(
        "an admin reserves (middleware)",
        {**R9, "reservation_id": "r-8", "lines": [{"sku": "S1", "quantity": 1}]},
        key="admin",
    ),
    # ---------------------------------------------------------------- read, cancel, fulfil
    Http("a webshop reads r-1", "GET", f"{R}/r-1", key="webshop"),
    Http("another webshop reads r-1", "GET", f"{R}/r-1", key="webshop-2"),
    Http("a reader may not read r-1", "GET", f"{R}/r-1", key="reader"),
    Http("a reservation that does not exist", "GET", f"{R}/r-404", key="webshop"),
    Http("an invalid reservation id", "GET", f"{R}/bad%20id", key="webshop"),
    Http("a webshop cancels r-2 without a body", "POST", f"{R}/r-2/cancel", key="webshop"),
    Http("cancelling r-2 again", "POST", f"{R}/r-2/cancel", key="webshop"),
    Http(
        "cancelling r-2 again with a reason",
        "POST",
        f"{R}/r-2/cancel",
        key="webshop",
        json={"reason": "customer"},
    ),
    Http("fulfilling cancelled r-2", "POST", f"{R}/r-2/fulfil", key="webshop"),
    Http(
        "creating r-2 again after its cancel (middleware)",
        "POST",
        R,
        key="webshop",
        json={
            "reservation_id": "r-2",
            "location_id": "ST-A",
            "lines": [{"sku": "S1", "quantity": 1}, {"sku": "S2", "quantity": 1}],
        },
    ),
    Http(
        "a cancel with a reason",
        "POST",
        f"{R}/r-3/cancel",
        key="webshop",
        json={"reason": "changed mind"},
    ),
    Http("a cancel with a null body", "POST", f"{R}/r-4/cancel", key="webshop", json=None),
    Http(
        "a cancel with an unknown field",
        "POST",
        f"{R}/r-8/cancel",
        key="webshop",
        json={"why": "x"},
    ),
    Http(
        "a cancel with a reason of 201 characters",
        "POST",
        f"{R}/r-8/cancel",
        key="webshop",
        json={"reason": "x" * 201},
    ),
    Http("a cancel with malformed JSON", "POST", f"{R}/r-8/cancel", key="webshop", body=b"{"),
    Http(
        "a cancel of a reservation that does not exist", "POST", f"{R}/r-404/cancel", key="webshop"
    ),
    Http("a cancel of a pickup's reservation", "POST", f"{R}/pickup:p-1/cancel", key="webshop"),
    Http("a cancel by a reader", "POST", f"{R}/r-8/cancel", key="reader"),
    Http(
        "a partial fulfil of r-1",
        "POST",
        f"{R}/r-1/fulfil",
        key="webshop",
        json={"lines": [{"sku": "S1", "quantity": 1}]},
    ),
    Http("fulfilling r-1 again", "POST", f"{R}/r-1/fulfil", key="webshop"),
    Http("cancelling fulfilled r-1", "POST", f"{R}/r-1/cancel", key="webshop"),
    Http("a fulfil of everything", "POST", f"{R}/r-8/fulfil", key="webshop"),
    Http(
        "a fulfil of more than reserved",
        "POST",
        f"{R}/r-5/fulfil",
        key="webshop",
        json={"lines": [{"sku": "S1", "quantity": 2}]},
    ),
    Http(
        "a fulfil of a SKU not reserved",
        "POST",
        f"{R}/r-5/fulfil",
        key="webshop",
        json={"lines": [{"sku": "S2", "quantity": 1}]},
    ),
    Http(
        "a fulfil of a SKU twice",
        "POST",
        f"{R}/r-5/fulfil",
        key="webshop",
        json={"lines": [{"sku": "S1", "quantity": 1}, {"sku": "S1", "quantity": 1}]},
    ),
    Http("a fulfil of no lines", "POST", f"{R}/r-5/fulfil", key="webshop", json={"lines": []}),
    Http(
        "a fulfil of a reservation that does not exist", "POST", f"{R}/r-404/fulfil", key="webshop"
    ),
    Http("a fulfil of a pickup's reservation", "POST", f"{R}/pickup:p-1/fulfil", key="webshop"),
    Http("a fulfil without a key", "POST", f"{R}/r-5/fulfil", key=None),
    Http("r-1 as it ends", "GET", f"{R}/r-1", key="admin"),
    Http(
        "the ledger of S1 at ST-A",
        "GET",
        "/v1/stock/S1/locations/ST-A/movements",
        key="integration",
    ),
]
