"""The app and the webshop ask what is in stock, where."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.handlers import asgi
from litestar.params import QueryParameter
from litestar.types import HTTPScope, Receive, Send

from service.api.asgi_routes import other_method, path_parameters
from service.api.auth import requires
from service.api.context import runtime
from service.api.errors import Answer
from service.api.examples import CART, body
from service.api.openapi import OPENAPI, AsgiOperation, problems
from service.api.params import LOCATION_ID, SKU, SkuPath
from service.contracts.availability import (
    CartAvailability,
    CartQuery,
    LocationAvailability,
    NearbyAvailability,
    SkuAvailability,
)
from service.usecases import availability

_PATH = {"sku": SKU.regex, "location_id": LOCATION_ID.regex}
LOCATION_AVAILABILITY = AsgiOperation(
    method="GET",
    operation_id="V1AvailabilitySkuLocationsLocationIdLocationAvailability",
    summary="LocationAvailability",
    tags=("availability",),
    path_parameters={"sku": SKU, "location_id": LOCATION_ID},
    answers={200: ("Request fulfilled, document follows", LocationAvailability)},
    problems=(400, 401, 403, 404),
)


class AvailabilityController(Controller):
    path = "/v1/availability"
    tags = ["availability"]

    @get("/{sku:str}", opt=requires("availability.read"), responses=problems(400, 401, 403))
    async def sku_availability(
        self,
        state: State,
        sku: SkuPath,
        kind: Annotated[Literal["warehouse", "store"] | None, QueryParameter()] = None,
    ) -> SkuAvailability:
        """Every active location's on_hand, reserved and available for one SKU."""
        return await availability.sku_availability(runtime(state).read_model, sku, kind)

    @asgi(
        "/{sku:str}/locations/{location_id:str}",
        opt={**requires("availability.read"), OPENAPI: LOCATION_AVAILABILITY},
        copy_scope=False,
    )
    async def location_availability(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        """One SKU at one location: the app's hottest request, answered at the ASGI level
        (service/api/asgi_routes.py) from the in-process read model."""
        if scope["method"] != "GET":
            await other_method(scope, send, "GET")
            return
        path = path_parameters(scope, _PATH)
        sku, location_id = path["sku"], path["location_id"]
        model = runtime(scope["app"].state).read_model
        found = availability.location_availability_in_memory(
            model, sku, location_id
        ) or await availability.location_availability(model, sku, location_id)
        await Answer(200, msgspec.json.encode(found)).send(send)

    @get(
        "/{sku:str}/nearby",
        opt=requires("availability.read"),
        responses=problems(400, 401, 403),
    )
    async def nearby(
        self,
        state: State,
        sku: SkuPath,
        lat: Annotated[float, QueryParameter(ge=-90, le=90, description="Latitude, degrees")],
        lon: Annotated[float, QueryParameter(ge=-180, le=180, description="Longitude, degrees")],
        radius_km: Annotated[float, QueryParameter(gt=0, le=500)] = 25.0,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        quantity: Annotated[int, QueryParameter(ge=1, le=1_000_000)] = 1,
    ) -> NearbyAvailability:
        """Stores within ``radius_km`` that have at least ``quantity`` available, nearest first."""
        return await availability.nearby(
            runtime(state).read_model,
            sku,
            lat=lat,
            lon=lon,
            radius_km=radius_km,
            limit=limit,
            min_quantity=quantity,
        )

    @post(
        "/query",
        status_code=200,
        opt=requires("availability.read"),
        responses=problems(400, 401, 403, 404, 413, 422),
    )
    async def cart(self, state: State, data: Annotated[CartQuery, body(CART)]) -> CartAvailability:
        """A cart against named locations or a radius: per location, per line, and whether
        the whole cart can be had there."""
        return await availability.cart_availability(runtime(state).read_model, data)
