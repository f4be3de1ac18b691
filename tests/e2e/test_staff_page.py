"""The staff page in a real headless browser (Debian's chromium through Playwright),
against the service started the way production starts it (`inventory serve`)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from service.storage.pool import Pool
from tests.pickup_helpers import (
    Client,
    booked,
    given_settings,
    given_stock,
    given_store,
    instant,
    ok,
    on_hand_and_reserved,
    pickup_row,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# A store is open 00:00-24:00 with 30-minute slots, so a slot later today exists
# unless it is the store's last half hour; the first of these zones whose local
# time is before 23:00 is the store's.
ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Honolulu", "Asia/Kolkata")
INVENTORY = Path(sys.executable).with_name("inventory")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    base: str
    process: asyncio.subprocess.Process
    log: Path


@pytest.fixture(scope="module")
async def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """`inventory serve` on a free port, on the test database (booting, not yet live)."""
    port = free_port()
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_RUN_WORKERS_IN_PROCESS": "false",
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "warning",
    }
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(INVENTORY), "serve", "--port", str(port),
            env=env, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        await stop(process)


async def until_live(server: Server) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    async with httpx.AsyncClient() as http:
        while True:
            assert server.process.returncode is None, (
                f"inventory serve exited:\n{server.log.read_text()}"
            )
            try:
                if (await http.get(f"{server.base}/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert loop.time() < deadline, (
                f"inventory serve never came up:\n{server.log.read_text()}"
            )
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the server we started (and its workers, in its own session)."""
    if process.returncode is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@pytest.fixture(scope="module")
async def browser(server: Server) -> AsyncIterator[Browser]:
    """Chromium, launched while the server boots; yielded once the server is live."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await until_live(server)
        yield launched
        await launched.close()


@pytest.fixture
def site(server: Server, browser: Browser) -> str:
    """The base URL of the live server (the browser fixture waited for it)."""
    return server.base


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    opened = await context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    await context.close()


def zone_before_23h() -> str:
    now = datetime.now(UTC)
    for name in ZONES:
        if now.astimezone(ZoneInfo(name)).hour < 23:
            return name
    raise AssertionError("every candidate zone is in its last hour")  # pragma: no cover


async def a_slot_later_today(client: Client, location_id: str) -> datetime:
    answer = await ok(await client.get(f"/v1/locations/{location_id}/pickup-slots"))
    zone = ZoneInfo(answer["timezone"])
    today = datetime.now(UTC).astimezone(zone).date()
    soon = datetime.now(UTC) + timedelta(minutes=1)
    starts = [instant(s["starts_at"]) for s in answer["slots"]]
    return next(s for s in starts if s > soon and s.astimezone(zone).date() == today)


async def given_named_store(client: Client, store: str, name: str) -> None:
    """A store open all day, in a zone where today still has slots, with stock."""
    await given_store(client, store, name=name, timezone=zone_before_23h())
    await given_settings(client, store, prep_minutes=0, slot_minutes=30)
    await given_stock(client, store, ("S1", 5))


async def served(site: str, client: Client, *stores: str) -> None:
    """The server process knows ``stores`` (it hears of new locations by NOTIFY, and
    loads a location it does not know yet when asked for its availability)."""
    async with httpx.AsyncClient(base_url=site, headers=dict(client.headers)) as http:
        for store in stores:
            response = await http.get(f"/v1/availability/S1/locations/{store}")
            assert response.status_code == 200, response.text


async def given_a_pickup_today(client: Client, store: str, name: str) -> dict[str, Any]:
    """Store ``store`` and pickup P1 of it booked in a slot later today; the booking."""
    await given_named_store(client, store, name)
    return await booked(client, "P1", store, await a_slot_later_today(client, store), ("S1", 2))


async def sign_in(page: Page, base: str, key: str) -> None:
    await page.goto(f"{base}/staff")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()


def csp_complaints(page: Page) -> list[str]:
    """What the browser's console says against the page's Content-Security-Policy."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


