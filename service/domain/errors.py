"""Domain errors. Each has a stable machine-readable ``code``; the edges map the
class to an HTTP status or a rejection reason."""

from __future__ import annotations


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
