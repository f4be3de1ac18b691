"""The staff page's templates, rendered by the app's own Jinja2 engine: what customers
and stores typed is text, never markup; times are the store's wall clock; every form
that POSTs carries the session's CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import UndefinedError

from service.api.pages import template_config
from service.domain.pickups import Customer, PickupLineState, PickupState
from service.domain.staff_sessions import Flash

EVIL = '<script>alert("x")</script>'
ENGINE = template_config().engine_instance


def pickup(pickup_id: str, status: str, name: str = "Kari Nordmann") -> PickupState:
    at = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    return PickupState(
        pickup_id=pickup_id,
        location_id="ST-T",
        status=status,
        slot_start=at,
        slot_end=at.replace(minute=30),
        hold_until=at,
        customer=Customer(name=name),
        channel="web",
        external_ref=None,
        fingerprint="f",
        code_nonce="n",
        code_hash="h",
        code_secret_id=None,
        failed_attempts=0,
        locked_until=None,
        created_at=at,
        updated_at=at,
        lines=(PickupLineState("S1", 2, "ST-T", "pickup:r"),),
    )


def render(name: str, **context: Any) -> str:
    return str(ENGINE.get_template(name).render(**context))


def pickups_page(**overrides: Any) -> str:
    store = SimpleNamespace(location_id="ST-T", name="Tokyo Ginza", timezone="Asia/Tokyo")
    context: dict[str, Any] = {
        "store": store,
        "stores": [store, SimpleNamespace(location_id="ST-U", name=EVIL, timezone="UTC")],
        "day": "2026-12-04",
        "pickups": [pickup("P1", "booked", EVIL), pickup("P2", "ready")],
        "flash": Flash(EVIL, error=True),
        "csrf_token": "t0ken",
    }
    return render("staff_pickups.html", **(context | overrides))


def test_what_customers_and_stores_typed_is_escaped() -> None:
    page = pickups_page()
    assert "<script>" not in page
    assert (
        page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 3
    )  # name, store, message


def test_slots_are_shown_in_the_store_s_time_zone() -> None:
    assert "19:00&ndash;19:30" in pickups_page()  # 10:00 UTC in Tokyo


def test_every_form_that_posts_carries_the_csrf_token() -> None:
    page = pickups_page()
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    assert len(forms) == 3  # sign out, mark ready, hand over
    for form in forms:
        assert '<input type="hidden" name="csrf_token" value="t0ken">' in form


def test_the_sign_in_page_escapes_its_message() -> None:
    page = render("staff_sign_in.html", error=EVIL)
    assert "<script>" not in page
    assert 'role="alert"' in page


def test_a_name_the_template_needs_and_was_not_given_fails_loudly() -> None:
    with pytest.raises(UndefinedError):
        render("staff_pickups.html")
