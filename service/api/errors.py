"""Every answer that is not a handler's own body leaves from here, as
``application/problem+json`` with a stable ``code``.

Any exception raised while serving a request, by a handler, an ASGI route or the
edge middleware, is answered by one function, ``exception_answer``: domain errors
by class, an unavailable database as 503 with Retry-After, Litestar's own client
errors (malformed JSON, failed validation, unknown route) with their status and a
code; anything else is a 500 whose body reveals nothing, logged with its traceback.
A reservation outcome that is not an exception (the engine's answer) is mapped by
kind in ``outcome_answer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Send

from service.contracts.common import Problem, ShortLine
from service.domain import errors as domain
from service.domain.access import Forbidden, Unauthorized
from service.domain.reservations import Outcome, OutcomeKind
from service.logging import get_logger
from service.observability.metrics import HTTP_UNROUTED
from service.storage.outage import DatabaseUnavailable
from service.usecases.reservation_views import reservation_view, short_lines

log = get_logger(__name__)

JSON_MEDIA_TYPE = "application/json"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (domain.PickupLocked, 423),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.InvalidInput, 422),
]
STATUS_BY_KIND = {
    OutcomeKind.CREATED: 201,
    OutcomeKind.DONE: 200,
    OutcomeKind.NOT_FOUND: 404,
    OutcomeKind.CONFLICT: 409,
    OutcomeKind.INVALID: 422,
}
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
_CHALLENGE = ("WWW-Authenticate", 'Bearer realm="inventory"')
_CONTENT_TYPES = {t: (b"content-type", t.encode()) for t in (JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)}


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete answer: what Litestar sends as a Response, or a handler answering
    at the ASGI level sends itself (the same bytes and headers either way)."""

    status: int
    body: bytes
    media_type: str = JSON_MEDIA_TYPE
    headers: tuple[tuple[str, str], ...] = ()

    def response(self) -> Response[Any]:
        return Response(
            self.body,
            status_code=self.status,
            media_type=self.media_type,
            headers=dict(self.headers) or None,
        )

    async def send(self, send: Send) -> None:
        headers = [
            _CONTENT_TYPES.get(self.media_type) or (b"content-type", self.media_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
        ]
        for name, value in self.headers:
            headers.append((name.lower().encode(), value.encode()))
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": self.status,
            "headers": headers,
        }
        await send(start)
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": self.body,
            "more_body": False,
        }
        await send(end)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    short_lines: list[ShortLine] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    body = msgspec.json.encode(
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
    return Answer(status, body, PROBLEM_MEDIA_TYPE, headers)


def error_answer(error: domain.DomainError) -> Answer:
    """The problem answer to any domain error, wherever it was raised."""
    status = next((s for cls, s in _STATUS_BY_ERROR if isinstance(error, cls)), 400)
    shortfalls = error.shortfalls if isinstance(error, domain.InsufficientStock) else ()
    return problem(
        status,
        error.code,
        error.detail,
        field=error.field,
        errors=getattr(error, "errors", None),
        short_lines=short_lines(shortfalls) or None,
        headers=(_CHALLENGE,) if status == 401 else (),
    )


def outcome_answer(outcome: Outcome) -> Answer:
    """201/200 with the reservation, or a problem with the outcome's code."""
    status = STATUS_BY_KIND[outcome.kind]
    if outcome.ok and outcome.reservation is not None:
        return Answer(status, msgspec.json.encode(reservation_view(outcome.reservation)))
    return problem(
        status,
        outcome.code,
        outcome.detail,
        field=outcome.field,
        short_lines=short_lines(outcome.shortfalls) or None,
    )


def exception_answer(exc: Exception, method: str, state: State) -> Answer:
    """The one answer to an exception raised while serving a request, wherever it was
    raised; a request refused for an unavailable database is counted in the outage."""
    match exc:
        case domain.DomainError():
            return error_answer(exc)
        case DatabaseUnavailable():
            runtime = getattr(state, "runtime", None)
            if runtime is not None:
                runtime.db.outage.refused_one()
            return unavailable_answer(exc, method)
        case ValidationException():
            return validation_answer(exc)
        case HTTPException():
            return http_error_answer(exc)
        case UnicodeDecodeError() | RecursionError():  # invalid UTF-8, absurd nesting
            return problem(
                400, "malformed_json", f"the body is not valid JSON: {type(exc).__name__}"
            )
        case _:
            return unexpected_answer(exc)


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    answer = exception_answer(exc, request.method, request.app.state)
    if request.scope.get("path_template") is None:  # refused by the router: not timed
        HTTP_UNROUTED.labels(answer.status).inc()
    return answer.response()


def validation_answer(exc: ValidationException) -> Answer:
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
            detail = f"the {missing[1]} parameter {missing[2]!r} is required"
            return problem(400, "missing_parameter", detail, field=missing[2])
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


def http_error_answer(exc: HTTPException) -> Answer:
    status = exc.status_code
    if status >= 500:
        log.error("http_server_error", status=status, detail=exc.detail)
        return _internal_error(status)
    code = _CODE_BY_STATUS.get(status, "client_error")
    detail = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        code, detail = "malformed_json", f"the body is not valid JSON: {exc.detail}"
    headers = tuple((exc.headers or {}).items())
    return problem(status, code, detail, headers=headers)


RETRY_AFTER_S = 5
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def unavailable_answer(exc: DatabaseUnavailable, method: str) -> Answer:
    """503 with Retry-After, and an honest detail: a write whose COMMIT may have
    happened has an unknown outcome, and repeating it with the same id is safe."""
    if exc.maybe_applied and method not in _READS:
        detail = (
            "the database stopped answering during the request: the outcome is unknown; "
            "retry with the same id (or Idempotency-Key)"
        )
    else:
        detail = "the database is unavailable; the request was not applied; retry later"
    retry = (("Retry-After", str(RETRY_AFTER_S)),)
    return problem(503, "database_unavailable", detail, headers=retry)


def unexpected_answer(exc: Exception) -> Answer:
    """Logs ``exc`` with its traceback; the 500 that answers it reveals nothing."""
    log.exception("unhandled_error", error=type(exc).__name__)
    return _internal_error(HTTP_500_INTERNAL_SERVER_ERROR)


def _internal_error(status: int) -> Answer:
    return problem(status, "internal_error", "the service failed; the request was not applied")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {Exception: exception_handler}
