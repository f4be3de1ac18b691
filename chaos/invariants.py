"""The invariants every scenario must keep, whatever its fault, checked after it settled:

- every distinct request has exactly one effect (HTTP: the answer matches the rows;
  messages: one decision per message id, and its effect);
- replies and events may repeat only with the same ids;
- one event per change, and no event for a change that was rolled back;
- the outbox drains, no command is left or dead-lettered;
- ``reserved`` equals the units of active reservation lines, nothing is oversold;
- ``inventory verify-ledger`` passes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from chaos.broker import EVENTS_QUEUE, REPLIES_QUEUE, Delivered
from chaos.facts import Facts
from chaos.http_load import HttpRequest
from chaos.verdict import Check
from chaos.workload import Order

CONFIRMED, REJECTED = "reservation.confirmed", "reservation.rejected"


def http_exactly_once(requests: list[HttpRequest], facts: Facts, give_up_s: float) -> list[Check]:
    wrong_effect, retried_refused, unanswered = [], [], []
    for request in requests:
        rid, final = request.order.reservation_id, request.final
        effect = _effect(request.order, facts)
        if final in ("201", "200"):
            ok = effect == "once"
        elif final == "409:insufficient_stock":
            ok = effect == "none"
        else:  # gave up, or a refusal a retry should never get: at most one effect
            ok = effect in ("none", "once")
            (unanswered if final is None else retried_refused).append(rid)
        if not ok:
            wrong_effect.append(f"{rid} ({final or 'no answer'}: {effect})")
    attempts = sum(len(r.attempts) for r in requests)
    return [
        Check.of(
            "http_exactly_once",
            f"{len(requests)} requests in {attempts} attempts: each answer matches the rows "
            "(201/200: one reservation and one reserve movement per line; 409: none)",
            wrong_effect,
            "with another effect",
        ),
        Check.of(
            "http_every_request_answered",
            f"every request answered before its client gave up ({give_up_s:.0f}s of retries)",
            unanswered,
            "never answered",
        ),
        Check.of(
            "http_retry_answered_as_repeat",
            "a retry with the same id and body is answered 201/200/409 insufficient_stock",
            [
                f"{r.order.reservation_id} ({r.final})"
                for r in requests
                if r.final is not None and r.order.reservation_id in retried_refused
            ],
        ),
    ]


def message_exactly_once(orders: list[Order], facts: Facts) -> list[Check]:
    undecided, wrong_effect = [], []
    for order in orders:
        mid = order.reservation_id
        status = facts.decided.get(mid)
        if status is None:
            undecided.append(mid)
            continue
        expected = "once" if status == 201 else "none"
        if _effect(order, facts) != expected:
            wrong_effect.append(f"{mid} (stored {status}: {_effect(order, facts)})")
    return [
        Check.of(
            "message_decided_once",
            f"{len(orders)} messages: each message id decided (one idempotency record)",
            undecided,
            "never decided",
        ),
        Check.of(
            "message_exactly_once",
            "each decision's effect: created = one reservation with one reserve movement "
            "per line; refused = nothing",
            wrong_effect,
            "with another effect",
        ),
    ]


def _effect(order: Order, facts: Facts) -> str:
    """'none', 'once', or what else the rows show for one order."""
    rid = order.reservation_id
    row, taken = facts.reservations.get(rid), facts.reserved_by.get(rid, {})
    if row is None and not taken:
        return "none"
    if row is None:
        return f"movements without a reservation {taken}"
    status, lines = row
    if lines != order.units:
        return f"lines {lines} for {order.units}"
    if taken != order.units:
        return f"reserve movements {taken} for {order.units}"
    return "once" if status == "active" else f"status {status}"


def ledger(facts: Facts, verified: bool, verify_line: str) -> list[Check]:
    return [
        Check.whole(
            "reserved_equals_active_lines",
            f"{facts.mismatched} balances whose reserved differs from the units of their "
            "active reservation lines",
            held=facts.mismatched == 0,
        ),
        Check.whole(
            "nothing_oversold",
            f"{facts.oversold} balances with on_hand - reserved - safety_stock < 0",
            held=facts.oversold == 0,
        ),
        Check.whole("ledger_verifies", f"inventory verify-ledger: {verify_line}", held=verified),
        Check.whole("outbox_drained", f"{facts.outbox} outbox rows left", held=facts.outbox == 0),
    ]


def queues(depths: dict[str, int]) -> Check:
    detail = ", ".join(f"{name}: {n} waiting" for name, n in depths.items())
    return Check.whole("commands_consumed", detail, held=not any(depths.values()))


def event_ids(delivered: list[Delivered]) -> Check:
    """An event carries its event_id as AMQP message_id; a repeat is the same message."""
    events = [d for d in delivered if d.queue == EVENTS_QUEUE]
    first: dict[str, bytes] = {}
    broken = []
    for d in events:
        if d.event_id is None or d.message_id != d.event_id:
            broken.append(f"{d.type} message_id {d.message_id} event_id {d.event_id}")
        elif first.setdefault(d.event_id, d.body) != d.body:
            broken.append(f"{d.event_id} repeated with another body")
    repeats = len(events) - len(first)
    detail = f"{len(events)} events delivered, {repeats} of them repeats (same event_id)"
    return Check.of("event_ids_stable", detail, broken)


def events_match_changes(
    delivered: list[Delivered], facts: Facts, http: list[HttpRequest], orders: list[Order]
) -> list[Check]:
    confirmed: dict[str, set[str]] = defaultdict(set)
    rejected: dict[str, set[str]] = defaultdict(set)
    for d in delivered:
        if d.queue == EVENTS_QUEUE and d.reservation_id and d.event_id:
            target = confirmed if d.type == CONFIRMED else rejected if d.type == REJECTED else None
            if target is not None:
                target[d.reservation_id].add(d.event_id)
    mine = {r.order.reservation_id for r in http} | {o.reservation_id for o in orders}
    created = {rid for rid in facts.reservations if rid in mine}
    lost = sorted(rid for rid in created if not confirmed.get(rid))
    twice = sorted(
        f"{rid} ({len(ids)} event ids)" for rid, ids in confirmed.items() if len(ids) > 1
    )
    ghosts = sorted(rid for rid in confirmed if rid not in facts.reservations)
    ghosts += sorted(f"{rid} (rejected, but created)" for rid in _wrongly_rejected(rejected, facts))
    return [
        Check.of(
            "one_event_per_change",
            f"{len(created)} reservations created: each announced by one "
            "reservation.confirmed event_id",
            lost + twice,
            "without exactly one event",
        ),
        Check.of(
            "no_event_for_rolled_back_change",
            "every reservation.confirmed names a reservation that exists; no rejection "
            "for one that was created",
            ghosts,
        ),
    ]


def _wrongly_rejected(rejected: dict[str, set[str]], facts: Facts) -> Iterable[str]:
    """Rejected, yet created: a message's refusal is stored, and stock only runs out
    during a workload (nothing is released), so a refused order is never created later."""
    return (rid for rid in rejected if rid in facts.reservations)


def replies(delivered: list[Delivered], orders: list[Order]) -> list[Check]:
    by_message: dict[str, list[Delivered]] = defaultdict(list)
    for d in delivered:
        if d.queue == REPLIES_QUEUE and d.correlation_id:
            by_message[d.correlation_id].append(d)
    event_of = {
        (d.reservation_id, d.type): d.event_id for d in delivered if d.queue == EVENTS_QUEUE
    }
    missing, bodies, ids = [], [], []
    for order in orders:
        got = by_message.get(order.reservation_id, [])
        if not got:
            missing.append(order.reservation_id)
            continue
        if len({d.body for d in got}) > 1:
            bodies.append(f"{order.reservation_id} ({len(got)} replies, different bodies)")
        elif event_of.get((got[0].reservation_id, got[0].type), got[0].event_id) != got[0].event_id:
            bodies.append(f"{order.reservation_id} (reply event_id is not the event's)")
        if len({d.message_id for d in got}) > 1:
            ids.append(f"{order.reservation_id} ({len({d.message_id for d in got})} message ids)")
    total = sum(len(v) for v in by_message.values())
    repeated = sum(1 for v in by_message.values() if len(v) > 1)
    return [
        Check.of(
            "every_message_answered",
            f"{total} replies to {len(orders)} messages",
            missing,
            "without a reply",
        ),
        Check.of(
            "reply_bodies_stable",
            f"{repeated} messages answered more than once: every reply of a message "
            "carries the same body and the event_id of its event",
            bodies,
        ),
        Check.of(
            "reply_ids_stable",
            "every reply to one message carries the same AMQP message_id",
            ids,
            "answered under several message ids",
        ),
    ]
