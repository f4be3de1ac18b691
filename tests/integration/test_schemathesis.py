"""Hostile HTTP input from our own OpenAPI document (issue 12): schemathesis generates
requests to every documented operation, valid and invalid (its examples, coverage and
fuzzing phases), sends each with the key of one role, and runs all its default checks
on every answer: no server error, every status, content type, header and body as the
document says, invalid input refused, valid input accepted, OPTIONS and undeclared
methods answered as HTTP says, a missing key refused.

Two narrowings, stated here and nowhere else, each exact:

- ``positive_data_acceptance``: a schema-valid request refused with 422 and a
  *business* problem code (a slot in the past, a SKU twice in one cart, a store named
  as a supplying warehouse, a cursor this service never issued, ...) counts as
  accepted: the document lists those 422s and no JSON Schema can say them. A 422
  whose code is ``invalid_body`` (the decoder refused what the document allows) still
  fails the check, as does every other status it lists as a refusal.
- ``negative_data_rejection``: a JSON body accepted only because the decoder converts
  scalars laxly (an epoch number for a timestamp, 0 for false) is a known gap, pinned
  by two strict xfail tests in test_hostile_input.py, and not counted again here; any
  other schema-violating input accepted fails the check.

The app is served in process through schemathesis's ASGI transport, on a runtime of
its own that the app's lifespan starts in schemathesis's event loop thread, over this
run's database loaded with the demo data, so that the document's examples (Oslo Karl
Johan, SKU-JACKET-1000) name real records and reach the code behind the refusals.
The operations are listed when the tests are collected, from the document of an app
built without a database (the same document: checked).

CI: ``FUZZ_EXAMPLES`` (default 5) generated cases per operation and role beside the
explicit ones, the same every run (a new finding should not stop an unrelated merge).
``make fuzz``: 200, drawn anew each run (FUZZ_RANDOM=1).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python.asgi import ASGIClient, get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from service.api.app import create_app
from service.contracts import availability, locations, pickups, reservations, stock
from service.demo import ensure_demo_keys, seed_demo
from service.runtime import Runtime
from service.settings import Settings, load_settings
from service.storage.database import Database
from service.storage.pool import Pool
from tests.conftest import truncate_all
from tests.reservation_helpers import eventually

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"  # CI: the same cases every run
# 422 codes that say the body or a parameter does not fit the document's schema.
SCHEMA_REFUSALS = {"invalid_body", "invalid_parameter", "malformed_json", "bad_request"}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(load_settings({})).openapi_schema.to_schema()
    return document


class ServedLater:
    """The ASGI app schemathesis sends to, known when the tests are collected, though
    the real one needs this run's database. Checks that send probes of their own
    (``ignored_auth``) reach it through this too.

    schemathesis's pytest plugin ends an app's lifespan after every test; this app's
    runtime (pool, read model, reservation engine) is started once, in schemathesis's
    event loop thread where every request runs, and lives until ``closing``."""

    settings: Settings | None = None
    runtime: Runtime | None = None
    app: Litestar | None = None
    closing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.app is not None, "the served fixture starts the app"
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.runtime is None:
                    assert self.settings is not None
                    self.runtime = await Runtime.start(self.settings)
                    self.app = create_app(runtime=self.runtime)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.closing and self.runtime is not None:
                    await self.runtime.stop()
                    self.runtime = self.app = None
                await send({"type": "lifespan.shutdown.complete"})
                return


SERVED = ServedLater()
DOCUMENT = _document()
STRUCTS = {
    value.__name__: value
    for module in (availability, locations, pickups, reservations, stock)
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, msgspec.Struct)
}
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = SERVED
# The key of each role is sent by the test itself (below), so schemathesis draws no
# Authorization header of its own: were it to draw none (a negative case) while the
# test sends one, it would count the key the server saw as missing. Whether the key is
# enforced is still checked, by ``ignored_auth`` (it sends each case again without it).
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture(scope="module")
async def demo_tokens(pool: Pool, db: Database) -> dict[str, str]:
    """The demo data, and one demo key per role (the staff key acts at Oslo Karl Johan)."""
    await truncate_all(pool)
    await seed_demo(db)
    return {role: token for _name, role, token in await ensure_demo_keys(db)}


@pytest.fixture(scope="module")
async def served(settings: Settings, demo_tokens: dict[str, str]) -> AsyncIterator[ASGIClient]:
    """The app, started and ready, as schemathesis's ASGI client."""
    SERVED.settings = settings
    with get_client(SERVED) as client:
        published = client.get("/schema/openapi.json").json()
        assert published == DOCUMENT, "the collected operations are not the served ones"

        async def ready() -> bool | None:
            return client.get("/health/ready").status_code == 200 or None

        await eventually(ready, "the served app to be ready")
        yield client
    SERVED.closing = True
    with get_client(SERVED):
        pass
    shutdown_lifespans()


def positive_data_acceptance_beside_business_refusals(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """``positive_data_acceptance``, with a documented business 422 counted as an answer
    (see the module's docstring)."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422 and _problem_code(response) not in SCHEMA_REFUSALS:
            return None
        raise


def negative_data_rejection_beside_lax_scalars(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """``negative_data_rejection``, except for a JSON body that the service's decoder
    takes only because it converts scalars laxly, as Litestar converts every body
    (``msgspec.convert(strict=False)``): an epoch number for a timestamp, 0 or 1 for a
    boolean, a number in a string. A known gap, pinned by two strict xfail tests in
    test_hostile_input.py;
    the check stays whole for everything else."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if _taken_only_laxly(case):
            return None
        raise


def _taken_only_laxly(case: schemathesis.Case) -> bool:
    struct = _body_struct(case)
    if struct is None or not isinstance(case.body, dict | list):
        return False
    try:
        msgspec.convert(case.body, struct, strict=True)
    except msgspec.ValidationError:
        try:
            msgspec.convert(case.body, struct, strict=False)
        except msgspec.ValidationError:
            return False
        return True
    return False


def _body_struct(case: schemathesis.Case) -> type[msgspec.Struct] | None:
    operation = DOCUMENT["paths"][case.operation.path][case.method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    refs = [schema, *schema.get("allOf", []), *schema.get("oneOf", [])]
    names = [r["$ref"].rsplit("/", 1)[1] for r in refs if "$ref" in r]
    return STRUCTS.get(names[0]) if names else None


def _problem_code(response: schemathesis.Response) -> str | None:
    try:
        code = msgspec.json.decode(response.content).get("code")
    except (msgspec.DecodeError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def _as(role: str) -> Callable[..., None]:
    """The test of every operation with the key of ``role``."""

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case: schemathesis.Case, served: ASGIClient, demo_tokens: dict[str, str]) -> None:
        case.call_and_validate(
            session=served,
            headers={"Authorization": f"Bearer {demo_tokens[role]}"},
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
            additional_checks=[
                positive_data_acceptance_beside_business_refusals,
                negative_data_rejection_beside_lax_scalars,
            ],
        )

    test.__doc__ = f"Every operation, with a {role} key, answers as the document says."
    return test


test_a_reader_gets_documented_answers = _as("reader")
test_a_webshop_gets_documented_answers = _as("webshop")
test_an_integration_gets_documented_answers = _as("integration")
test_the_staff_of_one_store_get_documented_answers = _as("staff")
test_an_admin_gets_documented_answers = _as("admin")
