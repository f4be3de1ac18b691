"""Click-and-collect over HTTP: settings, slots, booking (with its code), repeats,
reschedule, cancel, ready, collect with the right and wrong codes, the lockout,
counter returns, the day's list.

Pickups are booked two days ahead ({D+2}): whatever the time of day the corpus is
played, every slot of that day is in the future, within the booking horizon, and
after any preparation or warehouse lead time the script sets.
"""

from __future__ import annotations

from typing import Any

from tests.corpus.scenes.world import location, pickup_settings, stock
from tests.corpus.steps import Http

P = "/v1/pickups"
SLOTS = "/v1/locations/ST-A/pickup-slots?from={D+2}&to={D+2}"
CUSTOMER = {"name": "Kari Nordmann", "email": "kari@example.com", "phone": "+47 912 34 567"}


def booking(
    pickup_id: str, slot: str = "{D+2T12:00}", *lines: tuple[str, int], **more: Any
) -> dict[str, Any]:
    return {
        "pickup_id": pickup_id,
        "location_id": "ST-A",
        "slot_start": slot,
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines or (("S1", 1),)],
        "customer": CUSTOMER,
    } | more


def book(name: str, body: dict[str, Any], key: str | None = "webshop", **more: Any) -> Http:
    return Http(name, "POST", P, key=key, json=body, **more)


def act(name: str, pickup_id: str, action: str, key: str = "staff-a", **more: Any) -> Http:
    return Http(name, "POST", f"{P}/{pickup_id}/{action}", key=key, **more)


def collect(name: str, pickup_id: str, code: str, key: str = "staff-a", **more: Any) -> Http:
    return act(name, pickup_id, "collect", key, json={"code": code, **more})


def slots(name: str, query: str = "", key: str = "reader", path: str = SLOTS) -> Http:
    return Http(name, "GET", path + query, key=key)


def returns(name: str, key: str, body: Any, caller: str = "staff-a", store: str = "ST-A") -> Http:
    headers = (("idempotency-key", key),)
    return Http(
        name, "POST", f"/v1/locations/{store}/returns", key=caller, json=body, headers=headers
    )


SETTINGS = {"slot_minutes": 240, "capacity_per_slot": 2, "prep_minutes": 0, "horizon_days": 7,
            "hold_hours": 72, "suppliers": [{"warehouse_id": "WH-1", "lead_time_minutes": 60}]}  # fmt: skip
EVERY_DAY_CLOSED = {"closed_dates": [f"{{D+{n}}}" for n in range(9)]}

