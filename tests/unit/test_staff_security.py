"""The staff page's Origin check and CSRF token, and what a sign-in attempt counts
against: decided without I/O."""

from __future__ import annotations

import pytest

from service.api.staff_security import csrf_token, same_origin
from service.domain.staff_sessions import throttle_subjects

HOST = "stock.example.com"


@pytest.mark.parametrize(
    ("origin", "referer", "host"),
    [
        ("https://stock.example.com", None, HOST),
        ("http://stock.example.com", None, HOST),  # TLS ended by a proxy: scheme aside
        ("https://stock.example.com:443", None, HOST),
        ("https://STOCK.example.com", None, "stock.example.com:443"),
        ("http://127.0.0.1:8000", None, "127.0.0.1:8000"),
        (None, "https://stock.example.com/staff?location=ST-A", HOST),  # no Origin: Referer
    ],
)
def test_a_form_from_the_host_it_was_sent_to_is_from_the_page(
    origin: str | None, referer: str | None, host: str
) -> None:
    assert same_origin(origin, referer, host, None)


@pytest.mark.parametrize(
    ("origin", "referer"),
    [
        ("https://evil.example", None),
        ("https://stock.example.com.evil.example", None),
        ("https://evil.example/stock.example.com", None),
        ("https://stock.example.com:8443", None),
        ("null", "https://stock.example.com/staff"),  # Origin null is not overridden
        ("", None),
        (None, None),
        (None, "https://evil.example/staff"),
        ("stock.example.com", None),
        ("ftp://stock.example.com", None),
        ("http://[::1", None),
    ],
)
def test_any_other_form_is_not(origin: str | None, referer: str | None) -> None:
    assert not same_origin(origin, referer, HOST, None)


def test_with_a_public_origin_set_only_that_origin_counts() -> None:
    public = "https://stock.example.com"
    assert same_origin("https://stock.example.com", None, "backend:8000", public)
    assert not same_origin("http://stock.example.com", None, HOST, public)
    assert not same_origin("http://backend:8000", None, "backend:8000", public)


def test_the_csrf_token_is_the_session_s_own_and_reveals_nothing_of_it() -> None:
    one, other = "a" * 43, "b" * 43
    assert csrf_token(one) == csrf_token(one)
    assert csrf_token(one) != csrf_token(other)
    assert one not in csrf_token(one)


def test_a_sign_in_counts_against_its_address_and_the_key_it_names() -> None:
    assert throttle_subjects("192.0.2.1", "abc") == ["address:192.0.2.1", "key:abc"]
    assert throttle_subjects("192.0.2.1", None) == ["address:192.0.2.1"]
    assert throttle_subjects(None, None) == ["address:unknown"]
