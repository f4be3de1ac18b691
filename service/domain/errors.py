"""Domain errors. Each has a stable machine-readable ``code``; the edges map the
class to an HTTP status or a rejection reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A line that cannot be had: how many were asked for, how many are available."""

    sku: str
    requested: int
    available: int


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """The request is well-formed but its values make no sense (HTTP 422)."""

    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (HTTP 409)."""

    code = "conflict"


class UnknownLocation(InvalidInput):
    code = "unknown_location"


class LocationNotFound(NotFound):
    code = "location_not_found"


class InactiveLocation(InvalidInput):
    code = "inactive_location"


class UnknownTransfer(InvalidInput):
    code = "unknown_transfer"


class TransferOverReceived(InvalidInput):
    code = "transfer_over_received"


class TransferExists(Conflict):
    code = "transfer_exists"


class BatchTooLarge(InvalidInput):
    code = "batch_too_large"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


class PickupNotFound(NotFound):
    code = "pickup_not_found"


class PickupConflict(Conflict):
    code = "pickup_conflict"


class PickupCodeUnavailable(Conflict):
    """The pickup's code was made with a secret that is no longer configured: it can
    be neither given again nor verified (HTTP 409)."""

    code = "pickup_code_unavailable"


class PickupNotOffered(InvalidInput):
    code = "pickup_not_offered"


class SlotNotFound(InvalidInput):
    code = "slot_not_found"


class SlotUnavailable(Conflict):
    """A full slot, a closed store, a slot before the cart can be ready (409)."""

    code = "slot_unavailable"


class SlotOutOfRange(InvalidInput):
    """A slot in the past or beyond the booking horizon (422)."""

    code = "slot_out_of_range"


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, detail: str, shortfalls: Sequence[Shortfall]) -> None:
        super().__init__(detail, field="lines")
        self.shortfalls = tuple(shortfalls)


class InvalidTransition(Conflict):
    code = "invalid_transition"


class WrongPickupCode(InvalidInput):
    code = "wrong_pickup_code"


class PickupLocked(DomainError):
    """Too many wrong codes: the pickup refuses codes for a while (HTTP 423)."""

    code = "pickup_locked"


class MessageIdReused(Conflict):
    """A message id arrived again with different content: not applied, answered."""

    code = "message_id_reused"
