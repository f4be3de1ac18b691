"""The staff page: today's pickups of a store, mark ready, hand over with the code.

Served by the service itself (no front-end build, no script), rendered from
``templates/``. The staff member signs in with their API key once; from then on the
browser holds only a session cookie. Every action goes through the same use cases
and location checks as the API. What guards the page (sessions, CSRF, Origin, the
headers of every answer) is in ``staff_security.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from service.api.context import runtime
from service.api.params import IdPath
from service.api.staff_security import (
    SIGNS_IN,
    PageHeaders,
    SignedIn,
    StaffRefused,
    ended_session_cookies,
    session_cookie,
    session_policy,
    signed_in,
    staff_guard,
    throttle_policy,
)
from service.domain.access import Principal
from service.domain.errors import DomainError
from service.domain.staff_sessions import Flash, SignInRefused, SignInThrottled
from service.usecases import pickup_counter, staff_sessions

Req = Request[Any, Any, Any]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Session = NamedDependency[SignedIn | None]  # resumed by the guard (staff_security.py)
HOME = "/staff"


def sign_in_page(error: str | None = None, status: int = 200, **headers: str) -> Template:
    context = {"error": error}
    return Template("staff_sign_in.html", context=context, status_code=status, headers=headers)


def refused_page(_request: Req, exc: StaffRefused) -> Template:
    return Template("staff_refused.html", context={"reason": exc.detail}, status_code=403)


class StaffPageController(Controller):
    path = HOME
    include_in_schema = False
    guards = [staff_guard]
    middleware = [PageHeaders]
    dependencies = {"session": Provide(signed_in, sync_to_thread=False)}
    exception_handlers = {StaffRefused: refused_page}

    @get("/")
    async def home(
        self,
        state: State,
        session: Session,
        location: Annotated[str | None, QueryParameter()] = None,
    ) -> Template:
        if session is None:
            return sign_in_page()
        model = runtime(state).read_model
        stores = [
            s for s in model.locations.stores if session.principal.may("counter", s.location_id)
        ]
        if not stores:
            return sign_in_page("this key may not act at any store", 403)
        chosen = next((s for s in stores if s.location_id == location), stores[0])
        today = datetime.now(UTC).astimezone(ZoneInfo(chosen.timezone)).date()
        found = await pickup_counter.pickups_of_day(
            runtime(state).db, chosen.location_id, today, None
        )
        context = {
            "store": chosen,
            "stores": stores,
            "day": today.isoformat(),
            "pickups": found,
            "flash": session.flash,
            "csrf_token": session.csrf_token,
        }
        return Template("staff_pickups.html", context=context)

    @post("/login", status_code=303, opt={SIGNS_IN: True})
    async def login(
        self, request: Req, state: State, session: Session, data: Form
    ) -> Template | Redirect:
        rt = runtime(state)
        token = data.get("api_key", "").strip()
        address = request.client.host if request.client else None
        policies = session_policy(rt.settings), throttle_policy(rt.settings)
        try:
            session_id = await staff_sessions.sign_in(rt.db, rt.keys, token, address, *policies)
        except SignInThrottled as exc:
            return sign_in_page(exc.detail, 429, **{"Retry-After": str(exc.retry_after_s)})
        except SignInRefused as exc:
            return sign_in_page(exc.detail, 401)
        if session is not None:  # a second sign-in ends the session it replaces
            await staff_sessions.sign_out(rt.db, session.session_id)
        return Redirect(HOME, status_code=303, cookies=session_cookie(session_id, rt.settings))

    @post("/logout", status_code=303)
    async def logout(self, state: State, session: Session) -> Redirect:
        if session is not None:
            await staff_sessions.sign_out(runtime(state).db, session.session_id)
        return Redirect(HOME, status_code=303, cookies=ended_session_cookies())

    @post("/pickups/{pickup_id:str}/ready", status_code=303)
    async def ready(self, state: State, session: Session, pickup_id: IdPath) -> Redirect:
        if session is None:
            return Redirect(HOME, status_code=303)
        db, principal = runtime(state).db, session.principal
        location = await _location_of(state, pickup_id, principal)
        try:
            await pickup_counter.mark_ready(
                db, pickup_id, actor=principal.name, may_act_at=_counter_of(principal)
            )
        except DomainError as exc:
            return await _back(state, session, location, Flash(exc.detail, error=True))
        return await _back(
            state, session, location, Flash(f"{pickup_id} is ready; the customer is told")
        )

    @post("/pickups/{pickup_id:str}/collect", status_code=303)
    async def collect(
        self, state: State, session: Session, pickup_id: IdPath, data: Form
    ) -> Redirect:
        if session is None:
            return Redirect(HOME, status_code=303)
        rt, principal = runtime(state), session.principal
        location = await _location_of(state, pickup_id, principal)
        try:
            await pickup_counter.collect(
                rt.db,
                pickup_id,
                data.get("code", ""),
                None,
                actor=principal.name,
                may_act_at=_counter_of(principal),
                code_secrets=rt.code_secrets,
            )
        except DomainError as exc:
            return await _back(state, session, location, Flash(exc.detail, error=True))
        return await _back(state, session, location, Flash(f"{pickup_id} handed over"))


def _counter_of(principal: Principal) -> pickup_counter.LocationCheck:
    return lambda location_id: principal.require("counter", location_id)


async def _location_of(state: State, pickup_id: str, principal: Principal) -> str | None:
    """The pickup's store, when this key may see it."""
    try:
        found = await pickup_counter.get_pickup(
            runtime(state).db, pickup_id, _counter_of(principal)
        )
    except DomainError:
        return None
    return found.location_id


async def _back(state: State, session: SignedIn, location: str | None, flash: Flash) -> Redirect:
    """Back to the page of ``location``, which shows ``flash`` (kept in the session,
    never in the URL: no one can make the page say something by a link)."""
    await staff_sessions.tell(runtime(state).db, session.session_id, flash)
    where = f"{HOME}?location={quote(location)}" if location else HOME
    return Redirect(where, status_code=303)
