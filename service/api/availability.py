"""The app and the webshop ask what is in stock, where."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter

from service.api.auth import requires
from service.api.context import runtime
from service.api.examples import CART, body
from service.api.openapi import problems
from service.api.params import LocationIdPath, SkuPath
from service.contracts.availability import (
    CartAvailability,
    CartQuery,
    LocationAvailability,
    NearbyAvailability,
    SkuAvailability,
)
from service.usecases import availability


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
        opt=requires("availability.read"),
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
