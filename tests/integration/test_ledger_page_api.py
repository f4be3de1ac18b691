"""Staff and auditors page through one balance's ledger, newest first."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import Client, assert_problem, given_locations, posted, receipt, sale


async def given_movements(client: Client, n: int) -> None:
    """n receipts of 1, 2, ..., n units at ST-A, plus noise at another balance."""
    await given_locations(client, "ST-A", "ST-B")
    for i in range(1, n + 1):
        await posted(
            client, f"k{i}", receipt("ST-A", i), receipt("ST-B", 1), sale("ST-A", 1, sku="S2")
        )


async def test_the_ledger_lists_the_balances_movements_newest_first(client: Client) -> None:
    await given_movements(client, 3)
    page = (await client.get("/v1/stock/S1/locations/ST-A/movements")).json()
    assert (page["sku"], page["location_id"], page["next_cursor"]) == ("S1", "ST-A", None)
    assert [m["on_hand_delta"] for m in page["movements"]] == [3, 2, 1]
    assert {(m["sku"], m["location_id"]) for m in page["movements"]} == {("S1", "ST-A")}
    ids = [m["movement_id"] for m in page["movements"]]
    assert ids == sorted(ids, reverse=True)


async def test_following_the_cursor_returns_every_movement_exactly_once(client: Client) -> None:
    await given_movements(client, 7)
    seen: list[int] = []
    pages = 0
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/stock/S1/locations/ST-A/movements", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["movements"]) <= 2
        seen += [m["on_hand_delta"] for m in page["movements"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == [7, 6, 5, 4, 3, 2, 1]


async def test_a_page_that_ends_exactly_at_the_oldest_movement_has_no_next_cursor(
    client: Client,
) -> None:
    await given_movements(client, 4)
    first = (await client.get("/v1/stock/S1/locations/ST-A/movements?limit=2")).json()
    second = (
        await client.get(
            "/v1/stock/S1/locations/ST-A/movements",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [m["on_hand_delta"] for m in second["movements"]] == [2, 1]
    assert second["next_cursor"] is None


async def test_movements_posted_after_a_cursor_was_issued_do_not_shift_older_pages(
    client: Client,
) -> None:
    await given_movements(client, 4)
    first = (await client.get("/v1/stock/S1/locations/ST-A/movements?limit=2")).json()
    await posted(client, "late", receipt("ST-A", 99))
    second = (
        await client.get(
            "/v1/stock/S1/locations/ST-A/movements",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [m["on_hand_delta"] for m in second["movements"]] == [2, 1]


async def test_a_sku_that_never_moved_there_has_an_empty_ledger(client: Client) -> None:
    await given_locations(client, "ST-A")
    page = (await client.get("/v1/stock/NEVER-SEEN/locations/ST-A/movements")).json()
    assert (page["movements"], page["next_cursor"]) == ([], None)


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "!!!", cursor_of(b"x12"), cursor_of(b"m"), cursor_of(b"\xff\xfe")],
)
async def test_a_cursor_the_service_did_not_issue_is_refused(client: Client, cursor: str) -> None:
    await given_movements(client, 1)
    response = await client.get(f"/v1/stock/S1/locations/ST-A/movements?cursor={cursor}")
    assert_problem(response, 422, "invalid_cursor", "cursor")


async def test_a_cursor_pointing_past_the_largest_movement_id_is_refused_not_a_500(
    client: Client,
) -> None:
    await given_movements(client, 1)
    cursor = cursor_of(b"m99999999999999999999999")
    response = await client.get(f"/v1/stock/S1/locations/ST-A/movements?cursor={cursor}")
    assert_problem(response, 422, "invalid_cursor", "cursor")


async def test_the_ledger_of_an_unknown_location_is_404(client: Client) -> None:
    response = await client.get("/v1/stock/S1/locations/ST-NOWHERE/movements")
    assert_problem(response, 404, "location_not_found")


@pytest.mark.parametrize("limit", ["0", "501", "many"])
async def test_a_page_size_out_of_range_is_refused(client: Client, limit: str) -> None:
    await given_locations(client, "ST-A")
    response = await client.get(f"/v1/stock/S1/locations/ST-A/movements?limit={limit}")
    assert_problem(response, 400, "invalid_parameter", "limit")
