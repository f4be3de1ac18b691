"""The staff page (not in the OpenAPI document): sign-in with an API key, which opens
a server-side session (the cookie holds a random id, written {session:NAME}); today's
pickups of a store; ready and hand-over by forms that carry the session's CSRF token
({csrf:NAME}) and come from the page's own origin; the message after an action, from
the session; signing out. And what is refused: forms from elsewhere, forms without
the session's token, the session cookie on /v1, the cookie after signing out.

Today's list is empty: a pickup for today would need a slot later than the time the
corpus is played, which would make the page depend on the clock."""

from __future__ import annotations

from tests.corpus.scenes.world import location, pickup_settings, stock
from tests.corpus.steps import Http

CUSTOMER = {"name": "Kari Nordmann"}
SITE = "http://inventory.test"  # the host the corpus's requests are sent to
ELSEWHERE = "https://evil.example"


def page(
    name: str,
    path: str = "/staff",
    session: str | None = "staff-a",
    headers: tuple[tuple[str, str], ...] = (),
) -> Http:
    """``session``: whose session cookie is sent (None: no cookie)."""
    return Http(name, "GET", path, key=None, session=session, headers=headers)


def form(
    name: str,
    path: str,
    fields: dict[str, str] | None = None,
    session: str | None = "staff-a",
    origin: str | None = SITE,
    csrf: str | None = "staff-a",
    save_session: str | None = None,
    referer: str | None = None,
) -> Http:
    """A form POST as the page sends it: from ``origin``, with the CSRF token of the
    session ``csrf`` (None: without one)."""
    sent = dict(fields or {})
    if csrf is not None:
        sent["csrf_token"] = f"{{csrf:{csrf}}}"
    headers = (("origin", origin),) if origin is not None else ()
    headers += (("referer", referer),) if referer is not None else ()
    return Http(
        name, "POST", path, key=None, form=sent, headers=headers,
        session=session, save_session=save_session,
    )  # fmt: skip


def sign_in(name: str, api_key: str, save_session: str | None = None, **more: str | None) -> Http:
    fields = {"api_key": api_key}
    return form(
        name, "/staff/login", fields, session=None, csrf=None, save_session=save_session, **more
    )


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
    page("the page without a session", session=None),
    page(
        "the page with a reader's key as bearer",
        session=None,
        headers=(("authorization", "Bearer {key:reader}"),),
    ),
    page(
        "the page with staff's key as bearer (the page knows only its sessions)",
        session=None,
        headers=(("authorization", "Bearer {key:staff-a}"),),
    ),
    page(
        "the page with staff's key in the cookie that once held it",
        session=None,
        headers=(("cookie", "inventory_session={key:staff-a}"),),
    ),
    page(
        "the page with a session id nobody was given",
        session=None,
        headers=(("cookie", "inventory_staff_session=made-up"),),
    ),
    sign_in("sign-in with a reader's key", "{key:reader}"),
    sign_in("sign-in with an unknown key", "inv_corpus-nobody_x"),
    form("sign-in without a key", "/staff/login", session=None, csrf=None),
    Http(
        "sign-in as JSON",
        "POST",
        "/staff/login",
        key=None,
        json={"api_key": "{key:staff-a}"},
        headers=(("origin", SITE),),
    ),
    sign_in("sign-in with staff's key from another site", "{key:staff-a}", origin=ELSEWHERE),
    sign_in("sign-in with staff's key without an Origin", "{key:staff-a}", origin=None),
    sign_in("sign-in with staff's key", "{key:staff-a}", save_session="staff-a"),
    sign_in("sign-in with an admin's key", " {key:admin} ", save_session="admin"),
    sign_in("sign-in with the key of staff of ST-B", "{key:staff-b}", save_session="staff-b"),
    # ---------------------------------------------------------------- the page
    page("the page of staff of ST-A"),
    page("the page of staff of ST-A asking for ST-B", "/staff?location=ST-B"),
    page("the page of an admin", session="admin"),
    page(
        "the page of an admin at ST-B, with a message in the URL (not shown)",
        "/staff?location=ST-B&msg=hello%20%3Cb%3E&error=1",
        session="admin",
    ),
    Http(
        "the session cookie on a /v1 route",
        "GET",
        "/v1/locations/ST-A/pickups",
        key=None,
        session="admin",
    ),
    # ---------------------------------------------------------------- actions
    form("P-1 made ready", "/staff/pickups/P-1/ready"),
    page("the page after P-1 made ready"),
    page("the page once more: the message was shown once"),
    form("P-1 made ready again", "/staff/pickups/P-1/ready"),
    page("the page after P-1 made ready again"),
    form(
        "P-1 made ready by staff of another store",
        "/staff/pickups/P-1/ready",
        session="staff-b",
        csrf="staff-b",
    ),
    page("the page of staff of ST-B after that", session="staff-b"),
    form("P-1 made ready without a session", "/staff/pickups/P-1/ready", session=None, csrf=None),
    form("a pickup that does not exist made ready", "/staff/pickups/P-404/ready"),
    page("the page after a pickup that does not exist"),
    form(
        "P-2 made ready from another site",
        "/staff/pickups/P-2/ready",
        origin=ELSEWHERE,
    ),
    form(
        "P-2 made ready with a Referer of another site and no Origin",
        "/staff/pickups/P-2/ready",
        origin=None,
        referer=f"{ELSEWHERE}/prize",
    ),
    form("P-2 made ready without the CSRF token", "/staff/pickups/P-2/ready", csrf=None),
    form(
        "P-2 made ready with the CSRF token of another session",
        "/staff/pickups/P-2/ready",
        csrf="admin",
    ),
    form(
        "P-2 handed over before it is ready", "/staff/pickups/P-2/collect", {"code": "{saved:P-2}"}
    ),
    page("the page after P-2 handed over before it is ready"),
    form("P-1 handed over with a wrong code", "/staff/pickups/P-1/collect", {"code": "WRNG-CODE"}),
    page("the page after a wrong code"),
    form("P-1 handed over without a code", "/staff/pickups/P-1/collect"),
    form(
        "P-1 handed over from another site with its code",
        "/staff/pickups/P-1/collect",
        {"code": "{saved:P-1}"},
        origin=ELSEWHERE,
    ),
    form(
        "P-1 handed over with its code, typed without the dash",
        "/staff/pickups/P-1/collect",
        {"code": "{saved:P-1|bare}"},
    ),
    page("the page after P-1 handed over"),
    form("P-1 handed over again", "/staff/pickups/P-1/collect", {"code": "{saved:P-1}"}),
    Http("P-1 as it ends", "GET", "/v1/pickups/P-1", key="staff-a"),
    Http("P-2 as it ends", "GET", "/v1/pickups/P-2", key="staff-a"),
    # ---------------------------------------------------------------- signing out
    form("signing out without the CSRF token", "/staff/logout", csrf=None),
    form("signing out", "/staff/logout"),
    page("the page with the cookie of the ended session"),
    form("P-2 made ready with the cookie of the ended session", "/staff/pickups/P-2/ready"),
    form("signing out without a session", "/staff/logout", session=None, csrf=None),
]
