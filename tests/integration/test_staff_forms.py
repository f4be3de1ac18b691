"""The staff page's forms and answers: every form POST must come from the page's own
origin and (but for sign-in) carry its session's CSRF token, or it is refused (403)
and changes nothing; every answer carries the headers a login page needs; messages
after an action come from the session, never from the URL."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar

from service.storage.pool import Pool
from tests.conftest import KeyMaker
from tests.pickup_helpers import (
    Client,
    at_noon,
    booking_body,
    given_pickup_store,
    pickup_row,
)
from tests.staff_helpers import SITE, StaffBrowser, message_of, staff_browser

ELSEWHERE = "https://evil.example"


@pytest.fixture
async def code(client: Client) -> str:
    """Store ST-A with pickup P1 (tomorrow, booked); the pickup's code."""
    await given_pickup_store(client, "ST-A", ("S1", 5))
    response = await client.post(
        "/v1/pickups", json=booking_body("P1", "ST-A", at_noon(1), ("S1", 1))
    )
    assert response.status_code == 201, response.text
    found: str = response.json()["pickup_code"]
    return found


async def signed_in(browser: StaffBrowser, key: str) -> None:
    assert (await browser.sign_in(key)).status_code == 303
    assert "Sign out" in (await browser.page()).text
    assert browser.csrf


# ------------------------------------------------------------------ origin


@pytest.mark.parametrize(
    "sent",
    [
        {"Origin": ELSEWHERE},
        {"Origin": "null"},
        {"Origin": "http://inventory.test.evil.example"},
        {"Origin": "http://inventory.test:8080"},
        {"Referer": f"{ELSEWHERE}/staff"},  # an old browser: no Origin, a Referer
        {},  # neither
    ],
    ids=["other site", "null", "suffix", "other port", "referer", "none"],
)
async def test_a_form_post_to_ready_from_another_origin_is_refused_and_changes_nothing(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str, sent: dict[str, str]
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        data = {"csrf_token": browser.csrf}
        refused = await browser.http.post("/staff/pickups/P1/ready", data=data, headers=sent)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert "Nothing was done" in refused.text
    assert (await pickup_row(pool, "P1"))["status"] == "booked"


async def test_a_cross_origin_hand_over_is_refused_even_with_the_right_code(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        assert (await browser.act("/staff/pickups/P1/ready")).status_code == 303
        fields = {"csrf_token": browser.csrf, "code": code}
        refused = await browser.post("/staff/pickups/P1/collect", fields, origin=ELSEWHERE)
        assert refused.status_code == 403
        assert (await pickup_row(pool, "P1"))["status"] == "ready"
        done = await browser.act("/staff/pickups/P1/collect", code=code)
        assert done.status_code == 303
    assert (await pickup_row(pool, "P1"))["status"] == "collected"


async def test_a_referer_of_the_page_itself_is_enough_when_no_origin_is_sent(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        data = {"csrf_token": browser.csrf}
        headers = {"Referer": f"{SITE}/staff?location=ST-A"}
        done = await browser.http.post("/staff/pickups/P1/ready", data=data, headers=headers)
    assert done.status_code == 303
    assert (await pickup_row(pool, "P1"))["status"] == "ready"


async def test_a_sign_in_from_another_origin_is_refused_and_opens_no_session(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str
) -> None:
    async with staff_browser(app) as browser:
        refused = await browser.post(
            "/staff/login", {"api_key": await make_key("staff", "ST-A")}, origin=ELSEWHERE
        )
        assert refused.status_code == 403
        assert browser.session is None
    assert await pool.fetchval("SELECT count(*) FROM staff_sessions") == 0


# ------------------------------------------------------------------ CSRF token


@pytest.mark.parametrize("token", [None, "", "0" * 64, "forged", "f\u00f8rged"])
async def test_a_form_post_without_the_session_s_csrf_token_is_refused(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str, token: str | None
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        fields = {} if token is None else {"csrf_token": token}
        refused = await browser.post("/staff/pickups/P1/ready", fields)
        assert refused.status_code == 403, refused.text
        signed_out = await browser.post("/staff/logout", fields)
        assert signed_out.status_code == 403
        assert "Sign out" in (await browser.page()).text  # still signed in
    assert (await pickup_row(pool, "P1"))["status"] == "booked"


async def test_the_csrf_token_of_another_session_is_refused(
    app: Litestar, make_key: KeyMaker, pool: Pool, code: str
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as mine, staff_browser(app) as theirs:
        await signed_in(mine, key)
        await signed_in(theirs, key)
        assert mine.csrf != theirs.csrf
        refused = await mine.post("/staff/pickups/P1/ready", {"csrf_token": theirs.csrf})
    assert refused.status_code == 403
    assert (await pickup_row(pool, "P1"))["status"] == "booked"


async def test_an_action_without_a_session_leads_to_sign_in_and_changes_nothing(
    app: Litestar, pool: Pool, code: str
) -> None:
    async with staff_browser(app) as browser:
        answer = await browser.post("/staff/pickups/P1/ready", {"csrf_token": "x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff"
    assert (await pickup_row(pool, "P1"))["status"] == "booked"


# ------------------------------------------------------------------ headers


def assert_page_headers(answer: httpx.Response) -> None:
    headers = answer.headers
    policy = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in headers["content-security-policy"].split(";")
    }
    assert policy["default-src"] == "default-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["form-action"] == "form-action 'self'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"].count("charset") == 1
    if not answer.is_redirect:
        assert headers["content-type"] == "text/html; charset=utf-8"


async def test_every_answer_of_the_page_carries_the_headers_of_a_login_page(
    app: Litestar, make_key: KeyMaker, code: str
) -> None:
    async with staff_browser(app) as browser:
        answers = [await browser.page()]  # the sign-in form
        answers.append(await browser.sign_in("inv_nobody_x"))  # refused
        answers.append(await browser.sign_in(await make_key("staff", "ST-A")))  # 303
        answers.append(await browser.page())  # the pickups
        answers.append(await browser.act("/staff/pickups/P1/ready"))  # 303 after an action
        answers.append(await browser.post("/staff/pickups/P1/ready", {}))  # 403
        style = await browser.http.get("/staff/static/staff.css")
    assert [a.status_code for a in answers] == [200, 401, 303, 200, 303, 403]
    for answer in answers:
        assert_page_headers(answer)
    assert style.status_code == 200
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    for name in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert style.headers[name] == answers[0].headers[name]


async def test_the_page_loads_no_script_and_only_its_own_style_sheet(
    app: Litestar, make_key: KeyMaker, code: str
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        page = await browser.page()
    assert "<script" not in page.text
    assert not re.search(r"\son[a-z]+=", page.text), "no inline event handler"
    assert '<link rel="stylesheet" href="/staff/static/staff.css">' in page.text
    assert "<style" not in page.text


# ------------------------------------------------------------------ messages


async def test_a_message_after_an_action_comes_from_the_session_and_shows_once(
    app: Litestar, make_key: KeyMaker, code: str
) -> None:
    async with staff_browser(app) as browser:
        await signed_in(browser, await make_key("staff", "ST-A"))
        done = await browser.act("/staff/pickups/P1/ready")
        assert "msg" not in done.headers["location"]
        assert message_of(await browser.page(done.headers["location"])) == (
            "P1 is ready; the customer is told"
        )
        assert message_of(await browser.page()) == ""
        forged = await browser.page("/staff?msg=Call%20this%20number&error=1")
        assert "Call this number" not in forged.text
