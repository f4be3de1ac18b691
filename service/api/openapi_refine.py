"""What the OpenAPI document must say that Litestar does not derive by itself, so that
the document promises exactly what the service does (schemathesis holds it to that:
tests/integration/test_schemathesis.py).

- **Request bodies as the decoder reads them.** Each body is a msgspec Struct; its
  schema in the document is msgspec's own (the decoder's), not Litestar's rendering of
  it, which leaves out ``additionalProperties: false`` of a Struct that forbids
  unknown fields and, on a nullable bounded field, drops a bound of 0 and moves the
  others beside the ``oneOf`` (``safety_stock: -1`` was documented as valid, and
  refused with 422).
- **Rules between fields** that no type states: a cart names either locations or a
  radius, exactly one of them.
- **Public routes** (health) declare no security requirement, overriding the
  document's global API key (Litestar renders an empty ``security`` as none at all).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPI, Operation, PathItem, Reference, RequestBody, Schema
from litestar.routes import HTTPRoute

from service.api.auth import ACCESS
from service.api.errors import JSON_MEDIA_TYPE
from service.contracts import availability, locations, pickups, reservations, stock

_COMPONENTS = "#/components/schemas/{name}"
_BODY_MODULES = (availability, locations, pickups, reservations, stock)
# A cart names its candidate locations one way, never both, never neither
# (usecases/availability.py: cart_availability).
_EXACTLY_ONE_OF = {"CartQuery": ("location_ids", "near")}
_METHODS = ("get", "put", "post", "delete", "patch")


def refine_document(app: Litestar) -> None:
    """Call once every route is registered and documented (after document_asgi_routes)."""
    document = app.openapi_schema
    assert document.components is not None
    assert document.components.schemas is not None
    schemas: dict[str, Any] = document.components.schemas
    for name in sorted(_body_components(document)):
        _as_decoded(name, schemas)
    for name, fields in _EXACTLY_ONE_OF.items():
        schemas[name]["oneOf"] = [_present(field) for field in fields]
    for operation in _public_operations(app, document):
        operation.security = []


def _body_components(document: OpenAPI) -> set[str]:
    """The component names of every JSON request body."""
    found: set[str] = set()
    for item in (document.paths or {}).values():
        for operation in _operations(item):
            body = operation.request_body
            media = body.content.get(JSON_MEDIA_TYPE) if isinstance(body, RequestBody) else None
            schema = media.schema if media is not None else None
            refs = _alternatives(schema) if isinstance(schema, Schema) else [schema]
            found.update(ref.ref.rsplit("/", 1)[1] for ref in refs if isinstance(ref, Reference))
    return found


def _alternatives(schema: Schema) -> list[Any]:
    """``allOf`` (a body with an example) or ``oneOf`` (an optional body: T or null)."""
    return [*(schema.all_of or []), *(schema.one_of or [])]


def _as_decoded(name: str, schemas: dict[str, Any]) -> None:
    """Replace component ``name`` (and those it names) with msgspec's schema of its
    Struct, keeping the examples Litestar put there."""
    struct = _structs()[name]
    _refs, found = msgspec.json.schema_components([struct], ref_template=_COMPONENTS)
    for component, schema in found.items():
        examples = getattr(schemas.get(component), "examples", None)
        schemas[component] = schema | ({"examples": examples} if examples else {})


def _structs() -> dict[str, type[msgspec.Struct]]:
    return {
        value.__name__: value
        for module in _BODY_MODULES
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, msgspec.Struct)
    }


def _present(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def _public_operations(app: Litestar, document: OpenAPI) -> list[Operation]:
    """The documented operations of routes that declare no access (no API key)."""
    public = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = (document.paths or {}).get(route.path_format)
        for handler in route.route_handlers:
            if item is None or ACCESS in handler.opt or not handler.include_in_schema:
                continue
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    public.append(operation)
    return public


def _operations(item: PathItem) -> list[Operation]:
    return [op for op in (getattr(item, m) for m in _METHODS) if isinstance(op, Operation)]
