"""Rotating the pickup-code secret: a code verifies, and is given again, only through
the secret that made it, for as long as that secret is configured."""

from __future__ import annotations

from dataclasses import replace

from service.domain import pickups as rules
from service.domain.pickups import CodeSecrets, PickupState
from tests.unit.test_pickup_rules import pickup

OLD = "the-secret-before-the-rotation"
NEW = "the-secret-after-the-rotation"
OTHER = "a-secret-nobody-configured"


def booked_with(secret: str, *, recorded: bool = True) -> tuple[PickupState, str]:
    """A pickup whose code ``secret`` made, as booking makes it; ``recorded=False``: as
    booked before migration 0008 recorded the secret's id. Returns it and its code."""
    nonce = rules.new_nonce()
    code = rules.issue_code(secret, nonce)
    state = replace(
        pickup(code),
        code_nonce=nonce,
        code_hash=rules.hash_code(code, nonce, secret),
        code_secret_id=rules.secret_id(secret) if recorded else None,
    )
    return state, code


def test_a_secret_id_is_stable_differs_per_secret_and_does_not_show_the_secret() -> None:
    assert rules.secret_id(OLD) == rules.secret_id(OLD)
    assert rules.secret_id(OLD) != rules.secret_id(NEW)
    assert OLD not in rules.secret_id(OLD)
    assert len(rules.secret_id(OLD)) == 16


def test_a_code_made_before_the_rotation_still_verifies_and_is_given_again() -> None:
    for recorded in (True, False):
        state, code = booked_with(OLD, recorded=recorded)
        rotated = CodeSecrets(NEW, previous=OLD)
        assert rotated.made(state) == OLD
        assert rules.code_matches(state, code, rotated)
        assert rules.code_of(state, rotated) == code
        assert not rules.code_matches(state, rules.issue_code(NEW, state.code_nonce), rotated)


def test_a_code_made_after_the_rotation_verifies_through_the_new_secret_only() -> None:
    for recorded in (True, False):
        state, code = booked_with(NEW, recorded=recorded)
        rotated = CodeSecrets(NEW, previous=OLD)
        assert rotated.made(state) == NEW
        assert rules.code_matches(state, code, rotated)
        assert not rules.code_matches(state, rules.issue_code(OLD, state.code_nonce), rotated)


def test_a_code_whose_secret_is_no_longer_configured_verifies_nowhere() -> None:
    for recorded in (True, False):
        state, code = booked_with(OLD, recorded=recorded)
        for secrets in (CodeSecrets(NEW), CodeSecrets(NEW, previous=OTHER)):
            assert secrets.made(state) is None
            assert not rules.code_matches(state, code, secrets)
            assert rules.code_of(state, secrets) is None


def test_new_codes_come_from_the_current_secret() -> None:
    assert CodeSecrets(NEW, previous=OLD).current_id == rules.secret_id(NEW)
