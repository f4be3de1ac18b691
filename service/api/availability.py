"""The app and the webshop ask what is in stock, where."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.types import Scope

from service.api.auth import requires
from service.api.context import runtime
from service.api.examples import CART, body
from service.api.openapi import problems
from service.api.params import LOCATION_ID_PATTERN, SKU_PATTERN, LocationIdPath, SkuPath
from service.contracts.availability import (
    CartAvailability,
    CartQuery,
    LocationAvailability,
    NearbyAvailability,
    SkuAvailability,
)
from service.usecases import availability

_SKU = re.compile(SKU_PATTERN)
_LOCATION_ID = re.compile(LOCATION_ID_PATTERN)


def location_answer_in_memory(scope: Scope) -> bytes | None:
    """The one-SKU read's 200 body straight from memory, for the edge middleware to send
    without Litestar's handler and response machinery (the app's hottest request: this
    about doubles its rate, docs/performance.md). None when the handler must answer:
    invalid path (400), unknown location (404), SKU not cached or change feed down."""
    params = scope["path_params"]
    sku, location_id = params["sku"], params["location_id"]
    if _SKU.match(sku) is None or _LOCATION_ID.match(location_id) is None:
        return None
    found = availability.location_availability_in_memory(
        runtime(scope["app"].state).read_model, sku, location_id
    )
    return None if found is None else msgspec.json.encode(found)


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

    @get(
        "/{sku:str}/locations/{location_id:str}",
        opt={**requires("availability.read"), "answer_in_memory": location_answer_in_memory},
        responses=problems(400, 401, 403, 404),
    )
    async def location_availability(
        self, state: State, sku: SkuPath, location_id: LocationIdPath
    ) -> LocationAvailability:
        """One SKU at one location."""
        return await availability.location_availability(runtime(state).read_model, sku, location_id)

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
        responses=problems(400, 401, 403, 404, 422),
    )
    async def cart(self, state: State, data: Annotated[CartQuery, body(CART)]) -> CartAvailability:
        """A cart against named locations or a radius: per location, per line, and whether
        the whole cart can be had there."""
        return await availability.cart_availability(runtime(state).read_model, data)
