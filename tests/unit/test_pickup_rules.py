"""Click-and-collect rules: where a line comes from, the pickup code, wrong codes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.domain import pickups as rules
from service.domain.ledger import Balance
from service.domain.pickups import CodeSecrets, Customer, LineSource, PickupLineState, PickupState
from service.domain.reservations import Line

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
PREP = timedelta(minutes=30)
SECRET = "a-test-secret"


def line(sku: str, quantity: int) -> Line:
    return Line(sku, quantity)


def stock(*balances: Balance) -> dict[tuple[str, str], Balance]:
    return {b.key: b for b in balances}


# ------------------------------------------------------------------ sourcing


def test_a_line_the_store_has_comes_from_the_store_ready_after_the_preparation_time() -> None:
    (found,) = rules.source_lines(
        [line("S1", 2)], "ST", stock(Balance("ST", "S1", on_hand=2)), [("WH", 60)], NOW, PREP
    )
    assert found == LineSource(sku="S1", quantity=2, source_location_id="ST", ready_at=NOW + PREP)


def test_reserved_and_safety_stock_do_not_count_as_the_stores_stock() -> None:
    balances = stock(
        Balance("ST", "S1", on_hand=5, reserved=2, safety_stock=1),
        Balance("WH", "S1", on_hand=10),
    )
    (found,) = rules.source_lines([line("S1", 3)], "ST", balances, [("WH", 60)], NOW, PREP)
    assert found.source_location_id == "WH"


def test_a_line_the_store_lacks_comes_from_the_supplier_with_the_shortest_lead_time() -> None:
    balances = stock(
        Balance("ST", "S1", on_hand=1),
        Balance("WH-SLOW", "S1", on_hand=9),
        Balance("WH-FAST", "S1", on_hand=9),
    )
    suppliers = [("WH-SLOW", 600), ("WH-FAST", 120)]
    (found,) = rules.source_lines([line("S1", 2)], "ST", balances, suppliers, NOW, PREP)
    assert found.source_location_id == "WH-FAST"
    assert found.ready_at == NOW + timedelta(minutes=120) + PREP


def test_a_faster_supplier_without_enough_stock_is_passed_over() -> None:
    balances = stock(Balance("WH-SLOW", "S1", on_hand=9), Balance("WH-FAST", "S1", on_hand=1))
    suppliers = [("WH-FAST", 60), ("WH-SLOW", 600)]
    (found,) = rules.source_lines([line("S1", 2)], "ST", balances, suppliers, NOW, PREP)
    assert found.source_location_id == "WH-SLOW"
    assert found.ready_at == NOW + timedelta(minutes=600) + PREP


def test_a_line_nobody_has_has_no_source_and_no_ready_time() -> None:
    balances = stock(Balance("ST", "S1", on_hand=1), Balance("WH", "S1", on_hand=1))
    (found,) = rules.source_lines([line("S1", 2)], "ST", balances, [("WH", 60)], NOW, PREP)
    assert found.source_location_id is None
    assert found.ready_at is None


def test_the_cart_is_ready_when_its_slowest_line_is_ready() -> None:
    balances = stock(Balance("ST", "S1", on_hand=5), Balance("WH", "S2", on_hand=5))
    sources = rules.source_lines(
        [line("S1", 1), line("S2", 1)], "ST", balances, [("WH", 240)], NOW, PREP
    )
    assert [s.source_location_id for s in sources] == ["ST", "WH"]
    assert rules.cart_ready_at(sources) == NOW + timedelta(minutes=240) + PREP


def test_a_cart_with_a_line_nobody_has_is_never_ready() -> None:
    sources = rules.source_lines(
        [line("S1", 1), line("S2", 1)], "ST", stock(Balance("ST", "S1", on_hand=5)), [], NOW, PREP
    )
    assert rules.cart_ready_at(sources) is None


# ------------------------------------------------------------------ the code


def test_a_pickup_code_is_eight_characters_of_the_unambiguous_alphabet() -> None:
    codes = {rules.issue_code(SECRET, rules.new_nonce()) for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == rules.CODE_LENGTH == 8
        assert set(code) <= set(rules.CODE_ALPHABET)
    assert not set("01IOL") & set(rules.CODE_ALPHABET)


def test_the_same_nonce_and_secret_give_the_same_code_and_another_secret_another() -> None:
    nonce = rules.new_nonce()
    assert rules.issue_code(SECRET, nonce) == rules.issue_code(SECRET, nonce)
    assert rules.issue_code(SECRET, nonce) != rules.issue_code("another-secret", nonce)


def test_a_code_is_displayed_as_two_groups_of_four() -> None:
    code = rules.issue_code(SECRET, rules.new_nonce())
    shown = rules.display_code(code)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    assert shown.replace("-", "") == code


def pickup(code: str, **changes: object) -> PickupState:
    nonce = rules.new_nonce()
    state = PickupState(
        pickup_id="P1",
        location_id="ST",
        status="ready",
        slot_start=NOW,
        slot_end=NOW,
        hold_until=NOW,
        customer=Customer(name="Kari"),
        channel="webshop",
        external_ref=None,
        fingerprint="f",
        code_nonce=nonce,
        code_hash=rules.hash_code(code, nonce, SECRET),
        code_secret_id=rules.secret_id(SECRET),
        failed_attempts=0,
        locked_until=None,
        created_at=NOW,
        updated_at=NOW,
        lines=(
            PickupLineState("S1", 3, "ST", "pickup:P1"),
            PickupLineState("S2", 1, "ST", "pickup:P1"),
        ),
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def test_the_stored_hash_is_not_the_code_and_matches_the_code_typed_any_way() -> None:
    state = pickup("ABCD2345")
    assert "ABCD2345" not in state.code_hash
    for typed in ("ABCD2345", "ABCD-2345", "abcd-2345", " abcd 2345 ", "AbCd2345"):
        assert rules.code_matches(state, typed, CodeSecrets(SECRET)), typed


def test_a_different_code_does_not_match() -> None:
    state = pickup("ABCD2345")
    for typed in ("ABCD2346", "ABCD234", "ABCD23455", ""):
        assert not rules.code_matches(state, typed, CodeSecrets(SECRET)), typed


def test_the_same_code_hashes_differently_under_another_nonce() -> None:
    assert rules.hash_code("ABCD2345", "n1", SECRET) != rules.hash_code("ABCD2345", "n2", SECRET)
    assert rules.hash_code("ABCD2345", "n1", SECRET) != rules.hash_code("ABCD2345", "n1", "other")


def test_each_wrong_code_is_counted_without_locking_until_the_fifth() -> None:
    state = pickup("ABCD2345")
    for attempt in range(1, rules.MAX_FAILED_ATTEMPTS):
        state = rules.after_wrong_code(state, NOW)
        assert state.failed_attempts == attempt
        assert state.locked_until is None
        assert not rules.locked(state, NOW)


def test_the_fifth_wrong_code_in_a_row_locks_the_pickup_for_fifteen_minutes() -> None:
    state = pickup("ABCD2345", failed_attempts=4)
    locked = rules.after_wrong_code(state, NOW)
    assert rules.MAX_FAILED_ATTEMPTS == 5
    assert locked.locked_until == NOW + timedelta(minutes=15)
    assert locked.failed_attempts == 0
    assert rules.locked(locked, NOW + timedelta(minutes=14, seconds=59))
    assert not rules.locked(locked, NOW + timedelta(minutes=15))


# ------------------------------------------------------------------ collection


def test_collecting_without_lines_hands_over_everything_booked() -> None:
    assert rules.collected_quantities(pickup("ABCD2345"), None) == {"S1": 3, "S2": 1}


def test_collecting_some_lines_hands_over_those_units_and_nothing_of_the_rest() -> None:
    taken = rules.collected_quantities(pickup("ABCD2345"), [line("S1", 2)])
    assert taken == {"S1": 2, "S2": 0}


@pytest.mark.parametrize(
    ("handed_over", "field"),
    [([line("S9", 1)], "lines[0].sku"), ([line("S1", 1), line("S2", 2)], "lines[1].quantity")],
)
def test_handing_over_a_sku_or_more_units_than_booked_is_refused_naming_the_line(
    handed_over: list[Line], field: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(field)):
        rules.collected_quantities(pickup("ABCD2345"), handed_over)


def test_a_pickups_reservations_are_the_distinct_reservations_of_its_lines() -> None:
    state = pickup(
        "ABCD2345",
        lines=(
            PickupLineState("S1", 1, "ST", "pickup:P1"),
            PickupLineState("S2", 1, "WH", "pickup:P1@WH"),
            PickupLineState("S3", 1, "ST", "pickup:P1"),
        ),
    )
    assert state.reservation_ids == ["pickup:P1", "pickup:P1@WH"]
    assert rules.store_reservation_id("P1") == "pickup:P1"
    assert rules.warehouse_reservation_id("P1", "WH") == "pickup:P1@WH"
