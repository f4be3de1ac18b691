"""The webshop reserves, cancels and fulfils stock over HTTP."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.handlers import asgi
from litestar.params import JSONBody
from litestar.types import HTTPScope, Receive, Send

from service.api.asgi_routes import json_body, other_method
from service.api.auth import requires
from service.api.context import actor_of, runtime
from service.api.errors import outcome_answer
from service.api.examples import RESERVATION
from service.api.openapi import OPENAPI, AsgiOperation, problems
from service.api.params import IdPath
from service.contracts.reservations import (
    CancelReservation,
    CreateReservation,
    FulfilReservation,
    Reservation,
)
from service.usecases import reservations

CREATE = AsgiOperation(
    method="POST",
    operation_id="V1ReservationsCreate",
    summary="Create",
    tags=("reservations",),
    body=CreateReservation,
    body_example=RESERVATION,
    answers={
        201: ("Document created, URL follows", Reservation),
        200: ("The same reservation again: it exists as asked, nothing changed", Reservation),
    },
    problems=(400, 401, 403, 409, 413, 422),
)


class ReservationController(Controller):
    path = "/v1/reservations"
    tags = ["reservations"]

    @asgi("/", opt={**requires("reservations.write"), OPENAPI: CREATE}, copy_scope=False)
    async def create(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        """Reserve every line at one location, or none: the flash sale's request, answered
        at the ASGI level (service/api/asgi_routes.py)."""
        if scope["method"] != "POST":
            await other_method(scope, send, "POST")
            return
        rt = runtime(scope["app"].state)
        command = await json_body(scope, receive, CreateReservation, rt.settings.max_body_bytes)
        actor = str(scope.get("actor", "api"))
        outcome = await reservations.create_reservation(rt.engine, rt.settings, command, actor)
        await outcome_answer(outcome).send(send)

    @get(
        "/{reservation_id:str}",
        opt=requires("reservations.read"),
        responses=problems(400, 401, 403, 404),
    )
    async def read(self, state: State, reservation_id: IdPath) -> Reservation:
        """One reservation with its lines."""
        return await reservations.get_reservation(runtime(state).db, reservation_id)

    @post(
        "/{reservation_id:str}/cancel",
        status_code=200,
        opt=requires("reservations.write"),
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        state: State,
        reservation_id: IdPath,
        data: JSONBody[CancelReservation | None] = None,
    ) -> Response[Reservation]:
        """Release the stock; cancelling a cancelled reservation answers the same."""
        reason = data.reason if data else None
        outcome = await reservations.cancel_reservation(
            runtime(state).engine, reservation_id, reason, actor_of(request)
        )
        return outcome_answer(outcome).response()

    @post(
        "/{reservation_id:str}/fulfil",
        status_code=200,
        opt=requires("reservations.write"),
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def fulfil(
        self,
        request: Request[Any, Any, Any],
        state: State,
        reservation_id: IdPath,
        data: JSONBody[FulfilReservation | None] = None,
    ) -> Response[Reservation]:
        """The goods left: on_hand and reserved drop (lines handed over; the rest is released)."""
        lines = data.lines if data else None
        outcome = await reservations.fulfil_reservation(
            runtime(state).engine, reservation_id, lines, actor_of(request)
        )
        return outcome_answer(outcome).response()
