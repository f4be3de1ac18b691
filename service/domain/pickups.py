"""Click-and-collect rules: sourcing, the pickup lifecycle, the pickup code.

    booked --ready--> ready --collect--> collected
    booked|ready --cancel--> cancelled
    booked|ready --(hold period over)--> no_show

A pickup holds stock through reservations (one at the store, one per supplying
warehouse) that expire when the hold period ends. The pickup code is 8
characters from an alphabet without look-alikes (about 40 bits), shown once,
stored as a salted hash; five wrong tries lock the pickup for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from service.domain.errors import PickupCodeUnavailable
from service.domain.ledger import Balance
from service.domain.reservations import Line, SkuQuantity

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class LineSource:
    """Where a cart line would come from, and when it could be ready at the store; both
    None when no source has the whole line."""

    sku: str
    quantity: int
    source_location_id: str | None
    ready_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewPickup:
    """What a booking asks for; ``fingerprint`` tells a repeat from a different request."""

    pickup_id: str
    location_id: str
    slot_start: datetime
    lines: tuple[Line, ...]
    customer: Customer
    channel: str
    external_ref: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class PickupLineState:
    sku: str
    quantity: int
    source_location_id: str
    reservation_id: str
    collected: int = 0


@dataclass(frozen=True, slots=True)
class PickupState:
    pickup_id: str
    location_id: str
    status: str
    slot_start: datetime
    slot_end: datetime
    hold_until: datetime
    customer: Customer
    channel: str
    external_ref: str | None
    fingerprint: str
    code_nonce: str
    code_hash: str
    code_secret_id: str | None  # which secret made the code (None: booked before 0008)
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    lines: tuple[PickupLineState, ...]
    # The caller that booked it (key:<key_id>, message:<message_id>), the only one shown
    # the code again (None: booked before migration 0009).
    created_by: str | None = None

    @property
    def reservation_ids(self) -> list[str]:
        return sorted({x.reservation_id for x in self.lines})

    def moved(self, status: str, now: datetime, **changes: object) -> PickupState:
        return replace(self, status=status, updated_at=now, **changes)  # type: ignore[arg-type]


def store_reservation_id(pickup_id: str) -> str:
    return f"pickup:{pickup_id}"


def warehouse_reservation_id(pickup_id: str, warehouse_id: str) -> str:
    return f"pickup:{pickup_id}@{warehouse_id}"


def transfer_id_for(pickup_id: str, warehouse_id: str) -> str:
    """The transfer that brings a pickup's lines from a warehouse to the store."""
    return f"pickup:{pickup_id}:{warehouse_id}"


def pending_transfers(state: PickupState) -> dict[str, list[PickupLineState]]:
    """transfer id -> lines still on their way (warehouse lines of a pickup not yet ready)."""
    found: dict[str, list[PickupLineState]] = {}
    if state.status != "booked":
        return found
    for line in state.lines:
        if line.source_location_id != state.location_id:
            found.setdefault(transfer_id_for(state.pickup_id, line.source_location_id), []).append(
                line
            )
    return found


# ------------------------------------------------------------------ sourcing


def source_lines(
    lines: Sequence[SkuQuantity],
    store_id: str,
    balances: dict[tuple[str, str], Balance],
    suppliers: list[tuple[str, int]],
    now: datetime,
    prep: timedelta,
) -> list[LineSource]:
    """Where each line comes from: the store when it has the whole line, else the
    supplier with the shortest lead time that has it; None when nobody has it.
    ``suppliers`` are (warehouse_id, lead_time_minutes)."""
    answers = []
    for line in lines:
        store = balances.get((store_id, line.sku))
        if store is not None and store.available >= line.quantity:
            answers.append(LineSource(line.sku, line.quantity, store_id, now + prep))
            continue
        for warehouse_id, lead in sorted(suppliers, key=lambda s: (s[1], s[0])):
            stock = balances.get((warehouse_id, line.sku))
            if stock is not None and stock.available >= line.quantity:
                ready = now + timedelta(minutes=lead) + prep
                answers.append(LineSource(line.sku, line.quantity, warehouse_id, ready))
                break
        else:
            answers.append(LineSource(line.sku, line.quantity, None, None))
    return answers


def cart_ready_at(sources: Sequence[LineSource]) -> datetime | None:
    """When the whole cart can be ready, or None when a line cannot be had."""
    if any(s.ready_at is None for s in sources):
        return None
    return max(s.ready_at for s in sources if s.ready_at is not None)


