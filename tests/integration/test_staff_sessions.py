"""The staff page's sessions: a random id in the cookie (never the API key), kept in
PostgreSQL as a hash, ended by signing out, by time and by revoking the key; and
sign-in attempts throttled per client address and per key, across replicas."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from service.storage.database import Database
from service.storage.pool import Pool
from service.usecases.keys import revoke_key
from tests.conftest import KeyMaker
from tests.pickup_helpers import Client, given_settings, given_store
from tests.staff_helpers import SESSION_COOKIE, SITE, staff_browser


@pytest.fixture
async def stores(client: Client) -> None:
    """ST-A "Alna" and ST-B "Bryn", open all day, offering pickup."""
    for store, name in (("ST-A", "Alna"), ("ST-B", "Bryn")):
        await given_store(client, store, name=name)
        await given_settings(client, store)


async def test_sign_in_sets_a_random_session_id_never_the_api_key(
    app: Litestar, make_key: KeyMaker, pool: Pool, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as browser:
        answer = await browser.sign_in(key)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/staff"
        (set_cookie,) = [c for c in answer.headers.get_list("set-cookie") if SESSION_COOKIE in c]
        secret = key.split("_", 2)[2]
        assert key not in set_cookie
        assert secret not in set_cookie
        attributes = {a.strip().lower() for a in set_cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/staff"} <= attributes
        session = browser.session
        assert session is not None
        assert len(session) >= 32
    rows = await pool.fetch("SELECT * FROM staff_sessions")
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert session not in stored, "the session id itself is not stored"
    assert hashlib.sha256(session.encode()).hexdigest() in stored


async def test_two_sign_ins_get_two_sessions(
    app: Litestar, make_key: KeyMaker, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as one, staff_browser(app) as other:
        await one.sign_in(key)
        await other.sign_in(key)
        assert one.session
        assert other.session
        assert one.session != other.session


async def test_a_cookie_the_client_chose_is_never_taken_as_the_session(
    app: Litestar, make_key: KeyMaker, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as browser:
        browser.http.cookies.set(
            SESSION_COOKIE, "chosen-by-an-attacker", domain="inventory.test", path="/staff"
        )
        await browser.sign_in(key)
        assert browser.session != "chosen-by-an-attacker"


async def test_signing_out_ends_the_session_so_the_old_cookie_no_longer_works(
    app: Litestar, make_key: KeyMaker, pool: Pool, stores: None
) -> None:
    async with staff_browser(app) as browser:
        await browser.sign_in(await make_key("staff", "ST-A"))
        assert "Sign out" in (await browser.page()).text
        kept = browser.cookie_header()
        out = await browser.act("/staff/logout")
        assert out.status_code == 303, out.text
        assert browser.session is None
    assert await pool.fetchval("SELECT count(*) FROM staff_sessions") == 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SITE) as http:
        replayed = await http.get("/staff", headers={"Cookie": kept})
    assert "API key" in replayed.text
    assert "Sign out" not in replayed.text


@pytest.mark.parametrize(
    "ended",
    [
        "last_seen_at = now() - make_interval(secs => $1 + 1)",
        "created_at = now() - interval '13 hours', expires_at = now() - interval '1 second'",
    ],
    ids=["idle too long", "past its absolute end"],
)
async def test_a_session_ends_when_idle_too_long_or_at_its_absolute_end(
    app: Litestar, make_key: KeyMaker, pool: Pool, settings: Settings, stores: None, ended: str
) -> None:
    async with staff_browser(app) as browser:
        await browser.sign_in(await make_key("staff", "ST-A"))
        assert "Sign out" in (await browser.page()).text
        args = [settings.staff_session_idle_s] if "$1" in ended else []
        await pool.execute(f"UPDATE staff_sessions SET {ended}", *args)
        page = await browser.page()
    assert "API key" in page.text
    assert "Sign out" not in page.text


async def test_a_session_is_kept_alive_by_use(
    app: Litestar, make_key: KeyMaker, pool: Pool, settings: Settings, stores: None
) -> None:
    async with staff_browser(app) as browser:
        await browser.sign_in(await make_key("staff", "ST-A"))
        await pool.execute(
            "UPDATE staff_sessions SET last_seen_at = now() - make_interval(secs => $1 - 5)",
            settings.staff_session_idle_s,
        )
        assert "Sign out" in (await browser.page()).text
        await pool.execute(
            "UPDATE staff_sessions SET last_seen_at = last_seen_at - interval '10 seconds'"
        )
        assert "Sign out" in (await browser.page()).text


async def test_revoking_the_key_ends_its_sessions(
    app: Litestar, make_key: KeyMaker, db: Database, pool: Pool, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as browser:
        await browser.sign_in(key)
        assert "Sign out" in (await browser.page()).text
        assert await revoke_key(db, key.split("_")[1])
        assert await pool.fetchval("SELECT count(*) FROM staff_sessions") == 0
        assert "Sign out" not in (await browser.page()).text


async def test_a_session_ends_when_its_key_expires(
    app: Litestar, make_key: KeyMaker, pool: Pool, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    async with staff_browser(app) as browser:
        await browser.sign_in(key)
        assert "Sign out" in (await browser.page()).text
        await pool.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_id = $1",
            key.split("_")[1],
        )
        assert "Sign out" not in (await browser.page()).text


async def test_only_staff_and_admin_keys_sign_in(
    app: Litestar, make_key: KeyMaker, stores: None
) -> None:
    for role in ("reader", "webshop", "integration"):
        async with staff_browser(app) as browser:
            refused = await browser.sign_in(await make_key(role))
            assert refused.status_code == 401
            assert "not a staff key" in refused.text
            assert browser.session is None
    async with staff_browser(app) as browser:
        assert (await browser.sign_in(await make_key("admin"))).status_code == 303
        assert "Sign out" in (await browser.page()).text


async def test_a_session_shows_and_acts_only_at_the_key_s_stores(
    app: Litestar, make_key: KeyMaker, stores: None
) -> None:
    async with staff_browser(app) as browser:
        await browser.sign_in(await make_key("staff", "ST-B"))
        page = await browser.page("/staff?location=ST-A")
        assert "Bryn" in page.text
        assert "Alna" not in page.text


async def test_a_bearer_key_does_not_open_the_page(
    app: Litestar, make_key: KeyMaker, stores: None
) -> None:
    async with staff_browser(app) as browser:
        browser.http.headers["Authorization"] = f"Bearer {await make_key('staff', 'ST-A')}"
        page = await browser.page()
    assert "API key" in page.text
    assert "Sign out" not in page.text


# ------------------------------------------------------------------ throttling


async def test_failed_sign_ins_from_one_address_are_throttled_with_retry_after(
    app: Litestar, make_key: KeyMaker, settings: Settings, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    limit = settings.staff_sign_in_failures
    async with staff_browser(app, "203.0.113.5") as browser:
        for attempt in range(limit):
            refused = await browser.sign_in(f"inv_guess{attempt}_wrong")
            assert refused.status_code == 401, attempt
        throttled = await browser.sign_in(key)  # even the right key, while throttled
        assert throttled.status_code == 429, throttled.text
        assert 0 < int(throttled.headers["retry-after"]) <= settings.staff_sign_in_window_s
        assert "too many failed sign-ins" in throttled.text
        assert browser.session is None
    async with staff_browser(app, "203.0.113.6") as elsewhere:
        assert (await elsewhere.sign_in(key)).status_code == 303


async def test_failed_sign_ins_against_one_key_are_throttled_at_every_address(
    app: Litestar, make_key: KeyMaker, settings: Settings, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    key_id = key.split("_")[1]
    for attempt in range(settings.staff_sign_in_failures):
        async with staff_browser(app, f"192.0.2.{attempt + 1}") as browser:
            assert (await browser.sign_in(f"inv_{key_id}_wrong{attempt}")).status_code == 401
    async with staff_browser(app, "192.0.2.200") as browser:
        throttled = await browser.sign_in(key)
    assert throttled.status_code == 429
    other = await make_key("staff", "ST-A")
    async with staff_browser(app, "192.0.2.201") as browser:
        assert (await browser.sign_in(other)).status_code == 303


@pytest.fixture
async def replica(runtime: Runtime) -> AsyncIterator[Litestar]:
    """A second replica: its own runtime (pool, key cache) on the same database."""
    other = await Runtime.start(runtime.settings)
    yield create_app(runtime=other)
    await other.stop()


async def test_throttling_holds_across_replicas(
    app: Litestar, replica: Litestar, make_key: KeyMaker, settings: Settings, stores: None
) -> None:
    key = await make_key("staff", "ST-A")
    for attempt in range(settings.staff_sign_in_failures):
        served_by = app if attempt % 2 else replica
        async with staff_browser(served_by, "203.0.113.9") as browser:
            assert (await browser.sign_in(f"inv_x{attempt}_y")).status_code == 401
    for served_by in (app, replica):
        async with staff_browser(served_by, "203.0.113.9") as browser:
            assert (await browser.sign_in(key)).status_code == 429


async def test_a_session_made_by_one_replica_works_at_another_and_ends_at_both(
    app: Litestar, replica: Litestar, make_key: KeyMaker, stores: None
) -> None:
    async with staff_browser(app) as here:
        await here.sign_in(await make_key("staff", "ST-A"))
        async with staff_browser(replica) as there:
            there.http.cookies = here.http.cookies
            assert "Sign out" in (await there.page()).text
            await there.act("/staff/logout")
        assert "Sign out" not in (await here.page()).text
