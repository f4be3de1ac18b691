"""Click-and-collect over HTTP: the webshop books, the store staff hand over."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from service.api.auth import location_check, principal_of, requires, requires_somewhere
from service.api.context import actor_of, runtime
from service.api.examples import PICKUP, body
from service.api.openapi import problems
from service.api.params import (
    IdempotencyKey,
    IdPath,
    LocationIdPath,
    day_in_range,
    local_day,
)
from service.contracts.pickups import (
    BookPickup,
    CancelPickup,
    CollectPickup,
    Pickup,
    PickupBooking,
    PickupList,
    PickupSettings,
    PickupSlots,
    ReschedulePickup,
    StoreReturn,
)
from service.contracts.reservations import ReservationLineIn
from service.contracts.stock import MovementsPosted
from service.domain.errors import InvalidInput
from service.domain.reservations import validate_lines
from service.usecases import (
    pickup_booking,
    pickup_changes,
    pickup_counter,
    pickup_settings,
    pickup_slots,
)
from service.usecases.pickup_views import pickup_view

Req = Request[Any, Any, Any]
LineParam = Annotated[
    list[str] | None,
    QueryParameter(description="A cart line as SKU:QUANTITY; repeat for more lines.", max_items=50),
]


def parse_lines(values: list[str] | None) -> list[ReservationLineIn] | None:
    """Raises InvalidInput for a line that is not SKU:QUANTITY."""
    if not values:
        return None
    lines = []
    for index, value in enumerate(values):
        sku, _, quantity = value.rpartition(":")
        if not sku or not quantity.isdigit() or int(quantity) < 1:
            raise InvalidInput(f"{value!r} is not SKU:QUANTITY", field=f"line[{index}]")
        lines.append(ReservationLineIn(sku=sku, quantity=int(quantity)))
    validate_lines(lines, "line")
    return lines


class StorePickupController(Controller):
    """Per-store routes: slots, settings, the day's pickups, counter returns."""

    path = "/v1/locations/{location_id:str}"
    tags = ["pickups"]

    @get(
        "/pickup-slots",
        opt=requires("slots.read"),
        responses=problems(400, 401, 403, 404, 422),
    )
    async def pickup_slots(
        self,
        state: State,
        location_id: LocationIdPath,
        from_: Annotated[date | None, local_day("from", "First local day (default today)")] = None,
        to: Annotated[
            date | None, local_day("to", "Last local day (default: the booking horizon)")
        ] = None,
        line: LineParam = None,
    ) -> PickupSlots:
        """Slots with remaining capacity; with cart lines, when the cart can be ready and
        where each line comes from."""
        first, last = day_in_range(from_, "from"), day_in_range(to, "to")
        return await pickup_slots.list_slots(
            runtime(state).db, location_id, first, last, parse_lines(line)
        )

    @get("/pickup-settings", opt=requires("slots.read"), responses=problems(400, 401, 403, 404))
    async def get_settings(self, state: State, location_id: LocationIdPath) -> PickupSettings:
        """The store's slot settings and supplying warehouses."""
        return await pickup_settings.get_settings(runtime(state).db, location_id)

    @put(
        "/pickup-settings",
        opt=requires("pickups.settings"),
        responses=problems(400, 401, 403, 404, 413, 422),
    )
    async def put_settings(
        self, state: State, location_id: LocationIdPath, data: JSONBody[PickupSettings]
    ) -> PickupSettings:
        """Set slot length, capacity, preparation time, horizon, hold period, suppliers."""
        return await pickup_settings.put_settings(runtime(state).db, location_id, data)

    @get("/pickups", opt=requires("counter"), responses=problems(400, 401, 403, 404))
    async def day_list(
        self,
        state: State,
        location_id: LocationIdPath,
        status: Annotated[
            Literal["booked", "ready", "collected", "cancelled", "no_show"] | None, QueryParameter()
        ] = None,
        date_: Annotated[date | None, local_day("date", "Local day (default today)")] = None,
    ) -> PickupList:
        """The store's pick list and counter list for one day, ordered by slot."""
        day = day_in_range(date_, "date")
        found = await pickup_counter.pickups_of_day(runtime(state).db, location_id, day, status)
        return PickupList(location_id=location_id, pickups=[pickup_view(p) for p in found])

    @post(
        "/returns",
        status_code=200,
        opt=requires("counter"),
        responses=problems(400, 401, 403, 409, 413, 422),
    )
    async def store_return(
        self,
        request: Req,
        state: State,
        location_id: LocationIdPath,
        data: JSONBody[StoreReturn],
        idempotency_key: IdempotencyKey,
    ) -> MovementsPosted:
        """Goods returned at the counter: back into sellable stock, or written off when damaged."""
        rt = runtime(state)
        return await pickup_counter.record_return(
            rt.db,
            location_id,
            data,
            idempotency_key=idempotency_key,
            caller=principal_of(request).caller,
            actor=actor_of(request),
            max_batch=rt.settings.max_movements_per_batch,
        )


