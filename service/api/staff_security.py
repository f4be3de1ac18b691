"""What the staff page's security rests on, in one module (docs/security.md):

- **The session cookie** holds a random session id, never the API key; the session
  itself is a row in PostgreSQL (``usecases/staff_sessions.py``). HttpOnly,
  SameSite=Strict, ``Path=/staff`` (a browser sends it to no other route), Secure in
  production. No ``/v1`` route reads it: there only ``Authorization: Bearer`` counts.
- **The guard** of every ``/staff`` route resumes the session, and refuses (403,
  nothing done) a form POST that does not come from the page's own origin (Origin,
  else Referer; neither, or ``null``: refused) or, but for sign-in, that does not
  carry its session's CSRF token.
- **The headers** of every ``/staff`` answer, errors and redirects included
  (``PageHeaders``): a CSP with no script at all and no framing, no caching, no
  referrer beyond the site, no type sniffing.

Why not Litestar's ``ServerSideSessionConfig`` and ``CSRFConfig``: its session backend
keeps a session id the client presents (a fixation risk at sign-in) and stores an
opaque blob per id, which a revoked key cannot be found by; its CSRF middleware is a
double-submit cookie not bound to the session, needing one more secret shared by
every replica. Here the CSRF token is bound to the session: an HMAC of a fixed label
keyed by the session id, which only the signed-in browser holds. Layered response
headers would miss the answers of guards and exception handlers: a middleware adds
them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.api.context import runtime
from service.domain.access import Principal
from service.domain.staff_sessions import Flash, SessionPolicy, ThrottlePolicy
from service.settings import Settings
from service.usecases import staff_sessions

SESSION_COOKIE = "inventory_staff_session"
LEGACY_COOKIE = "inventory_session"  # held the raw API key before sessions: cleared
COOKIE_PATH = "/staff"
CSRF_FIELD = "csrf_token"
SIGNS_IN = "signs_in"  # route option: the sign-in form, which has no session to check
_SIGNED_IN = "staff_signed_in"  # scope key of the resumed session
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CSRF_LABEL = b"inventory staff page: csrf"
_DEFAULT_PORT = {"http": ":80", "https": ":443"}

PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would make a browser send Origin: null
    (b"x-content-type-options", b"nosniff"),
)
_PAGE_HEADER_NAMES = frozenset(name for name, _ in PAGE_HEADERS)


class StaffRefused(PermissionDeniedException):
    """A form the page did not send (another origin, no or another session's CSRF
    token): 403, and nothing was done."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The session of this request: who acts, the message left for this page."""

    session_id: str
    principal: Principal
    flash: Flash | None

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.session_id)


def csrf_token(session_id: str) -> str:
    """The CSRF token of the forms of a session (the same for all of its pages)."""
    return hmac.new(session_id.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(settings.staff_session_idle_s, settings.staff_session_lifetime_s)


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(settings.staff_sign_in_failures, settings.staff_sign_in_window_s)


async def staff_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Resume the session of the cookie; refuse a POST from elsewhere. Raises StaffRefused."""
    rt = runtime(connection.app.state)
    unsafe = connection.scope["method"] not in _SAFE_METHODS  # type: ignore[typeddict-item]
    if unsafe and not _from_the_page(connection, rt.settings.public_origin):
        raise StaffRefused("this form was not sent from the staff page")
    session_id = connection.cookies.get(SESSION_COOKIE, "")
    found = await staff_sessions.resume(rt.db, session_id, session_policy(rt.settings))
    signed_in = SignedIn(session_id, found.principal, found.flash) if found else None
    connection.scope[_SIGNED_IN] = signed_in  # type: ignore[literal-required]
    if unsafe and signed_in is not None and not handler.opt.get(SIGNS_IN):
        form = await Request[Any, Any, Any](connection.scope, connection.receive).form()
        sent = form.get(CSRF_FIELD)
        expected = signed_in.csrf_token.encode()
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected):
            raise StaffRefused("this form is not of your session")


def signed_in(request: Request[Any, Any, Any]) -> SignedIn | None:
    """The request's session as the guard resumed it (None: not signed in)."""
    found = request.scope.get(_SIGNED_IN)
    return found if isinstance(found, SignedIn) else None


def _from_the_page(
    connection: ASGIConnection[Any, Any, Any, Any], public_origin: str | None
) -> bool:
    headers = connection.headers
    host = headers.get("host")
    if host is None:
        server = connection.scope.get("server") or ("", 0)
        host = f"{server[0]}:{server[1]}"
    return same_origin(headers.get("origin"), headers.get("referer"), host, public_origin)


def same_origin(
    origin: str | None, referer: str | None, host: str, public_origin: str | None
) -> bool:
    """Whether a form was sent from a page of this site: its Origin (else, from an old
    browser, its Referer) is ``public_origin``, or, when that is not set, names the
    host the request was sent to (scheme aside: behind a proxy that ends TLS the
    service sees http). ``null``, a missing header, anything else: False."""
    sent = _origin_of(origin if origin is not None else referer or "")
    if sent is None:
        return False
    if public_origin is not None:
        return sent == _origin_of(public_origin)
    return sent[1] == _without_default_port(host.lower())


def _origin_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of an http(s) URL, the default port left out."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # such as an unclosed IPv6 bracket
        return None
    if parts.scheme not in _DEFAULT_PORT or not parts.netloc:
        return None
    return parts.scheme, parts.netloc.lower().removesuffix(_DEFAULT_PORT[parts.scheme])


def _without_default_port(host: str) -> str:
    return host.removesuffix(":80").removesuffix(":443")


def session_cookie(session_id: str, settings: Settings) -> list[Cookie]:
    """The cookie of a new session, and the end of the cookie that held the API key."""
    fresh = Cookie(
        key=SESSION_COOKIE,
        value=session_id,
        path=COOKIE_PATH,
        max_age=settings.staff_session_lifetime_s,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",  # served behind TLS
    )
    return [fresh, _expired(LEGACY_COOKIE, "/")]


def ended_session_cookies() -> list[Cookie]:
    return [_expired(SESSION_COOKIE, COOKIE_PATH), _expired(LEGACY_COOKIE, "/")]


def _expired(key: str, path: str) -> Cookie:
    return Cookie(key=key, value="", path=path, max_age=0, httponly=True, samesite="strict")


class PageHeaders:
    """Every answer of the staff page leaves with ``PAGE_HEADERS`` (the route's own
    answers, redirects, and the answers of its guard and exception handlers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", ()) if h[0] not in _PAGE_HEADER_NAMES]
                message["headers"] = [*kept, *PAGE_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
