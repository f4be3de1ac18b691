"""The staff page: today's pickups of a store, mark ready, hand over with the code.

Served by the service itself (no front-end build). The staff member signs in with
their API key; the page keeps it in an HttpOnly, SameSite=Strict session cookie
and every action goes through the same use cases and location checks as the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from service.api.auth import SESSION_COOKIE
from service.api.context import actor_of, runtime
from service.api.params import IdPath
from service.api.staff_page import login_page, pickups_page
from service.domain.access import Principal
from service.domain.errors import DomainError
from service.usecases import pickup_counter

Req = Request[Any, Any, Any]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _html(markup: str, status: int = 200) -> Response[str]:
    return Response(markup, media_type="text/html; charset=utf-8", status_code=status)


def _principal(request: Req) -> Principal | None:
    found = request.scope.get("principal")
    if isinstance(found, Principal) and (found.role == "admin" or found.role == "staff"):
        return found
    return None


def _back(location_id: str, message: str, error: bool = False) -> Redirect:
    flag = "&error=1" if error else ""
    return Redirect(
        f"/staff?location={quote(location_id)}&msg={quote(message)}{flag}", status_code=303
    )


class StaffPageController(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/")
    async def home(
        self,
        request: Req,
        state: State,
        location: Annotated[str | None, QueryParameter()] = None,
        msg: Annotated[str | None, QueryParameter()] = None,
        error: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[str]:
        principal = _principal(request)
        if principal is None:
            return _html(login_page())
        model = runtime(state).read_model
        stores = [s for s in model.locations.stores if principal.may("counter", s.location_id)]
        if not stores:
            return _html(login_page("this key may not act at any store"), 403)
        chosen = next((s for s in stores if s.location_id == location), stores[0])
        today = datetime.now(UTC).astimezone(ZoneInfo(chosen.timezone)).date()
        found = await pickup_counter.pickups_of_day(
            runtime(state).db, chosen.location_id, today, None
        )
        return _html(
            pickups_page(
                chosen.name,
                chosen.location_id,
                chosen.timezone,
                today.isoformat(),
                found,
                [(s.location_id, s.name) for s in stores],
                msg,
                bool(error),
            )
        )

    @post("/login", status_code=303)
    async def login(self, state: State, data: Form) -> Response[str] | Redirect:
        token = data.get("api_key", "").strip()
        principal = await runtime(state).keys.authenticate(token) if token else None
        if principal is None or principal.role not in ("staff", "admin"):
            return _html(login_page("that is not a staff key"), 401)
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            secure=runtime(state).settings.environment == "production",  # served behind TLS
            samesite="strict",
            path="/",
            max_age=12 * 3600,
        )
        return Redirect("/staff", status_code=303, cookies=[cookie])

    @post("/logout", status_code=303)
    async def logout(self) -> Redirect:
        return Redirect(
            "/staff",
            status_code=303,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],
        )

    @post("/pickups/{pickup_id:str}/ready", status_code=303)
    async def ready(self, request: Req, state: State, pickup_id: IdPath) -> Redirect:
        principal = _principal(request)
        if principal is None:
            return Redirect("/staff", status_code=303)
        location = await self._location_of(state, pickup_id, principal)
        try:
            await pickup_counter.mark_ready(
                runtime(state).db,
                pickup_id,
                actor=actor_of(request),
                may_act_at=lambda lid: principal.require("counter", lid),
            )
        except DomainError as exc:
            return _back(location, exc.detail, error=True)
        return _back(location, f"{pickup_id} is ready; the customer is told")

    @post("/pickups/{pickup_id:str}/collect", status_code=303)
    async def collect(self, request: Req, state: State, pickup_id: IdPath, data: Form) -> Redirect:
        principal = _principal(request)
        if principal is None:
            return Redirect("/staff", status_code=303)
        location = await self._location_of(state, pickup_id, principal)
        try:
            await pickup_counter.collect(
                runtime(state).db,
                pickup_id,
                data.get("code", ""),
                None,
                actor=actor_of(request),
                may_act_at=lambda lid: principal.require("counter", lid),
                code_secrets=runtime(state).code_secrets,
            )
        except DomainError as exc:
            return _back(location, exc.detail, error=True)
        return _back(location, f"{pickup_id} handed over")

    async def _location_of(self, state: State, pickup_id: str, principal: Principal) -> str:
        try:
            found = await pickup_counter.get_pickup(
                runtime(state).db, pickup_id, lambda lid: principal.require("counter", lid)
            )
        except DomainError:
            return ""
        return found.location_id
