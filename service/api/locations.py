"""Admin: create, update and read locations."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, put
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter

from service.api.auth import requires
from service.api.context import runtime
from service.api.examples import LOCATION, body
from service.api.openapi import problems
from service.api.params import LocationIdPath
from service.contracts.locations import Location, LocationIn, LocationList
from service.usecases import locations


class LocationController(Controller):
    path = "/v1/locations"
    tags = ["locations"]

    @put(
        "/{location_id:str}",
        status_code=200,
        opt=requires("locations.write", at_path_location=False),
        responses={
            201: ResponseSpec(Location, description="A new location: created."),
            **problems(400, 401, 403, 413, 422),
        },
    )
    async def put_location(
        self, state: State, location_id: LocationIdPath, data: Annotated[LocationIn, body(LOCATION)]
    ) -> Response[Location]:
        """Create (201) or replace (200) a warehouse or store."""
        location, created = await locations.put_location(runtime(state).db, location_id, data)
        return Response(location, status_code=201 if created else 200)

    @get("/", opt=requires("locations.read"), responses=problems(400, 401, 403))
    async def list_locations(
        self,
        state: State,
        kind: Annotated[Literal["warehouse", "store"] | None, QueryParameter()] = None,
    ) -> LocationList:
        """Every location, optionally only warehouses or stores."""
        return LocationList(await locations.list_locations(runtime(state).db, kind))

    @get(
        "/{location_id:str}",
        opt=requires("locations.read", at_path_location=False),
        responses=problems(400, 401, 403, 404),
    )
    async def get_location(self, state: State, location_id: LocationIdPath) -> Location:
        """One location."""
        return await locations.get_location(runtime(state).db, location_id)
