"""A browser's view of the staff page, over HTTP: a cookie jar, the page's own
origin on every form, and the CSRF token the page put in its forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

SITE = "http://inventory.test"
SESSION_COOKIE = "inventory_staff_session"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


class StaffBrowser:
    """One browser at one client address: it keeps the cookies the page sets and
    sends its forms as the page does (url-encoded, with the page's Origin)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def sign_in(self, key: str) -> httpx.Response:
        return await self.post("/staff/login", {"api_key": key})

    async def page(self, path: str = "/staff") -> httpx.Response:
        """GET a page of the staff site; keeps the CSRF token of its forms."""
        response = await self.http.get(path)
        found = _CSRF_FIELD.search(response.text)
        self.csrf = found[1] if found else self.csrf
        return response

    async def act(self, path: str, **fields: str) -> httpx.Response:
        """POST a form of the page (with the CSRF token the page gave)."""
        return await self.post(path, {"csrf_token": self.csrf, **fields})

    async def post(
        self, path: str, fields: dict[str, str], origin: str | None = SITE
    ) -> httpx.Response:
        headers = {"Origin": origin} if origin is not None else {}
        return await self.http.post(path, data=fields, headers=headers)

    def cookie_header(self) -> str:
        """The cookies as the browser would send them to /staff."""
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)

    @property
    def session(self) -> str | None:
        return self.http.cookies.get(SESSION_COOKIE)


@asynccontextmanager
async def staff_browser(
    app: Litestar, address: str = "198.51.100.7"
) -> AsyncIterator[StaffBrowser]:
    """A browser of the staff page at client ``address``, without any API key."""
    transport = httpx.ASGITransport(app=app, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as http:
        yield StaffBrowser(http)


def message_of(page: httpx.Response) -> str:
    """The text of the page's message (after an action), '' when there is none."""
    found = re.search(r'<p class="msg[^"]*" role="status">([^<]*)</p>', page.text)
    return found[1] if found else ""
