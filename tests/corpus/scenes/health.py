"""Public routes: health, the OpenAPI document and its docs page; paths and methods
that no route answers."""

from tests.corpus.steps import Http

STEPS = [
    Http("liveness needs no key", "GET", "/health/live", key=None),
    Http("readiness needs no key", "GET", "/health/ready", key=None),
    Http("readiness with an unknown key is still public", "GET", "/health/ready", key="unknown"),
    Http("readiness with a request id", "GET", "/health/ready", headers=(("x-request-id", "r-1"),)),
    Http("a POST to liveness", "POST", "/health/live", key=None, json={}),
    Http("the OpenAPI document", "GET", "/schema/openapi.json", key=None, exact=True),
    Http("the OpenAPI document as YAML", "GET", "/schema/openapi.yaml", key=None, exact=True),
    Http("the docs page", "GET", "/schema", key=None),
    Http("the docs page with a slash", "GET", "/schema/", key=None),
    Http("the docs page's script", "GET", "/schema/assets/swagger-ui-bundle.js", key=None),
    Http("the docs page's style", "GET", "/schema/assets/swagger-ui.css", key=None),
    Http("an asset that does not exist", "GET", "/schema/assets/nothing.js", key=None),
    Http(
        "an asset outside the assets directory",
        "GET",
        "/schema/assets/..%2F..%2Fsetup.py",
        key=None,
    ),
    Http("a path no route answers, without a key", "GET", "/nothing", key=None),
    Http("a path no route answers, with a key", "GET", "/v1/nothing"),
    Http("/v1 itself", "GET", "/v1", key="reader"),
    Http("a PATCH of a location", "PATCH", "/v1/locations/ST-A", json={}),
    Http("a DELETE of a reservation", "DELETE", "/v1/reservations/r-1", key="webshop"),
]
