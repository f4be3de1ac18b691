"""Bodies under ``/v1`` are JSON and only JSON: ``application/json``, with or without
``charset=utf-8`` (the only charset JSON has, RFC 8259). Anything else is refused
with 415 before the route reads a byte.

Why: a plain HTML form on any web site can POST ``text/plain``, url-encoded or
multipart bodies anywhere without a CORS preflight, but never ``application/json``.
A route that took such a body as JSON could be driven from a page its caller visits.

Checked in one place, the edge middleware (``service/api/edge.py``), for every
``/v1`` request whose method may carry a body, the two ASGI routes included (they
read their bodies themselves). A GET costs one set lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

API_PREFIX = "/v1/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON = b"application/json"
_JSON_TEXT = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})


def body_refusal(method: str, path: str, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Why the body of this request is refused (the 415's detail), or None.

    A request without a body (no Content-Length but 0, no Transfer-Encoding) needs
    no Content-Type; one that names a Content-Type names exactly one, and JSON."""
    if method not in BODY_METHODS or not path.startswith(API_PREFIX):
        return None
    content_types: list[bytes] = []
    has_body = False
    for name, value in headers:
        if name == b"content-type":
            content_types.append(value)
        elif name == b"content-length":
            has_body = has_body or value.strip() not in (b"", b"0")
        elif name == b"transfer-encoding":
            has_body = True
    if not content_types:
        return "send the body as Content-Type: application/json" if has_body else None
    if len(content_types) > 1:
        return "send one Content-Type: application/json, not several"
    if is_json(content_types[0]):
        return None
    shown = content_types[0].decode("latin-1")[:100]
    return f"the body must be application/json (charset utf-8 or none), not {shown!r}"


def is_json(content_type: bytes) -> bool:
    """``application/json`` in any case, with no parameter but ``charset=utf-8``."""
    if content_type == _JSON:
        return True
    media, *parameters = content_type.decode("latin-1").split(";")
    if media.strip().lower() != _JSON_TEXT:
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if not name.strip() and not value:
            continue  # a stray ";"
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() not in _UTF8:
            return False
    return True
