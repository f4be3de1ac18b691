"""Public routes: health, the OpenAPI document and its docs page; routes that do not exist."""

from tests.corpus.steps import Http

STEPS = [
    Http("liveness needs no key", "GET", "/health/live", key=None),
    Http("readiness needs no key", "GET", "/health/ready", key=None),
    Http("readiness with an unknown key is still public", "GET", "/health/ready", key="unknown"),
    Http("the OpenAPI document", "GET", "/schema/openapi.json", key=None),
]
