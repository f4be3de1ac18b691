"""OpenAPI: the published contract, with the docs page served from local assets.

Litestar documents its HTTP route handlers from their signatures; a route answered
at the ASGI level (``service/api/asgi_routes.py``) declares its operation in its
options instead (``AsgiOperation``), and ``document_asgi_routes`` adds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import ASGIRoute
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path

from service.api.errors import JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE
from service.api.json_only import API_PREFIX
from service.api.params import PathText
from service.contracts.common import Problem

OPENAPI = "openapi"  # the route option that holds an ASGI route's AsgiOperation
_COMPONENTS = "#/components/schemas/{name}"

_DESCRIPTIONS = {
    400: "Malformed request: bad JSON or a bad query or path parameter.",
    401: "Missing or unknown API key.",
    403: "The API key's role or locations do not allow this.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "Well-formed, but a value is invalid.",
    423: "Locked: too many wrong codes; the pickup refuses codes for a while.",
    503: "Not ready, or the database does not answer: retry after Retry-After seconds.",
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


@dataclass(frozen=True, slots=True)
class AsgiOperation:
    """The documented operation of a route answered at the ASGI level."""

    method: str
    operation_id: str
    summary: str
    tags: tuple[str, ...]
    answers: Mapping[int, tuple[str, type]]  # status -> (description, body type)
    problems: tuple[int, ...]
    path_parameters: Mapping[str, PathText] = field(default_factory=dict)
    body: type | None = None
    body_example: Example | None = None


def document_asgi_routes(app: Litestar) -> None:
    """Add the operations of the app's ASGI routes to its OpenAPI document (built
    now, and kept by Litestar: call once every route is registered)."""
    document = app.openapi_schema
    assert document.components is not None
    schemas = document.components.schemas
    paths = document.paths if document.paths is not None else {}
    for route in app.routes:
        operation = route.route_handler.opt.get(OPENAPI) if isinstance(route, ASGIRoute) else None
        if isinstance(operation, AsgiOperation):
            item = PathItem()
            setattr(item, operation.method.lower(), _operation(operation, schemas))
            paths[route.path_format] = item
    document.paths = dict(sorted(paths.items(), key=lambda p: _order(app, p[0])))


def _order(app: Litestar, path: str) -> int:
    return next((i for i, r in enumerate(app.routes) if r.path_format == path), len(app.routes))


def _operation(doc: AsgiOperation, schemas: dict[str, Any]) -> Operation:
    responses: dict[str, OpenAPIResponse | Reference] = {
        str(status): OpenAPIResponse(
            description=text,
            headers={},
            content={JSON_MEDIA_TYPE: OpenAPIMediaType(schema=_component(kind, schemas))},
        )
        for status, (text, kind) in doc.answers.items()
    }
    for status in doc.problems:
        responses[str(status)] = _problem_response(status, schemas)
    return Operation(
        tags=list(doc.tags),
        summary=doc.summary,
        operation_id=doc.operation_id,
        parameters=[_path_parameter(name, text) for name, text in doc.path_parameters.items()]
        or None,
        request_body=_request_body(doc, schemas),
        responses=responses,
        deprecated=False,
    )


def _problem_response(status: int, schemas: dict[str, Any]) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_DESCRIPTIONS[status],
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=_component(Problem, schemas))},
    )


def document_json_only(app: Litestar) -> None:
    """Add the 415 to every /v1 operation that takes a body: the edge refuses a body
    that is not application/json on every such route (``json_only.py``), so the
    document says it in one place too. Call after ``document_asgi_routes``."""
    document = app.openapi_schema
    assert document.components is not None
    for path, item in (document.paths or {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method in ("post", "put", "patch", "delete"):
            operation: Operation | None = getattr(item, method)
            if operation is not None and operation.request_body is not None:
                responses = operation.responses if operation.responses is not None else {}
                responses["415"] = _problem_response(415, document.components.schemas)
                operation.responses = dict(sorted(responses.items()))


def _path_parameter(name: str, text: PathText) -> Parameter:
    return Parameter(
        name=name,
        param_in="path",
        schema=Schema(type=OpenAPIType.STRING, pattern=text.pattern, description=text.description),
        description=text.description,
        required=True,
    )


def _request_body(doc: AsgiOperation, schemas: dict[str, Any]) -> RequestBody | None:
    if doc.body is None:
        return None
    examples = [doc.body_example.value] if doc.body_example is not None else None
    schema = Schema(all_of=[_component(doc.body, schemas)], examples=examples)
    return RequestBody(content={JSON_MEDIA_TYPE: OpenAPIMediaType(schema=schema)}, required=True)


def _component(kind: type, schemas: dict[str, Any]) -> Reference:
    """A reference to ``kind``'s schema, adding it (and the types it names) when no
    HTTP route has made Litestar add it already."""
    if kind.__name__ in schemas:
        return Reference(ref=_COMPONENTS.format(name=kind.__name__))
    (ref,), found = msgspec.json.schema_components([kind], ref_template=_COMPONENTS)
    for name, schema in found.items():
        schemas.setdefault(name, schema)
    return Reference(ref=ref["$ref"])
