"""The two ``@asgi`` routes (the one-SKU read, reservation creation) skip what
Litestar adds to ordinary handlers: a response header, a cookie, a request hook or a
dependency named on their controller or the app would silently not apply to them.
The app refuses to start instead, naming what and where."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Response
from litestar.datastructures import Cookie, ResponseHeader
from litestar.di import Provide
from litestar.exceptions import ImproperlyConfiguredException

from service.api.app import create_app
from service.api.asgi_routes import refuse_what_asgi_routes_skip
from service.api.availability import AvailabilityController
from service.api.reservations import ReservationController
from service.settings import load_settings


def _nothing(response: Response[Any]) -> Response[Any]:
    return response


async def _one() -> int:
    return 1


def test_the_service_as_built_starts() -> None:
    create_app(load_settings({}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("response_headers", [ResponseHeader(name="X-Store", value="1")]),
        ("response_cookies", [Cookie(key="seen", value="1")]),
        ("after_request", _nothing),
        ("dependencies", {"one": Provide(_one)}),
    ],
)
def test_a_controller_layer_an_asgi_route_would_skip_stops_the_app(name: str, value: Any) -> None:
    controller = type("Edited", (ReservationController,), {name: value})
    with pytest.raises(ImproperlyConfiguredException, match=f"create is an @asgi route: {name}"):
        refuse_what_asgi_routes_skip(Litestar([controller]))


def test_an_app_wide_response_header_stops_the_app_too() -> None:
    app = Litestar(
        [AvailabilityController], response_headers=[ResponseHeader(name="X-App", value="1")]
    )
    with pytest.raises(ImproperlyConfiguredException, match="location_availability"):
        refuse_what_asgi_routes_skip(app)


def test_what_applies_to_every_route_is_allowed() -> None:
    controller = type("Guarded", (ReservationController,), {"guards": [lambda *_: None]})
    refuse_what_asgi_routes_skip(Litestar([controller]))
