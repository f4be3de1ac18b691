"""Every error leaves as ``application/problem+json`` with a stable ``code``.

Domain errors map by class; Litestar's own client errors (malformed JSON,
failed validation, unknown route) keep their status and get a code too.
Anything else is a 500 whose body reveals nothing, logged with its traceback.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service.contracts.common import Problem, ShortLine
from service.domain import errors as domain
from service.domain.access import Forbidden, Unauthorized
from service.logging import get_logger

log = get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (domain.PickupLocked, 423),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.InvalidInput, 422),
]
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "unavailable",
}


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    short_lines: list[ShortLine] | None = None,
) -> bytes:
    return msgspec.json.encode(
        Problem(
            type=f"https://inventory.example/problems/{code}",
            title=code.replace("_", " ").capitalize(),
            status=status,
            code=code,
            detail=detail,
            field=field,
            errors=errors,
            short_lines=short_lines,
        )
    )


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    short_lines: list[ShortLine] | None = None,
) -> Response[bytes]:
    body = problem_body(status, code, detail, field=field, errors=errors, short_lines=short_lines)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def status_of(exc: domain.DomainError) -> int:
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def domain_error_handler(
    _request: Request[Any, Any, Any], exc: domain.DomainError
) -> Response[bytes]:
    errors = getattr(exc, "errors", None)
    short_lines = getattr(exc, "short_lines", None)
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="inventory"'} if status == 401 else None
    return problem(
        status, exc.code, exc.detail, field=exc.field, errors=errors, headers=headers,
        short_lines=short_lines,
    )  # fmt: skip


def validation_error_handler(
    _request: Request[Any, Any, Any], exc: ValidationException
) -> Response[bytes]:
    items = [i for i in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(i, dict)]
    if any(i.get("key") == "data" and i.get("message") == "'data'" for i in items):
        return problem(400, "malformed_json", "the request needs a JSON body")
    errors = [
        {
            "field": _field(item),
            "message": str(item.get("message", "invalid value")),
            "source": _source(item.get("source", "body")),
        }
        for item in items
    ]
    if not errors:
        missing = _MISSING.match(exc.detail)
        if missing:
            return problem(
                400,
                "missing_parameter",
                f"the {missing[1]} parameter {missing[2]!r} is required",
                field=missing[2],
            )
        return problem(400, "bad_request", exc.detail)
    first = errors[0]
    in_body = first["source"] == "body"
    return problem(
        422 if in_body else 400,
        "invalid_body" if in_body else "invalid_parameter",
        f"{first['field'] or 'body'}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _field(item: dict[str, Any]) -> str | None:
    """The client's name for the offending field (never the handler's ``data``)."""
    key = str(item.get("key", ""))
    parent = "" if key in ("", "data") else key
    named = _NAMED_FIELD.search(str(item.get("message", "")))
    if named:
        return f"{parent}.{named[1]}" if parent else named[1]
    return parent or None


def _source(value: object) -> str:
    """'body', 'query', 'path' or 'header' (Litestar gives an enum for parameters)."""
    return str(getattr(value, "value", value))


_MISSING = re.compile(r"^Missing required (\w+) parameter '([^']+)'")


def http_error_handler(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:
        log.error("http_server_error", status=status, detail=exc.detail)
        return problem(status, "internal_error", "the service failed; the request was not applied")
    code = _CODE_BY_STATUS.get(status, "client_error")
    detail = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        code, detail = "malformed_json", f"the body is not valid JSON: {exc.detail}"
    return problem(status, code, detail, headers=exc.headers)


def internal_error_handler(_request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return Response(
        internal_error_body(exc),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def internal_error_body(exc: Exception) -> bytes:
    """Logs ``exc`` with its traceback; the body of the 500 that answers it."""
    log.exception("unhandled_error", error=type(exc).__name__)
    return problem_body(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "the service failed; the request was not applied",
    )


def undecodable_body_handler(_request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Invalid UTF-8 or absurdly deep nesting in a JSON body."""
    return problem(400, "malformed_json", f"the body is not valid JSON: {type(exc).__name__}")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    UnicodeDecodeError: undecodable_body_handler,
    RecursionError: undecodable_body_handler,
    domain.DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
