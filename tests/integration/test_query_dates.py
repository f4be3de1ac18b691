"""A calendar day in a query (issue 12, defect 9): a day outside 2000 to 2999 is a 400
naming the parameter, as every other bad query parameter is, never a 500 from date
arithmetic (``OverflowError``) or from PostgreSQL's range (asyncpg ``DataError``)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import assert_problem
from tests.pickup_helpers import given_pickup_store

Client = httpx.AsyncClient
FAR_DAYS = ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"]


@pytest.mark.parametrize("day", FAR_DAYS)
async def test_a_day_list_for_a_day_out_of_range_is_refused_naming_the_parameter(
    client: Client, day: str
) -> None:
    await given_pickup_store(client, "ST-A")
    response = await client.get("/v1/locations/ST-A/pickups", params={"date": day})
    assert_problem(response, 400, "invalid_parameter", "date")


@pytest.mark.parametrize("day", FAR_DAYS)
@pytest.mark.parametrize("name", ["from", "to"])
async def test_slots_from_or_to_a_day_out_of_range_are_refused_naming_the_parameter(
    client: Client, name: str, day: str
) -> None:
    await given_pickup_store(client, "ST-A")
    response = await client.get("/v1/locations/ST-A/pickup-slots", params={name: day})
    assert_problem(response, 400, "invalid_parameter", name)


async def test_the_first_and_the_last_day_of_the_range_are_answered(client: Client) -> None:
    await given_pickup_store(client, "ST-A")
    for day in ("2000-01-01", "2999-12-31"):
        response = await client.get("/v1/locations/ST-A/pickups", params={"date": day})
        assert response.status_code == 200, response.text
