"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware

from service.api.asgi_routes import refuse_what_asgi_routes_skip, route_asgi_path_parameters
from service.api.availability import AvailabilityController
from service.api.edge import EdgeMiddleware
from service.api.errors import EXCEPTION_HANDLERS
from service.api.health import live, ready
from service.api.locations import LocationController
from service.api.metrics import metrics
from service.api.openapi import (
    docs_assets,
    document_asgi_routes,
    document_json_only,
    openapi_config,
)
from service.api.openapi_refine import refine_document
from service.api.options import allow_every_method
from service.api.pages import static_assets, template_config
from service.api.pickups import PickupController, StorePickupController
from service.api.reservations import ReservationController
from service.api.staff import StaffPageController
from service.api.stock import StockController
from service.api.traced_requests import traced_requests
from service.runtime import Runtime
from service.settings import Settings, load_settings

Beside = Callable[[Runtime], AbstractAsyncContextManager[None]]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    *,
    beside: Beside | None = None,
) -> Litestar:
    """Build the app. With ``runtime`` given (tests), the caller owns its lifecycle;
    else the app starts its own, and runs ``beside`` it (the worker, when the serve
    process runs one: service/server.py) for as long as it serves."""
    settings = settings or (runtime.settings if runtime else load_settings())
    app = Litestar(
        route_handlers=[
            LocationController,
            StockController,
            AvailabilityController,
            ReservationController,
            StorePickupController,
            PickupController,
            StaffPageController,
            live,
            ready,
            metrics,
            docs_assets(),
            static_assets(),
        ],
        lifespan=[_lifespan(settings, runtime, beside)],
        state=State({"runtime": runtime}),
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            *traced_requests(),  # none unless tracing is on
            DefineMiddleware(EdgeMiddleware, access_log=settings.environment == "development"),
        ],
        openapi_config=openapi_config(version("inventory-service")),
        template_config=template_config(),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # logging is configured once, by service.logging
        debug=False,
    )
    refuse_what_asgi_routes_skip(app)
    route_asgi_path_parameters(app)
    allow_every_method(app)
    document_asgi_routes(app)
    document_json_only(app)
    refine_document(app)
    return app


def _lifespan(
    settings: Settings, runtime: Runtime | None, beside: Beside | None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            yield
            return
        app.state.runtime = started = await Runtime.start(settings)
        try:
            if beside is None:
                yield
            else:
                async with beside(started):
                    yield
        finally:
            await started.stop()

    return lifespan
