"""OpenAPI: the published contract, with the docs page served from local assets."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path

from service.api.errors import PROBLEM_MEDIA_TYPE
from service.contracts.common import Problem

_DESCRIPTIONS = {
    400: "Malformed request: bad JSON or a bad query or path parameter.",
    401: "Missing or unknown API key.",
    403: "The API key's role or locations do not allow this.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "The body is too large.",
    422: "Well-formed, but a value is invalid.",
    503: "Not ready.",
}
ASSETS_PATH = "/schema/assets"


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Response specs for the error statuses a route can answer with."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Inventory and click-and-collect",
        version=version,
        description=(
            "One exact stock ledger for warehouses and stores: availability for the app, "
            "reservations and click-and-collect for the webshop, the collection flow for "
            "store staff. Errors are application/problem+json with a stable `code`."
        ),
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="An API key")
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            )
        ],
        path="/schema",
        security=[{"apiKey": []}],
    )


def docs_assets() -> ControllerRouterHandler:
    return create_static_files_router(
        path=ASSETS_PATH, directories=[swagger_ui_path], include_in_schema=False
    )