STEPS = [
    location("ST-A"),
    location("ST-B"),
    location("ST-NOPICK", pickup_offered=False),
    location("ST-SHUT", opening_hours=EVERY_DAY_CLOSED),
    location("WH-1", "warehouse"),
    stock("stock-1", ("ST-A", "S1", 5), ("WH-1", "S2", 4), ("ST-B", "S1", 1)),
    # ---------------------------------------------------------------- settings
    Http("ST-B's settings, never set", "GET", "/v1/locations/ST-B/pickup-settings", key="reader"),
    pickup_settings("ST-A", **SETTINGS),
    Http(
        "ST-A's settings as a webshop reads them",
        "GET",
        "/v1/locations/ST-A/pickup-settings",
        key="webshop",
    ),
    Http(
        "the settings of a location that does not exist",
        "GET",
        "/v1/locations/ST-NOWHERE/pickup-settings",
        key="reader",
    ),
    Http(
        "settings by a webshop",
        "PUT",
        "/v1/locations/ST-A/pickup-settings",
        key="webshop",
        json=SETTINGS,
    ),
    Http(
        "settings by staff of the store",
        "PUT",
        "/v1/locations/ST-A/pickup-settings",
        key="staff-a",
        json=SETTINGS,
    ),
    Http(
        "settings with a store as supplier",
        "PUT",
        "/v1/locations/ST-B/pickup-settings",
        json={"suppliers": [{"warehouse_id": "ST-A", "lead_time_minutes": 60}]},
    ),
    Http(
        "settings with an unknown supplier",
        "PUT",
        "/v1/locations/ST-B/pickup-settings",
        json={"suppliers": [{"warehouse_id": "WH-404", "lead_time_minutes": 60}]},
    ),
    Http("settings of a warehouse", "PUT", "/v1/locations/WH-1/pickup-settings", json={}),
    Http(
        "settings with slots of 4 minutes",
        "PUT",
        "/v1/locations/ST-B/pickup-settings",
        json={"slot_minutes": 4},
    ),
    Http(
        "settings with an unknown field",
        "PUT",
        "/v1/locations/ST-B/pickup-settings",
        json={"colour": "red"},
    ),
    Http("empty settings: every default", "PUT", "/v1/locations/ST-B/pickup-settings", json={}),
    # ---------------------------------------------------------------- slots
    slots("ST-A's slots two days ahead"),
    slots("the slots for a cart ST-A has", "&line=S1:2"),
    slots("the slots for a cart from the warehouse", "&line=S1:1&line=S2:2", key="webshop"),
    slots("the slots for a cart nobody has", "&line=S9:1"),
    slots("a cart line without a quantity", "&line=S1"),
    slots("a cart line of 0", "&line=S1:0"),
    slots("a SKU twice in the cart", "&line=S1:1&line=S1:2"),
    slots("'to' before 'from'", path="/v1/locations/ST-A/pickup-slots?from={D+3}&to={D+2}"),
    slots("100 days of slots", path="/v1/locations/ST-A/pickup-slots?from={D+1}&to={D+100}"),
    slots("a 'from' that is not a date", path="/v1/locations/ST-A/pickup-slots?from=tomorrow"),
    slots(
        "the slots of a store closed every day, from today",
        path="/v1/locations/ST-SHUT/pickup-slots",
    ),
    slots(
        "the slots of a store without pickup",
        path="/v1/locations/ST-NOPICK/pickup-slots?from={D+2}&to={D+2}",
    ),
    slots("the slots of a warehouse", path="/v1/locations/WH-1/pickup-slots?from={D+2}&to={D+2}"),
    slots(
        "the slots of a location that does not exist",
        path="/v1/locations/ST-NOWHERE/pickup-slots?from={D+2}&to={D+2}",
    ),
    slots("slots as staff of the store", key="staff-a"),
    slots("slots as staff of another store", key="staff-b"),
    slots("slots as an integration", key="integration"),
    # ---------------------------------------------------------------- booking
    book("a webshop books P-1", booking("P-1"), save={"p1": "pickup_code"}),
    book("the same booking again", booking("P-1")),
    book("the same booking by another webshop", booking("P-1"), key="webshop-2"),
    book("the same booking by an admin", booking("P-1"), key="admin"),
    book("P-1 again with another slot", booking("P-1", "{D+2T16:00}")),
    book(
        "P-2 with a line from the warehouse",
        booking("P-2", "{D+2T12:00}", ("S1", 1), ("S2", 2)),
        save={"p2": "pickup_code"},
    ),
    book("P-3 in the full slot", booking("P-3")),
    book(
        "P-4 at 16:00 with every field",
        booking("P-4", "{D+2T16:00}", channel="app", external_ref="order-4"),
        save={"p4": "pickup_code"},
    ),
    book("P-5 at 20:00", booking("P-5", "{D+2T20:00}"), save={"p5": "pickup_code"}),
    book("a slot that does not start a slot", booking("P-9", "{D+2T12:30}")),
    book("a slot on a closed date", {**booking("P-9", "{D+2T12:00}"), "location_id": "ST-SHUT"}),
    book("a slot yesterday", booking("P-9", "{D-1T12:00}")),
    book("a slot beyond the horizon", booking("P-9", "{D+9T12:00}")),
    book("a slot time without a timezone", booking("P-9", "{D+2}T12:00:00")),
    book(
        "more than the store and warehouse have",
        booking("P-9", "{D+2T16:00}", ("S1", 9), ("S2", 9)),
    ),
    book("a store that does not offer pickup", {**booking("P-9"), "location_id": "ST-NOPICK"}),
    book("a warehouse", {**booking("P-9"), "location_id": "WH-1"}),
    book("a location that does not exist", {**booking("P-9"), "location_id": "ST-NOWHERE"}),
    book("a SKU twice", booking("P-9", "{D+2T16:00}", ("S1", 1), ("S1", 1))),
    book("no lines", {**booking("P-9"), "lines": []}),
    book(
        "a customer without a name", {**booking("P-9"), "customer": {"email": "kari@example.com"}}
    ),
    book(
        "a customer e-mail without an @",
        {**booking("P-9"), "customer": {"name": "Kari", "email": "kari"}},
    ),
    book("an unknown field", {**booking("P-9"), "gift": True}),
    book("a pickup id with a slash", booking("P/9")),
    Http("a booking that is not JSON", "POST", P, key="webshop", body=b"pickup=P-9"),
    book("a booking by a reader", booking("P-9"), key="reader"),
    book("a booking by staff", booking("P-9"), key="staff-a"),
    book("a booking without a key", booking("P-9"), key=None),
    # ---------------------------------------------------------------- read
    Http("P-1 as the webshop reads it", "GET", f"{P}/P-1", key="webshop"),
    Http("P-1 as another webshop reads it", "GET", f"{P}/P-1", key="webshop-2"),
    Http("P-1 as staff of the store read it", "GET", f"{P}/P-1", key="staff-a"),
    Http("P-1 as staff of another store read it", "GET", f"{P}/P-1", key="staff-b"),
    Http("P-1 as a reader reads it", "GET", f"{P}/P-1", key="reader"),
    Http("a pickup that does not exist", "GET", f"{P}/P-404", key="webshop"),
    Http("the day's list", "GET", "/v1/locations/ST-A/pickups?date={D+2}", key="staff-a"),
    Http(
        "the day's booked pickups",
        "GET",
        "/v1/locations/ST-A/pickups?date={D+2}&status=booked",
        key="admin",
    ),
    Http("today's list", "GET", "/v1/locations/ST-A/pickups", key="staff-a"),
    Http(
        "a status that does not exist",
        "GET",
        "/v1/locations/ST-A/pickups?status=lost",
        key="staff-a",
    ),
    Http(
        "the day's list by staff of another store",
        "GET",
        "/v1/locations/ST-A/pickups?date={D+2}",
        key="staff-b",
    ),
    Http(
        "the day's list by a webshop", "GET", "/v1/locations/ST-A/pickups?date={D+2}", key="webshop"
    ),
    Http(
        "the day's list of a location that does not exist",
        "GET",
        "/v1/locations/ST-NOWHERE/pickups",
        key="admin",
    ),
    # ---------------------------------------------------------------- reschedule, cancel
    act(
        "P-4 moved to 20:00", "P-4", "reschedule", key="webshop", json={"slot_start": "{D+2T20:00}"}
    ),
    act(
        "P-4 moved to the full slot at 12:00",
        "P-4",
        "reschedule",
        key="webshop",
        json={"slot_start": "{D+2T12:00}"},
    ),
    act(
        "P-4 moved to a time that starts no slot",
        "P-4",
        "reschedule",
        key="webshop",
        json={"slot_start": "{D+2T21:00}"},
    ),
    act(
        "P-4 moved beyond the horizon",
        "P-4",
        "reschedule",
        key="webshop",
        json={"slot_start": "{D+9T12:00}"},
    ),
    act("a reschedule without a body", "P-4", "reschedule", key="webshop"),
    act(
        "a reschedule of a pickup that does not exist",
        "P-404",
        "reschedule",
        key="webshop",
        json={"slot_start": "{D+2T20:00}"},
    ),
    act("a reschedule by staff", "P-4", "reschedule", json={"slot_start": "{D+2T16:00}"}),
    act(
        "P-5 cancelled by the webshop", "P-5", "cancel", key="webshop", json={"reason": "customer"}
    ),
    act("P-5 cancelled again", "P-5", "cancel", key="webshop"),
    act("P-5 made ready after its cancel", "P-5", "ready"),
    act("P-4 cancelled by staff of the store", "P-4", "cancel", json=None),
    act("a cancel by staff of another store", "P-2", "cancel", key="staff-b"),
    act("a cancel with an unknown field", "P-2", "cancel", key="webshop", json={"why": "x"}),
    act("a cancel of a pickup that does not exist", "P-404", "cancel", key="webshop"),
    # ---------------------------------------------------------------- the counter
    act("P-1 made ready by staff of another store", "P-1", "ready", key="staff-b"),
    act("P-1 made ready by a webshop", "P-1", "ready", key="webshop"),
    collect("P-1 collected before it is ready", "P-1", "{saved:p1}"),
    act("P-1 made ready", "P-1", "ready"),
    act("P-1 made ready again", "P-1", "ready"),
    act("P-2 made ready: the warehouse goods arrive", "P-2", "ready", key="admin"),
    act("a ready of a pickup that does not exist", "P-404", "ready"),
    collect("P-1 with a wrong code", "P-1", "WRNG-CODE"),
    collect("P-1 with its code, typed in lower case", "P-1", "{saved:p1|lower}"),
    collect("P-1 with its code again", "P-1", "{saved:p1}"),
    collect("P-1 with a wrong code once collected", "P-1", "WRNG-CODE"),
    act("P-1 cancelled once collected", "P-1", "cancel", key="webshop"),
    act(
        "P-1 rescheduled once collected",
        "P-1",
        "reschedule",
        key="webshop",
        json={"slot_start": "{D+2T20:00}"},
    ),
    collect("P-2 by staff of another store", "P-2", "{saved:p2}", key="staff-b"),
    collect("P-2 with a code too short", "P-2", "ABC"),
    collect(
        "P-2 with a line it does not hold",
        "P-2",
        "{saved:p2}",
        lines=[{"sku": "S9", "quantity": 1}],
    ),
    collect("P-2 wrong code 1", "P-2", "WRNG-0001"),
    collect("P-2 wrong code 2", "P-2", "WRNG-0002"),
    collect("P-2 wrong code 3", "P-2", "WRNG-0003"),
    collect("P-2 wrong code 4", "P-2", "WRNG-0004"),
    collect("P-2 wrong code 5", "P-2", "WRNG-0005"),
    collect("P-2 with its code while locked", "P-2", "{saved:p2}"),
    collect("a collect of a pickup that does not exist", "P-404", "ABCD-EFGH"),
    act("a collect without a body", "P-2", "collect"),
    # ---------------------------------------------------------------- returns
    returns(
        "a sellable return at the counter",
        "ret-1",
        {"sku": "S1", "quantity": 1, "reference": "receipt-77"},
    ),
    returns(
        "the same return again", "ret-1", {"sku": "S1", "quantity": 1, "reference": "receipt-77"}
    ),
    returns("another return under the same key", "ret-1", {"sku": "S1", "quantity": 2}),
    returns("a damaged return", "ret-2", {"sku": "S1", "quantity": 1, "condition": "damaged"}),
    returns(
        "a return in an unknown condition",
        "ret-3",
        {"sku": "S1", "quantity": 1, "condition": "wet"},
    ),
    returns("a return of 0", "ret-4", {"sku": "S1", "quantity": 0}),
    returns(
        "a return by staff of another store",
        "ret-5",
        {"sku": "S1", "quantity": 1},
        caller="staff-b",
    ),
    returns(
        "a return at a store that does not exist",
        "ret-6",
        {"sku": "S1", "quantity": 1},
        caller="admin",
        store="ST-NOWHERE",
    ),
    Http(
        "a return without an idempotency key",
        "POST",
        "/v1/locations/ST-A/returns",
        key="staff-a",
        json={"sku": "S1", "quantity": 1},
    ),
    Http("the ledger of S1 at ST-A", "GET", "/v1/stock/S1/locations/ST-A/movements", key="admin"),
    Http("the ledger of S2 at WH-1", "GET", "/v1/stock/S2/locations/WH-1/movements", key="admin"),
    Http(
        "the pickups of the day as they end",
        "GET",
        "/v1/locations/ST-A/pickups?date={D+2}",
        key="admin",
    ),
]