# ------------------------------------------------------------------ the code


def issue_code(secret: str, nonce: str) -> str:
    """The pickup code of a booking: derived from the service's secret and the
    booking's random nonce, so a repeated booking request gets the same code,
    while the database alone (nonce and hash) does not reveal it."""
    digest = hmac.new(secret.encode(), f"pickup-code:{nonce}".encode(), hashlib.sha256).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:CODE_LENGTH])


def new_nonce() -> str:
    return secrets.token_hex(16)


def hash_code(code: str, nonce: str, secret: str) -> str:
    """Keyed with the service's secret: a database dump alone cannot be brute-forced."""
    message = f"pickup-code-hash:{nonce}:{normalise_code(code)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """Staff may type it in lower case, with spaces or a dash."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def secret_id(secret: str) -> str:
    """A public name of a secret, stored with each pickup. An HMAC keyed with the
    secret tells no more about it than the code hashes beside it already do."""
    return hmac.new(secret.encode(), b"pickup-code-secret-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CodeSecrets:
    """The secrets in force: ``current`` makes every new code; ``previous`` (after a
    rotation) verifies and gives again only the codes it made itself."""

    current: str
    previous: str | None = None

    @property
    def current_id(self) -> str:
        return secret_id(self.current)

    def made(self, state: PickupState) -> str | None:
        """The configured secret that made this pickup's code; None when that secret
        is no longer configured."""
        return self.which(state.code_secret_id, state.code_nonce, state.code_hash)

    def which(self, recorded_id: str | None, nonce: str, code_hash: str) -> str | None:
        """The configured secret that made a code, from what a pickup stores of it."""
        configured = [self.current] if self.previous is None else [self.current, self.previous]
        for secret in configured:
            if recorded_id is not None:
                if hmac.compare_digest(recorded_id, secret_id(secret)):
                    return secret
            # Booked before migration 0008 recorded the id: the secret that made the code
            # is the one that reproduces its hash (exactly: no other secret does).
            elif hmac.compare_digest(
                code_hash, hash_code(issue_code(secret, nonce), nonce, secret)
            ):
                return secret
        return None


def code_of(state: PickupState, secrets: CodeSecrets) -> str | None:
    """The pickup's code again (a repeated booking), or None when the secret that made
    it is no longer configured."""
    secret = secrets.made(state)
    return None if secret is None else issue_code(secret, state.code_nonce)


def code_matches(state: PickupState, typed: str, secrets: CodeSecrets) -> bool:
    """Checked against the secret that made the code and no other; never true when
    that secret is no longer configured."""
    secret = secrets.made(state)
    if secret is None:
        return False
    return hmac.compare_digest(state.code_hash, hash_code(typed, state.code_nonce, secret))


def code_unavailable(state: PickupState) -> PickupCodeUnavailable:
    """The refusal when the secret that made a pickup's code is not configured here:
    removed too early, or not yet deployed on this replica."""
    return PickupCodeUnavailable(
        f"the code of pickup {state.pickup_id!r} was made with a pickup-code secret this "
        "service does not have; it can be neither shown again nor checked",
        field="pickup_id",
    )


def locked(state: PickupState, now: datetime) -> bool:
    return state.locked_until is not None and state.locked_until > now


def after_wrong_code(state: PickupState, now: datetime) -> PickupState:
    """Count a wrong code; the fifth in a row locks the pickup for a while."""
    failed = state.failed_attempts + 1
    if failed >= MAX_FAILED_ATTEMPTS:
        return replace(state, failed_attempts=0, locked_until=now + LOCKOUT, updated_at=now)
    return replace(state, failed_attempts=failed, updated_at=now)


def collected_quantities(
    state: PickupState, handed_over: Sequence[SkuQuantity] | None
) -> dict[str, int]:
    """sku -> units handed over. Raises ValueError naming the field when a line is wrong."""
    booked = {x.sku: x.quantity for x in state.lines}
    if handed_over is None:
        return booked
    taken = dict.fromkeys(booked, 0)
    for index, line in enumerate(handed_over):
        if line.sku not in booked:
            raise ValueError(f"lines[{index}].sku")
        if line.quantity > booked[line.sku]:
            raise ValueError(f"lines[{index}].quantity")
        taken[line.sku] = line.quantity
    return taken
