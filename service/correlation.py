"""Correlation ids: one id names a story (an HTTP request, a consumed command, a round
of background work) in every log line and on every event and reply it causes, whether
tracing is on or off.

The rule:
- an HTTP request: its request id (the caller's ``X-Request-ID`` when sane, else one
  the edge makes), which the edge binds already (``REQUEST_ID``): nothing more per
  request on the hot read path;
- a consumed command: its AMQP ``correlation_id``, else its ``message_id`` (else, for
  a message with neither, an id made for it);
- a round of background work (a sweep, the availability announcer): an id of its own.

Events and replies written while a story is bound carry its id as their AMQP
``correlation_id`` (``storage/outbox.py``): a reply to a command that has a
correlation_id therefore carries that one, as request-reply wants. A reservation
decided in a batched flush takes the id of its own request, from the context it was
submitted in (``Pending.context``), never the flush's.
"""

from __future__ import annotations

import itertools
import secrets

from service.logging import CORRELATION_ID, REQUEST_ID

# Ids the service makes (background rounds, a message without ids): a per-process
# prefix and a counter (unique, cheap), marked so that a reader tells them from request ids.
MADE_PREFIX = f"corr-{secrets.token_hex(4)}-"
_MADE = itertools.count(1)


def current_correlation_id() -> str | None:
    """The correlation id of the story being served, if any."""
    return CORRELATION_ID.get() or REQUEST_ID.get()


def bind_message(correlation_id: str | None, message_id: str | None) -> str:
    """Bind a consumed message's correlation id (its correlation_id, else its
    message_id) in the current context (the delivery's own task); returns it."""
    chosen = correlation_id or message_id or _made()
    CORRELATION_ID.set(chosen)
    return chosen


def begin_round() -> str:
    """Bind a fresh correlation id for one round of background work (the caller's
    task is the round's loop: the next round replaces it)."""
    round_id = _made()
    CORRELATION_ID.set(round_id)
    return round_id


def _made() -> str:
    return f"{MADE_PREFIX}{next(_MADE):08x}"
