"""What may differ between two runs of the same script, replaced by placeholders.

Everything else is kept byte for byte. What is replaced, and why:

- random ids (32 hex digits, as ``service.ids.new_id`` and ``uuid4().hex`` give, or
  dashed UUIDs): ``{id:N}``, numbered in order of first appearance in the scene, so
  that the same id seen twice (a stored reply sent again, an event id that is also
  the message id) still shows as the same placeholder;
- pickup codes (random per booking): ``{code:N}``, numbered the same way (typed in
  lower case or without the dash: ``{code:N lower}``, ``{code:N bare}``);
- request ids the service generates (a per-process prefix and a counter):
  ``{request-id}``; so are the correlation ids it makes for background rounds (an
  availability event's): ``{made-correlation-id}``;
- timestamps taken from the clock while the scene ran (up to the end of the step; a
  repeated request answers the first one's time): ``{now}``, or ``{now+15m}`` for
  the clock plus one of a few known durations (the default reservation TTL, the
  pickup lockout); the same in seconds since the epoch (``x-inventory-failed-at``)
  and as a time of day (``try again after {now+15m as HH:MM} UTC``);
- dates relative to the day the run started: ``{D+1}`` (a timestamp keeps its time
  of day and format: ``{D+1}T12:00:00Z``), so that the corpus does not depend on the
  day it is replayed;
- names the run chose (the reply queue): given to the normaliser as ``known``; so
  are the staff page's session ids and CSRF tokens, as the player learns them
  (``{session:NAME}``, ``{csrf:NAME}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from service.api.edge import _PREFIX as REQUEST_ID_PREFIX
from service.correlation import MADE_PREFIX

# Durations after "now" that the service computes and the script provokes.
NOW_OFFSETS = {
    "now": timedelta(0),
    "now+15m": timedelta(minutes=15),  # the default reservation TTL, the pickup lockout
    "now+1h": timedelta(hours=1),  # a TTL the script asks for
}
CLOCK_SLACK = timedelta(seconds=1)

_HEX_ID = re.compile(
    r"(?<![0-9a-f])(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})(?![0-9a-f])"
)
_CODE = re.compile(r'"pickup_code":"([^"]+)"')
_CLOCK = re.compile(r"(?<![\d:])(\d{2}:\d{2}) UTC")
_REQUEST_ID = re.compile(re.escape(REQUEST_ID_PREFIX) + r"[0-9a-f]{8}")
_MADE_ID = re.compile(re.escape(MADE_PREFIX) + r"[0-9a-f]{8}")
_TIMESTAMP = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:\d{2})?"
)
_DATE = re.compile(r"(?<![\d-])(\d{4}-\d{2}-\d{2})(?![\d])")
# Dates further from the run's day are data, not the clock, and are kept as they are.
# The script writes every date it sends relative to the run's day ({D+2}) and never
# one within this distance as a fixed date, or the corpus would change with the day.
_PLAUSIBLE_DAYS = 120


@dataclass
class Window:
    """From the start of the scene to the end of the step, by the clock: anything the
    clock gave in between is "now"."""

    start: datetime
    end: datetime

    def now_name(self, moment: datetime) -> str | None:
        for name, offset in NOW_OFFSETS.items():
            if self.start - CLOCK_SLACK <= moment - offset <= self.end + CLOCK_SLACK:
                return name
        return None

    def clock_name(self, clock: str) -> str | None:
        """The name of "now" (plus an offset) whose UTC time of day reads ``clock``."""
        for name, offset in NOW_OFFSETS.items():
            moment = (self.start - CLOCK_SLACK + offset).replace(second=0, microsecond=0)
            while moment <= self.end + CLOCK_SLACK + offset:
                if moment.strftime("%H:%M") == clock:
                    return name
                moment += timedelta(minutes=1)
        return None


@dataclass
class Normaliser:
    """Normalises the texts of one scene (one per scene: numbering starts afresh)."""

    anchor: date
    known: dict[str, str] = field(default_factory=dict)
    _numbers: dict[str, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def text(self, text: str, window: Window) -> str:
        for name, placeholder in self.known.items():
            text = text.replace(name, placeholder)
        for code in _CODE.findall(text):
            self._number(code, "code")
        for code, placeholder in self._numbers.items():
            if placeholder.startswith("{code:"):
                text = _replace_code(text, code, placeholder)
        text = _HEX_ID.sub(lambda m: self._number(m[0], "id"), text)
        text = _REQUEST_ID.sub("{request-id}", text)
        text = _MADE_ID.sub("{made-correlation-id}", text)
        text = _TIMESTAMP.sub(lambda m: self._timestamp(m, window), text)
        text = _CLOCK.sub(lambda m: self._clock(m, window), text)
        return _DATE.sub(lambda m: self._date(m[1]), text)

    def name(self, value: str, placeholder: str) -> None:
        """Write ``value`` as ``placeholder`` from now on (a value the run chose)."""
        self.known[value] = placeholder

    def epoch_seconds(self, seconds: int, window: Window) -> str | int:
        moment = datetime.fromtimestamp(seconds, UTC)
        start = window.start.replace(microsecond=0)
        return "{now}" if start - CLOCK_SLACK <= moment <= window.end + CLOCK_SLACK else seconds

    def _number(self, token: str, kind: str) -> str:
        if token not in self._numbers:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._numbers[token] = f"{{{kind}:{self._counts[kind]}}}"
        return self._numbers[token]

    def _timestamp(self, match: re.Match[str], window: Window) -> str:
        day, clock, zone = match.groups()
        try:
            moment = datetime.fromisoformat(match[0])
        except ValueError:
            return match[0]
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        now = window.now_name(moment)
        if now is not None:
            return f"{{{now}}}"
        return f"{self._date(day)}T{clock}{zone or ''}"

    def _clock(self, match: re.Match[str], window: Window) -> str:
        now = window.clock_name(match[1])
        return match[0] if now is None else f"{{{now} as HH:MM}} UTC"

    def _date(self, text: str) -> str:
        try:
            days = (date.fromisoformat(text) - self.anchor).days
        except ValueError:
            return text
        if abs(days) > _PLAUSIBLE_DAYS:
            return text
        return f"{{D{days:+d}}}"


def _replace_code(text: str, code: str, placeholder: str) -> str:
    """Replace a code as shown, typed in lower case and typed without its dash."""
    forms = {code: placeholder}
    forms[code.lower()] = placeholder[:-1] + " lower}"
    forms[code.replace("-", "")] = placeholder[:-1] + " bare}"
    for form, name in forms.items():
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", name, text)
    return text


def blank(text: str) -> str:
    """``text`` with its random parts blanked, to sort messages whose order between
    transactions is not fixed, before they are numbered."""
    return _TIMESTAMP.sub("{t}", _HEX_ID.sub("{id}", text))
