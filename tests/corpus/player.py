"""Plays a scene's steps against the app and the broker, and writes down for each
step what was sent and every answer (``record.py``), once the step has settled
(``settle.py``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from litestar import Litestar

from service.api.staff_security import SESSION_COOKIE, csrf_token
from service.messaging.worker import Worker
from service.runtime import Runtime
from tests.corpus import asgi
from tests.corpus.normalise import Normaliser, Window
from tests.corpus.record import Record, Writer
from tests.corpus.settle import Broker, FeedWatch
from tests.corpus.steps import (
    KEYS,
    NOTHING,
    UNKNOWN_KEY,
    Context,
    Http,
    Publish,
    Step,
    compact,
    dotted,
)

CHUNKS = 3  # a chunked body arrives in this many http.request messages


class Player:
    """Plays the steps of one scene, in order; one player per scene (the placeholders'
    numbering and the saved values start afresh)."""

    def __init__(self, app: Litestar, runtime: Runtime, feed: FeedWatch, worker: Worker) -> None:
        self.app = app
        self.broker = Broker(runtime, feed, worker)
        self.context = Context(datetime.now(UTC).date())
        self.normaliser = Normaliser(self.context.anchor)
        self.writer = Writer(self.normaliser)
        self.started = datetime.now(UTC)

    async def open(self, connection: AbstractRobustConnection) -> None:
        await self.broker.open(connection)
        self.normaliser.known = {self.broker.replies.name: "{reply-queue}"}

    async def close(self) -> None:
        await self.broker.close()

    async def play(self, step: Step) -> Record:
        if isinstance(step, Http):
            request = self._request(step)
            answer = await asgi.call(self.app, request)
            self._save(step, answer.body)
            self._save_session(step, answer)
        else:
            message, routing_key = self._message(step)
            await self.broker.publish(message, routing_key, step.copies)
        captured = await self.broker.settle()
        window = Window(self.started, datetime.now(UTC))
        if isinstance(step, Http):
            record = self.writer.http(step, request, answer, window)
        else:
            record = self.writer.publish(step, message, routing_key, window)
        for name, messages in vars(captured).items():
            if messages:
                record[name] = self.writer.messages(messages, window)
        return record

    def _request(self, step: Http) -> asgi.Request:
        headers: asgi.Headers = []
        if step.key is not None:
            token = UNKNOWN_KEY if step.key == "unknown" else KEYS[step.key].token(step.key)
            headers.append(("authorization", f"Bearer {token}"))
        body, media_type = self._body(step)
        content_type = media_type if step.content_type is None else step.content_type
        if content_type:
            headers.append(("content-type", content_type))
        if body is not None and not step.chunked:
            length = len(body) if step.length is None else step.length
            headers.append(("content-length", str(length)))
        if step.chunked:
            headers.append(("transfer-encoding", "chunked"))
        if step.session is not None:
            session_id = self.context.sessions[step.session]
            headers.append(("cookie", f"{SESSION_COOKIE}={session_id}"))
        headers += [(name, self.context.fill(value)) for name, value in step.headers]
        chunks = _pieces(body or b"", CHUNKS if step.chunked else 1)
        return asgi.Request(
            step.method, self.context.fill(step.path), headers, chunks, step.disconnect
        )

    def _body(self, step: Http) -> tuple[bytes | None, str | None]:
        if step.json is not NOTHING:
            return compact(self.context.fill_all(step.json)), "application/json"
        if step.form is not None:
            form = urlencode(self.context.fill_all(dict(step.form)))
            return form.encode(), "application/x-www-form-urlencoded"
        if step.body is not None:
            return step.body, "application/json"
        return None, None

    def _save(self, step: Http, body: bytes) -> None:
        if step.save:
            answer: Any = json.loads(body)
            for name, path in step.save.items():
                self.context.saved[name] = dotted(answer, path)

    def _save_session(self, step: Http, answer: asgi.Answer) -> None:
        """Keep the staff session the answer's cookie opens; its id and CSRF token
        are written down as {session:NAME} and {csrf:NAME}."""
        if step.save_session is None:
            return
        name = step.save_session
        cookies = [v for k, v in answer.headers if k == "set-cookie"]
        found = [
            c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith(f"{SESSION_COOKIE}=")
        ]
        assert found, f"{step.name}: no session was opened"
        self.context.sessions[name] = found[0]
        self.normaliser.name(found[0], f"{{session:{name}}}")
        self.normaliser.name(csrf_token(found[0]), f"{{csrf:{name}}}")

    def _message(self, step: Publish) -> tuple[aio_pika.Message, str]:
        fields = {} if isinstance(step.body, bytes) else self.context.fill_all(dict(step.body))
        body = step.body if isinstance(step.body, bytes) else compact(fields)
        message = aio_pika.Message(
            body,
            content_type=step.content_type,
            message_id=step.message_id or fields.get("message_id"),
            correlation_id=step.correlation_id,
            reply_to=self.broker.replies.name if step.reply else None,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        return message, step.routing_key or fields["type"]


def _pieces(body: bytes, count: int) -> list[bytes]:
    size = max(1, -(-len(body) // count))
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]