class PickupController(Controller):
    path = "/v1/pickups"
    tags = ["pickups"]

    @post(
        "/",
        status_code=201,
        opt=requires("pickups.book", at_path_location=False),
        responses={
            200: ResponseSpec(
                PickupBooking,
                description=(
                    "The same booking again: it exists as asked (with its code only for "
                    "the API key that booked it)."
                ),
            ),
            **problems(400, 401, 403, 409, 413, 422),
        },
    )
    async def book(
        self, request: Req, state: State, data: Annotated[BookPickup, body(PICKUP)]
    ) -> Response[PickupBooking]:
        """Reserve the cart, take a place in the slot and issue the pickup code (201; the
        same request again answers 200 with the same booking, and with the code only to the
        API key that booked it)."""
        rt = runtime(state)
        validate_lines(data.lines)
        booking, created = await pickup_booking.book_pickup(
            rt.db,
            data,
            actor=actor_of(request),
            caller=principal_of(request).caller,
            code_secrets=rt.code_secrets,
        )
        return Response(booking, status_code=201 if created else 200)

    @get(
        "/{pickup_id:str}",
        opt=requires_somewhere("pickups.read"),
        responses=problems(400, 401, 403, 404),
    )
    async def read(self, request: Req, state: State, pickup_id: IdPath) -> Pickup:
        """One pickup."""
        found = await pickup_counter.get_pickup(
            runtime(state).db, pickup_id, location_check(request, "pickups.read")
        )
        return pickup_view(found)

    @post(
        "/{pickup_id:str}/reschedule",
        status_code=200,
        opt=requires_somewhere("pickups.book"),
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def reschedule(
        self, request: Req, state: State, pickup_id: IdPath, data: JSONBody[ReschedulePickup]
    ) -> Pickup:
        """Move to another slot of the same store; the reservation stays."""
        moved = await pickup_changes.reschedule_pickup(
            runtime(state).db,
            pickup_id,
            data.slot_start,
            may_act_at=location_check(request, "pickups.book"),
        )
        return pickup_view(moved)

    @post(
        "/{pickup_id:str}/cancel",
        status_code=200,
        opt=requires_somewhere("pickups.cancel"),
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def cancel(
        self,
        request: Req,
        state: State,
        pickup_id: IdPath,
        data: JSONBody[CancelPickup | None] = None,
    ) -> Pickup:
        """Cancel before collection: the stock is released and the place freed."""
        cancelled = await pickup_changes.cancel_pickup(
            runtime(state).db,
            pickup_id,
            data.reason if data else None,
            actor=actor_of(request),
            may_act_at=location_check(request, "pickups.cancel"),
        )
        return pickup_view(cancelled)

    @post(
        "/{pickup_id:str}/ready",
        status_code=200,
        opt=requires_somewhere("counter"),
        responses=problems(400, 401, 403, 404, 409),
    )
    async def ready(self, request: Req, state: State, pickup_id: IdPath) -> Pickup:
        """Staff picked the goods (and any transfer arrived): the customer is told."""
        done = await pickup_counter.mark_ready(
            runtime(state).db,
            pickup_id,
            actor=actor_of(request),
            may_act_at=location_check(request, "counter"),
        )
        return pickup_view(done)

    @post(
        "/{pickup_id:str}/collect",
        status_code=200,
        opt=requires_somewhere("counter"),
        responses=problems(400, 401, 403, 404, 409, 413, 422, 423),
    )
    async def collect(
        self, request: Req, state: State, pickup_id: IdPath, data: JSONBody[CollectPickup]
    ) -> Pickup:
        """Hand over with the customer's code (and the lines actually taken, if fewer).
        A wrong code is 422; repeated wrong codes lock the pickup (423). A pickup that
        is not ready, or already collected, is 409 whatever the code."""
        rt = runtime(state)
        done = await pickup_counter.collect(
            rt.db,
            pickup_id,
            data.code,
            data.lines,
            actor=actor_of(request),
            may_act_at=location_check(request, "counter"),
            code_secrets=rt.code_secrets,
        )
        return pickup_view(done)
