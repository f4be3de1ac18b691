"""Which /v1 bodies the edge lets through: JSON only, decided from the headers."""

from __future__ import annotations

import pytest

from service.api.json_only import body_refusal, is_json


@pytest.mark.parametrize(
    "content_type",
    [
        b"application/json",
        b"Application/JSON",
        b"application/json; charset=utf-8",
        b"application/json;charset=UTF-8",
        b'application/json ; charset="utf-8"',
        b"application/json;",
    ],
)
def test_application_json_with_or_without_a_utf8_charset_is_json(content_type: bytes) -> None:
    assert is_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        b"text/plain",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"application/jsonx",
        b"application/problem+json",
        b"application/json; charset=latin-1",
        b"application/json; version=2",
        b"",
    ],
)
def test_anything_else_is_not(content_type: bytes) -> None:
    assert not is_json(content_type)


def test_only_v1_requests_whose_method_carries_a_body_are_checked() -> None:
    plain = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    assert body_refusal("GET", "/v1/locations", plain) is None
    assert body_refusal("POST", "/staff/login", plain) is None
    assert body_refusal("POST", "/v1/reservations", plain) is not None


def test_a_request_without_a_body_needs_no_content_type() -> None:
    assert body_refusal("POST", "/v1/reservations/R/cancel", []) is None
    assert body_refusal("POST", "/v1/reservations/R/cancel", [(b"content-length", b"0")]) is None
    assert body_refusal("POST", "/v1/x", [(b"content-length", b"2")]) is not None
    assert body_refusal("POST", "/v1/x", [(b"transfer-encoding", b"chunked")]) is not None


def test_two_content_types_are_refused_even_when_both_are_json() -> None:
    twice = [(b"content-type", b"application/json")] * 2
    assert body_refusal("POST", "/v1/reservations", twice) is not None