async def test_staff_mark_a_pickup_ready_and_hand_it_over_with_the_code(
    site: str, page: Page, client: Client, make_key: Any, pool: Pool, tmp_path: Path
) -> None:
    booking = await given_a_pickup_today(client, "ST-OSLO", "Oslo Storgata")
    code = booking["pickup_code"]
    await served(site, client, "ST-OSLO")
    complaints = csp_complaints(page)
    await sign_in(page, site, await make_key("staff", "ST-OSLO"))

    await expect(page.get_by_role("heading", level=1)).to_contain_text("Oslo Storgata")
    row = page.locator("tr[data-pickup='P1']")
    await expect(row).to_contain_text("Kari Nordmann")
    await expect(row).to_contain_text("2 \N{MULTIPLICATION SIGN} S1")
    await expect(row.locator("td.status")).to_have_text(re.compile("^booked$", re.I))

    await row.get_by_role("button", name="Mark ready").click()
    await expect(page.get_by_role("status")).to_contain_text("P1 is ready")
    await expect(row.locator("td.status")).to_have_text("READY", use_inner_text=True)
    assert (await pickup_row(pool, "P1"))["status"] == "ready"

    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    await row.get_by_label("Pickup code for P1").fill(wrong)
    await row.get_by_role("button", name="Hand over").click()
    message = page.get_by_role("status")
    await expect(message).to_contain_text("wrong code")
    await expect(message).to_have_class(re.compile(r"\berror\b"))
    await expect(row.locator("td.status")).to_have_text(re.compile("^ready$", re.I))
    assert await on_hand_and_reserved(pool, "ST-OSLO", "S1") == (5, 2)

    await row.get_by_label("Pickup code for P1").fill(code.lower())
    await row.get_by_role("button", name="Hand over").click()
    await expect(page.get_by_role("status")).to_contain_text("P1 handed over")
    await expect(page.get_by_role("status")).not_to_have_class(re.compile(r"\berror\b"))
    await expect(row.locator("td.status")).to_have_text(re.compile("^collected$", re.I))
    await expect(row.get_by_role("button")).to_have_count(0)
    await page.screenshot(path=str(tmp_path / "staff-page.png"), full_page=True)
    assert (tmp_path / "staff-page.png").stat().st_size > 0
    assert (await pickup_row(pool, "P1"))["status"] == "collected"
    assert await on_hand_and_reserved(pool, "ST-OSLO", "S1") == (3, 0)
    styled = await page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert styled == "rgb(11, 61, 46)", "the style sheet loads under the page's CSP"
    assert complaints == []


async def test_a_staff_key_of_another_store_neither_sees_nor_acts_on_its_pickups(
    site: str, page: Page, client: Client, make_key: Any, pool: Pool
) -> None:
    await given_a_pickup_today(client, "ST-OSLO", "Oslo Storgata")
    await given_named_store(client, "ST-BERGEN", "Bergen Torget")
    await served(site, client, "ST-OSLO", "ST-BERGEN")

    await sign_in(page, site, await make_key("webshop"))
    await expect(page.get_by_role("alert")).to_contain_text("not a staff key")
    assert await page.context.cookies() == []

    await sign_in(page, site, await make_key("staff", "ST-BERGEN"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bergen Torget")
    (cookie,) = await page.context.cookies()
    assert (cookie["name"], cookie["path"]) == ("inventory_staff_session", "/staff")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    assert "inv_" not in cookie["value"], "the cookie holds a session id, not the key"
    await expect(page.locator("body")).not_to_contain_text("Oslo Storgata")
    await expect(page.locator("tr[data-pickup='P1']")).to_have_count(0)

    await page.goto(f"{site}/staff?location=ST-OSLO")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bergen Torget")
    await expect(page.locator("tr[data-pickup='P1']")).to_have_count(0)

    # the page's own form post, sent with this session, cannot act at Oslo either
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    refused = await page.request.post(
        f"{site}/staff/pickups/P1/ready", form={"csrf_token": token}, headers={"Origin": site}
    )
    assert refused.ok  # back to the page, with the refusal as its message
    assert "may not counter at ST-OSLO" in await refused.text()
    assert (await pickup_row(pool, "P1"))["status"] == "booked"

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API key")).to_be_visible()
    assert await page.context.cookies() == []


async def test_a_form_on_another_site_cannot_act_through_a_signed_in_browser(
    site: str, page: Page, client: Client, make_key: Any, pool: Pool
) -> None:
    """A page elsewhere posts the page's own form (with a token it saw once, even) to
    the staff page of a browser that is signed in: refused, nothing done."""
    await given_a_pickup_today(client, "ST-OSLO", "Oslo Storgata")
    await served(site, client, "ST-OSLO")
    await sign_in(page, site, await make_key("staff", "ST-OSLO"))
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    form = (
        f"<form method=post action='{site}/staff/pickups/P1/ready'>"
        f"<input name=csrf_token value='{token}'><button>Win a prize</button></form>"
    )
    await page.route(
        "http://prizes.example/", lambda route: route.fulfill(body=form, content_type="text/html")
    )
    await page.goto("http://prizes.example/")
    async with page.expect_response(f"{site}/staff/pickups/P1/ready") as sent:
        await page.get_by_role("button", name="Win a prize").click()
    answer = await sent.value
    assert answer.status == 403
    await expect(page.get_by_role("alert")).to_contain_text("Nothing was done")
    assert (await pickup_row(pool, "P1"))["status"] == "booked"

    await page.goto(f"{site}/staff")  # still signed in, the pickup still to be made ready
    row = page.locator("tr[data-pickup='P1']")
    await expect(row.locator("td.status")).to_have_text(re.compile("^booked$", re.I))


async def test_the_page_sends_the_headers_of_a_login_page(site: str, page: Page) -> None:
    answer = await page.goto(f"{site}/staff")
    assert answer is not None
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"] == "text/html; charset=utf-8"
