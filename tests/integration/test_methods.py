"""Methods a route does not take (issue 12, found by schemathesis): refused with 405
and ``Allow``, whatever the method is called; OPTIONS lists every method of a path."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import assert_problem

Client = httpx.AsyncClient


@pytest.mark.parametrize("method", ["QUERY", "PROPFIND", "DELETE"])
async def test_a_method_the_one_sku_read_does_not_take_is_refused_with_405(
    client: Client, method: str
) -> None:
    response = await client.request(method, "/v1/availability/S1/locations/ST-A")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, OPTIONS"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/locations/ST-A", "GET, OPTIONS, PUT"),
        ("/v1/locations/ST-A/pickup-settings", "GET, OPTIONS, PUT"),
        ("/v1/locations", "GET, OPTIONS"),
        ("/v1/stock/S1/locations/ST-A/safety-stock", "OPTIONS, PUT"),
    ],
)
async def test_options_lists_every_method_of_the_path(
    client: Client, path: str, allow: str
) -> None:
    response = await client.options(path, headers={"Authorization": ""})
    assert response.status_code == 204
    assert response.headers["allow"] == allow
