"""The fault suite's checks (chaos/) catch what they claim to catch: each is shown a
made-up outcome with one thing wrong, and must name it. Pure functions, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos import behaviour, invariants, verdict
from chaos.broker import EVENTS_QUEUE, REPLIES_QUEUE, Delivered
from chaos.facts import Facts
from chaos.http_load import Attempt, HttpRequest
from chaos.verdict import Check, Result
from chaos.workload import Order

ORDER = Order("r-1", "ST-CHAOS-A", (("CHAOS-001", 2),))
OTHER = Order("r-2", "ST-CHAOS-A", (("CHAOS-002", 1),))


def facts(
    reservations: dict[str, tuple[str, dict[str, int]]] | None = None,
    reserved_by: dict[str, dict[str, int]] | None = None,
    decided: dict[str, int] | None = None,
) -> Facts:
    return Facts(reservations or {}, reserved_by or {}, decided or {}, 0, 0, 0)


def created(*orders: Order) -> Facts:
    return facts(
        {o.reservation_id: ("active", o.units) for o in orders},
        {o.reservation_id: o.units for o in orders},
        {o.reservation_id: 201 for o in orders},
    )


def answered(order: Order, *outcomes: str) -> HttpRequest:
    request = HttpRequest(order, [Attempt(0.0, 0.01, o, "u") for o in outcomes])
    request.final = outcomes[-1]
    return request


def event(
    rid: str, event_id: str, kind: str = "reservation.confirmed", body: bytes = b"{}"
) -> Delivered:
    return Delivered(EVENTS_QUEUE, event_id, None, kind, event_id, rid, body)


def reply(rid: str, message_id: str, event_id: str = "e-1", body: bytes = b"{}") -> Delivered:
    return Delivered(REPLIES_QUEUE, message_id, rid, "reservation.confirmed", event_id, rid, body)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_retried_request_answered_as_a_repeat_with_one_effect_holds() -> None:
    checks = by_name(
        invariants.http_exactly_once([answered(ORDER, "cut", "200")], created(ORDER), 60)
    )
    assert all(c.held for c in checks.values())


def test_a_reservation_whose_movements_were_written_twice_is_named() -> None:
    doubled = facts({"r-1": ("active", ORDER.units)}, {"r-1": {"CHAOS-001": 4}})
    check = by_name(invariants.http_exactly_once([answered(ORDER, "201")], doubled, 60))
    assert not check["http_exactly_once"].held
    assert check["http_exactly_once"].ids[0].startswith("r-1")


def test_a_refusal_that_left_a_reservation_behind_is_named() -> None:
    refused = answered(ORDER, "409:insufficient_stock")
    check = by_name(invariants.http_exactly_once([refused], created(ORDER), 60))[
        "http_exactly_once"
    ]
    assert not check.held


def test_a_request_never_answered_is_named_even_when_it_left_no_effect() -> None:
    gave_up = HttpRequest(ORDER, [Attempt(0.0, 10.0, "timeout", "u")])
    checks = by_name(invariants.http_exactly_once([gave_up], facts(), 60))
    assert checks["http_exactly_once"].held
    assert checks["http_every_request_answered"].ids == ["r-1"]


def test_a_message_never_decided_and_one_decided_twice_over_are_named() -> None:
    doubled = created(ORDER)
    doubled.reserved_by["r-1"] = {"CHAOS-001": 4}
    checks = by_name(invariants.message_exactly_once([ORDER, OTHER], doubled))
    assert checks["message_decided_once"].ids == ["r-2"]
    assert checks["message_exactly_once"].ids[0].startswith("r-1")


def test_an_event_repeated_with_its_own_ids_is_allowed_but_not_with_another_body() -> None:
    same = [event("r-1", "e-1"), event("r-1", "e-1")]
    assert invariants.event_ids(same).held
    other = [event("r-1", "e-1"), event("r-1", "e-1", body=b'{"x":1}')]
    assert not invariants.event_ids(other).held


def test_an_event_whose_message_id_is_not_its_event_id_is_named() -> None:
    wrong = Delivered(EVENTS_QUEUE, "m-9", None, "reservation.confirmed", "e-1", "r-1", b"{}")
    assert not invariants.event_ids([wrong]).held


def test_a_change_without_its_event_or_with_two_event_ids_is_named() -> None:
    checks = by_name(
        invariants.events_match_changes(
            [event("r-2", "e-2"), event("r-2", "e-3")], created(ORDER, OTHER), [], [ORDER, OTHER]
        )
    )
    assert sorted(checks["one_event_per_change"].ids) == ["r-1", "r-2 (2 event ids)"]


def test_an_event_for_a_reservation_that_does_not_exist_is_named() -> None:
    checks = by_name(invariants.events_match_changes([event("r-1", "e-1")], facts(), [], [ORDER]))
    assert checks["no_event_for_rolled_back_change"].ids == ["r-1"]


def test_a_reply_repeated_under_another_message_id_breaks_only_that_check() -> None:
    delivered = [event("r-1", "e-1"), reply("r-1", "m-1"), reply("r-1", "m-2")]
    checks = by_name(invariants.replies(delivered, [ORDER]))
    assert checks["every_message_answered"].held
    assert checks["reply_bodies_stable"].held
    assert not checks["reply_ids_stable"].held


def test_a_message_without_a_reply_and_a_reply_with_another_event_id_are_named() -> None:
    delivered = [event("r-1", "e-1"), reply("r-1", "m-1", event_id="e-7")]
    checks = by_name(invariants.replies(delivered, [ORDER, OTHER]))
    assert checks["every_message_answered"].ids == ["r-2"]
    assert not checks["reply_bodies_stable"].held


def test_after_a_graceful_stop_a_message_sent_twice_may_be_answered_twice_and_no_more() -> None:
    twice = [reply("r-1", "m-1"), reply("r-1", "m-1")]
    assert behaviour.no_duplicates(twice, {"r-1"}).held
    assert not behaviour.no_duplicates(twice, set()).held
    assert not behaviour.no_duplicates([event("r-1", "e-1"), event("r-1", "e-1")], set()).held


def test_an_outage_answered_500_or_a_503_without_retry_after_is_named() -> None:
    attempts = [
        Attempt(1.0, 0.1, "503:database_unavailable", "u", retry_after=True),
        Attempt(1.1, 0.1, "503:database_unavailable", "u", retry_after=False),
        Attempt(1.2, 0.1, "500:internal_error", "u"),
    ]
    assert behaviour.outage_answers(attempts).broken == 2


def test_an_outage_must_be_logged_once_when_it_starts_and_once_when_it_ends(
    tmp_path: Path,
) -> None:
    unavailable = '{"event": "database_unavailable", "error": "ConnectionResetError"}'
    recovered = '{"event": "database_recovered", "refused": 212, "after_s": 10.1}'
    told_once = tmp_path / "serve-1.log"
    told_once.write_text(f"starting\n{unavailable}\nnot json {{\n{recovered}\n")
    check = behaviour.outage_logged(told_once)
    assert check.held
    assert "refused=212" in check.detail

    flapping = tmp_path / "serve-2.log"
    flapping.write_text(f"{unavailable}\n{recovered}\n{unavailable}\n{recovered}\n")
    never_ended = tmp_path / "serve-3.log"
    never_ended.write_text(f"{unavailable}\n")
    assert not behaviour.outage_logged(flapping).held
    assert not behaviour.outage_logged(never_ended).held


def test_only_the_attempts_in_flight_during_a_fault_count_for_it() -> None:
    requests = [answered(ORDER, "201")]
    requests[0].attempts = [Attempt(0.0, 9.0, "201", "u"), Attempt(20.0, 0.1, "201", "u")]
    assert len(behaviour.attempts_in(requests, 5.0, 8.0)) == 1


def test_a_scenario_whose_only_broken_checks_are_known_defects_is_known_else_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(verdict.KNOWN_DEFECTS, "reply_ids_stable", (7, "a defect being fixed"))
    result = Result("s", "t", [Check.whole("reply_ids_stable", "d", held=False)])
    assert result.verdict == "KNOWN"
    result.checks.append(Check.whole("ledger_verifies", "d", held=False))
    assert result.verdict == "FAIL"
