"""What a scene is made of: HTTP requests and command messages, written as data.

A step says what a client sends, never what it expects: the answer is whatever
today's code gives, recorded in ``tests/corpus/answers/``. Strings in paths, JSON
bodies and forms may hold placeholders that the player fills in when it sends:

    {D+1}          the date one day after the day the run started (UTC)
    {D+1T12:00}    12:00 UTC on that day, as an RFC 3339 timestamp
    {key:webshop}  the API key of that caller (see KEYS)
    {saved:NAME}   a value an earlier step of the scene saved (``save=``);
                   {saved:NAME|lower} in lower case, {saved:NAME|bare} without dashes
    {csrf:NAME}    the staff page's CSRF token of the session an earlier step opened
                   (``save_session=NAME``)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from service.api.staff_security import csrf_token
from service.domain.access import Role


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Any = _Nothing()  # no body at all (``json=None`` sends the JSON ``null``)


@dataclass(frozen=True)
class Key:
    role: Role
    locations: tuple[str, ...] = ()

    def token(self, name: str) -> str:
        return f"inv_corpus-{name}_not-a-secret-corpus-only"


# The callers of every scene. Their tokens are fixed, so answers never depend on them.
KEYS: dict[str, Key] = {
    "reader": Key("reader"),
    "webshop": Key("webshop"),
    "webshop-2": Key("webshop"),  # another shop, to see what one caller learns of another's
    "integration": Key("integration"),
    "staff-a": Key("staff", ("ST-A",)),
    "staff-b": Key("staff", ("ST-B",)),
    "admin": Key("admin"),
}
UNKNOWN_KEY = "inv_corpus-nobody_not-a-secret-corpus-only"  # well-formed, never created


@dataclass(frozen=True)
class Http:
    """One HTTP request. ``key`` names a caller of KEYS (``None``: no Authorization
    header; "unknown": a well-formed key that does not exist). A body is ``json``
    (sent compact), ``form`` (url-encoded) or raw ``body``; ``content_type`` defaults
    to what the body is. ``chunked`` sends the body in pieces without Content-Length;
    ``length`` declares a Content-Length other than the body's; ``disconnect`` goes
    away before the body is complete. ``save`` keeps answer fields for later steps:
    {"code": "pickup_code"} (dotted paths into the JSON answer). ``exact``: the answer
    holds nothing that changes between runs (the OpenAPI document, whose examples hold
    fixed dates) and is kept without normalising. ``session`` sends the staff page's
    session cookie of the session an earlier step kept with ``save_session``, which
    keeps the session the answer's Set-Cookie opens."""

    name: str
    method: str
    path: str
    key: str | None = "admin"
    json: Any = NOTHING
    form: Mapping[str, str] | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False
    length: int | None = None
    disconnect: bool = False
    save: Mapping[str, str] = field(default_factory=dict)
    exact: bool = False
    session: str | None = None
    save_session: str | None = None


@dataclass(frozen=True)
class Publish:
    """Command messages on ``inventory.commands``. ``body`` is a dict (sent as compact
    JSON) or raw bytes; ``routing_key`` and ``message_id`` default to the body's
    ``type`` and ``message_id``. ``reply`` sets reply_to to the scene's reply queue.
    ``copies`` publishes the same message that many times back to back (a duplicate
    arriving while the first is in flight)."""

    name: str
    body: Mapping[str, Any] | bytes
    routing_key: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    reply: bool = True
    copies: int = 1
    content_type: str = "application/json"


Step = Http | Publish

_PLACEHOLDER = re.compile(
    r"\{(?:D([+-]\d+)(?:T(\d\d:\d\d))?|key:([\w-]+)|saved:([\w.-]+)(?:\|(lower|bare))?"
    r"|csrf:([\w-]+))\}"
)


@dataclass
class Context:
    """What placeholders are filled with during one scene."""

    anchor: date
    saved: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # name -> staff session id

    def fill(self, text: str) -> str:
        return _PLACEHOLDER.sub(self._value, text)

    def fill_all(self, value: Any) -> Any:
        """``value`` with every string in it filled (dict keys included)."""
        if isinstance(value, str):
            return self.fill(value)
        if isinstance(value, list):
            return [self.fill_all(v) for v in value]
        if isinstance(value, dict):
            return {self.fill(k): self.fill_all(v) for k, v in value.items()}
        return value

    def _value(self, match: re.Match[str]) -> str:
        days, clock, key, saved, form, csrf = match.groups()
        if csrf is not None:
            return csrf_token(self.sessions[csrf])
        if key is not None:
            return KEYS[key].token(key)
        if saved is not None:
            value = str(self.saved[saved])
            return value.lower() if form == "lower" else value.replace("-", "") if form else value
        day = self.anchor + timedelta(days=int(days))
        if clock is None:
            return day.isoformat()
        moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=UTC)
        return moment.isoformat().replace("+00:00", "Z")


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dotted(answer: Any, path: str) -> Any:
    for part in path.split("."):
        answer = answer[int(part)] if isinstance(answer, list) else answer[part]
    return answer
