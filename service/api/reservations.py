"""The webshop reserves, cancels and fulfils stock over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.types import Scope

from service.api.auth import requires
from service.api.context import actor_of, runtime
from service.api.errors import PROBLEM_MEDIA_TYPE, problem_body
from service.api.examples import RESERVATION, body
from service.api.middleware import JSON_MEDIA_TYPE, Answer
from service.api.openapi import problems
from service.api.params import IdPath
from service.contracts.reservations import (
    CancelReservation,
    CreateReservation,
    FulfilReservation,
    Reservation,
)
from service.domain.reservations import Outcome
from service.usecases import reservations

_encode = msgspec.json.encode


def answer_of(outcome: Outcome) -> Answer:
    """201/200 with the reservation, or a problem with the outcome's code: the bytes
    both the handlers and the edge middleware send."""
    if outcome.ok and outcome.reservation is not None:
        return outcome.status, _encode(outcome.reservation.view()), JSON_MEDIA_TYPE
    body = problem_body(
        outcome.status, outcome.code, outcome.detail, field=outcome.field,
        short_lines=list(outcome.short_lines) or None,
    )  # fmt: skip
    return outcome.status, body, PROBLEM_MEDIA_TYPE


def answer(outcome: Outcome) -> Response[Any]:
    status, body, media_type = answer_of(outcome)
    return Response(body, status_code=status, media_type=media_type)


async def create_from_body(scope: Scope, body: bytes) -> Answer | None:
    """``create`` below, for the edge middleware: the flash sale's request, without
    Litestar's request and response machinery (docs/performance.md). None when the
    body does not decode as it is: the handler then answers, with Litestar's error.
    Raises what ``create_reservation`` raises (the middleware answers DomainErrors)."""
    try:
        # Decoded whole, then converted, as Litestar does: a typed decode would skip the
        # ignored fields of a line unchecked (invalid UTF-8, numbers out of range).
        command = msgspec.convert(msgspec.json.decode(body), CreateReservation)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # ValidationError too
        return None
    rt = runtime(scope["app"].state)
    actor = str(scope.get("actor", "api"))
    return answer_of(await reservations.create_reservation(rt.engine, rt.settings, command, actor))


class ReservationController(Controller):
    path = "/v1/reservations"
    tags = ["reservations"]

    @post(
        "/",
        status_code=201,
        opt={**requires("reservations.write"), "answer_from_body": create_from_body},
        responses=problems(400, 401, 403, 409, 422),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: Annotated[CreateReservation, body(RESERVATION)],
    ) -> Response[Reservation]:
        """Reserve every line at one location, or none: 201 created, 200 the same request
        again, 409 ``insufficient_stock`` (with ``short_lines``) or ``reservation_conflict``."""
        rt = runtime(state)
        outcome = await reservations.create_reservation(
            rt.engine, rt.settings, data, actor_of(request)
        )
        return answer(outcome)

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
        responses=problems(400, 401, 403, 404, 409),
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
        return answer(outcome)

    @post(
        "/{reservation_id:str}/fulfil",
        status_code=200,
        opt=requires("reservations.write"),
        responses=problems(400, 401, 403, 404, 409, 422),
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
        return answer(outcome)
