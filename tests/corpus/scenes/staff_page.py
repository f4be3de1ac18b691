"""The staff page (not in the OpenAPI document): sign-in with an API key kept in a
session cookie, today's pickups of a store, ready and hand-over by form.

Today's list is empty: a pickup for today would need a slot later than the time the
corpus is played, which would make the page depend on the clock."""

from __future__ import annotations

from tests.corpus.scenes.world import location, pickup_settings, stock
from tests.corpus.steps import Http

CUSTOMER = {"name": "Kari Nordmann"}


def session(name: str) -> tuple[tuple[str, str], ...]:
    return (("cookie", f"inventory_session={{key:{name}}}"),)


def page(
    name: str,
    path: str = "/staff",
    caller: str | None = "staff-a",
    headers: tuple[tuple[str, str], ...] = (),
) -> Http:
    """``caller``: whose session cookie is sent (None: no cookie)."""
    return Http(name, "GET", path, key=None, headers=(session(caller) if caller else ()) + headers)


def form(name: str, path: str, fields: dict[str, str], caller: str | None = "staff-a") -> Http:
    headers = session(caller) if caller else ()
    return Http(name, "POST", path, key=None, form=fields, headers=headers)


def book(pickup_id: str) -> Http:
    body = {
        "pickup_id": pickup_id,
        "location_id": "ST-A",
        "slot_start": "{D+2T12:00}",
        "lines": [{"sku": "S1", "quantity": 1}],
        "customer": CUSTOMER,
    }
    save = {pickup_id: "pickup_code"}
    return Http(
        f"a webshop books {pickup_id}", "POST", "/v1/pickups", key="webshop", json=body, save=save
    )


STEPS = [
    location("ST-A"),
    location("ST-B"),
    pickup_settings("ST-A", slot_minutes=240, prep_minutes=0),
    stock("stock-1", ("ST-A", "S1", 5)),
    book("P-1"),
    book("P-2"),
    # ---------------------------------------------------------------- signing in
    page("the page without a session", caller=None),
    page(
        "the page with a reader's key as bearer",
        caller=None,
        headers=(("authorization", "Bearer {key:reader}"),),
    ),
    page(
        "the page with staff's key as bearer",
        caller=None,
        headers=(("authorization", "Bearer {key:staff-a}"),),
    ),
    page(
        "the page with an unknown key in the cookie",
        caller=None,
        headers=(("cookie", "inventory_session=inv_x_y"),),
    ),
    form("sign-in with a reader's key", "/staff/login", {"api_key": "{key:reader}"}, caller=None),
    form(
        "sign-in with an unknown key",
        "/staff/login",
        {"api_key": "inv_corpus-nobody_x"},
        caller=None,
    ),
    form("sign-in without a key", "/staff/login", {}, caller=None),
    Http("sign-in as JSON", "POST", "/staff/login", key=None, json={"api_key": "{key:staff-a}"}),
    form("sign-in with staff's key", "/staff/login", {"api_key": "{key:staff-a}"}, caller=None),
    form("sign-in with an admin's key", "/staff/login", {"api_key": " {key:admin} "}, caller=None),
    # ---------------------------------------------------------------- the page
    page("the page of staff of ST-A"),
    page("the page of staff of ST-A asking for ST-B", "/staff?location=ST-B"),
    page("the page of an admin", caller="admin"),
    page(
        "the page of an admin at ST-B, with a message",
        "/staff?location=ST-B&msg=hello%20%3Cb%3E&error=1",
        caller="admin",
    ),
    page("the page of a webshop's key", caller="webshop"),
    # ---------------------------------------------------------------- actions
    form("P-1 made ready", "/staff/pickups/P-1/ready", {}),
    form("P-1 made ready again", "/staff/pickups/P-1/ready", {}),
    form(
        "P-1 made ready by staff of another store", "/staff/pickups/P-1/ready", {}, caller="staff-b"
    ),
    form("P-1 made ready without a session", "/staff/pickups/P-1/ready", {}, caller=None),
    form("a pickup that does not exist made ready", "/staff/pickups/P-404/ready", {}),
    form(
        "P-2 handed over before it is ready", "/staff/pickups/P-2/collect", {"code": "{saved:P-2}"}
    ),
    form("P-1 handed over with a wrong code", "/staff/pickups/P-1/collect", {"code": "WRNG-CODE"}),
    form("P-1 handed over without a code", "/staff/pickups/P-1/collect", {}),
    form(
        "P-1 handed over with its code, typed without the dash",
        "/staff/pickups/P-1/collect",
        {"code": "{saved:P-1|bare}"},
    ),
    form("P-1 handed over again", "/staff/pickups/P-1/collect", {"code": "{saved:P-1}"}),
    Http("P-1 as it ends", "GET", "/v1/pickups/P-1", key="staff-a"),
    form("signing out", "/staff/logout", {}),
    form("signing out without a session", "/staff/logout", {}, caller=None),
]
