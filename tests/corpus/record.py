"""How a step is written down: what was sent and every answer, normalised
(``normalise.py``), as JSON that is easy to read and to diff.

A body is kept as parsed JSON only when encoding it again (compact, as the service
does) gives exactly the bytes received, so the corpus holds every byte and its field
order; otherwise as text, or base64 when it is not UTF-8. Sent bodies larger than
64 KiB (made to be large) and answers of that size that are not JSON are kept by
length and SHA-256.

Headers: an answer's headers are sorted by name (their order carries no meaning in
HTTP, and one handler in place of the middleware and Litestar may well emit them in
another order; today both give content-type, content-length, x-request-id); names
and values are kept. Content-Length stays as sent when the body is kept byte for byte;
when normalising changed the body, it is first checked against the body received
and then written as ``{length of the body}``. The methods in ``Allow`` are sorted:
Litestar lists them from a set, so their order changes with the process's hash seed.
``ETag`` and ``Last-Modified`` of a static file come from its time on disk (when the
virtualenv was installed): ``{file time}``.

Replies, events and dead letters of one step come from separate transactions (the
reply, the change's events, the availability events coalesced after it), so their
order is not fixed: they are sorted by routing key and by their body with ids and
times blanked.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from tests.corpus import asgi
from tests.corpus.normalise import Normaliser, Window, blank
from tests.corpus.steps import Http, Publish, compact

Record = dict[str, Any]
Text = Callable[[str], str]
LARGE_BODY = 64 * 1024
PROPERTIES = (
    "content_type", "content_encoding", "delivery_mode", "priority", "correlation_id",
    "reply_to", "expiration", "message_id", "type", "user_id", "app_id",
)  # fmt: skip
LENGTH = "{length of the body}"
FILE_TIME = "{file time}"


class Writer:
    def __init__(self, normaliser: Normaliser) -> None:
        self.normaliser = normaliser

    def http(
        self, step: Http, request: asgi.Request, answer: asgi.Answer, window: Window
    ) -> Record:
        text = self._text(window)
        return {
            "step": step.name,
            "sent": _sent_http(step, request, text),
            "answer": _answer(answer, text, _as_is if step.exact else text),
        }

    def publish(
        self, step: Publish, message: aio_pika.Message, routing_key: str, window: Window
    ) -> Record:
        text = self._text(window)
        sent: Record = {"routing_key": routing_key}
        if step.copies > 1:
            sent["copies"] = step.copies
        sent["properties"] = _properties(message, text)
        sent["body"] = body_of(message.body, text, json_only=False)
        return {"step": step.name, "sent": sent}

    def messages(self, messages: list[AbstractIncomingMessage], window: Window) -> list[Record]:
        text = self._text(window)
        ordered = sorted(messages, key=lambda m: (m.routing_key or "", blank(_decoded(m.body))))
        return [self._message(m, text, window) for m in ordered]

    def _text(self, window: Window) -> Text:
        return lambda value: self.normaliser.text(value, window)

    def _message(self, message: AbstractIncomingMessage, text: Text, window: Window) -> Record:
        record: Record = {"routing_key": text(message.routing_key or "")}
        record["properties"] = _properties(message, text)
        if message.headers:
            record["headers"] = {
                name: self._header(name, value, text, window)
                for name, value in sorted(message.headers.items())
            }
        record["body"] = body_of(message.body, text)
        return record

    def _header(self, name: str, value: Any, text: Text, window: Window) -> Any:
        if isinstance(value, bytes):
            value = _decoded(value)
        if isinstance(value, str):
            return text(value)
        if isinstance(value, int) and name.endswith("-at"):
            return self.normaliser.epoch_seconds(value, window)
        return value


def _sent_http(step: Http, request: asgi.Request, text: Text) -> Record:
    sent: Record = {"request": text(f"{request.method} {request.path}")}
    if step.key is not None:
        sent["caller"] = step.key
    headers = [[n, text(v)] for n, v in request.headers if not (n == "authorization" and step.key)]
    if headers:
        sent["headers"] = headers
    body = b"".join(request.chunks)
    if body:
        sent["body"] = body_of(body, text, json_only=False)
    if request.disconnect:
        sent["then"] = "the client goes away before the end of the body"
    return sent


def _answer(answer: asgi.Answer, text: Text, body_text: Text) -> Record:
    body = body_of(answer.body, body_text)
    kept = _as_bytes(body) in (answer.body, None)
    headers = []
    for name, value in sorted(answer.headers, key=lambda h: h[0]):
        if name == "content-length" and not kept:
            assert value == str(len(answer.body)), (
                f"Content-Length {value} of {len(answer.body)} bytes"
            )
            value = LENGTH
        if name == "allow":
            value = ", ".join(sorted(value.split(", ")))
        elif name in ("etag", "last-modified"):
            value = FILE_TIME
        headers.append([name, text(value)])
    record: Record = {"status": answer.status, "headers": headers}
    if answer.body:
        record["body"] = body
    return record


def _properties(message: aio_pika.Message | AbstractIncomingMessage, text: Text) -> Record:
    found: Record = {}
    for name in PROPERTIES:
        value = getattr(message, name, None)
        if value is not None:
            found[name] = text(value) if isinstance(value, str) else int(value)
    return found


def body_of(raw: bytes, text: Text, json_only: bool = True) -> Record:
    """``json_only``: a large body is kept whole when it is JSON."""
    digest = {"length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    large = len(raw) > LARGE_BODY
    if large and not json_only:
        return digest
    try:
        normalised = text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return digest if large else {"base64": base64.b64encode(raw).decode()}
    try:
        parsed = json.loads(normalised)
    except (ValueError, RecursionError):
        parsed = None
    else:
        if compact(parsed).decode() == normalised:
            return {"json": parsed}
    return digest if large else {"text": normalised}


def _as_bytes(body: Record) -> bytes | None:
    """The bytes a recorded body stands for (None: kept by digest, so unchanged)."""
    if "json" in body:
        return compact(body["json"])
    if "text" in body:
        return str(body["text"]).encode()
    if "base64" in body:
        return base64.b64decode(body["base64"])
    return None


def _as_is(text: str) -> str:
    return text


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")
