"""Database errors caused by the data a client sent become domain errors.

A violated constraint is translated by its name (constraints.py) when it guards a rule a
client's input can break: a check on a value, a location named that does not exist, a
warehouse named twice. The use cases check most of these first; the constraint is what
holds when they miss one. A rule that only the service itself can break (a balance's
reserved below zero) stays an error. Data exceptions (SQLSTATE class 22, such as a NUL
character in a text value or a number out of range) become InvalidInput.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from service.domain.errors import DomainError, InvalidInput, UnknownLocation
from service.storage import constraints as c


@dataclass(frozen=True, slots=True)
class Rule:
    """A client's rule that a constraint guards, as the domain error it becomes."""

    detail: str
    field: str | None
    error: type[InvalidInput] = InvalidInput

    def broken(self) -> InvalidInput:
        return self.error(self.detail, field=self.field)


NO_LOCATION = "a location named does not exist"

# constraint name -> the rule a client broke
CLIENT_RULES: dict[str, Rule] = {
    c.LOCATION_KIND_VALID: Rule("kind must be warehouse or store", "kind"),
    c.LOCATION_LATITUDE_RANGE: Rule("latitude must be between -90 and 90", "latitude"),
    c.LOCATION_LONGITUDE_RANGE: Rule("longitude must be between -180 and 180", "longitude"),
    c.LOCATION_THRESHOLD_NOT_NEGATIVE: Rule(
        "low_stock_threshold may not be negative", "low_stock_threshold"
    ),
    c.LOCATION_SAFETY_STOCK_NOT_NEGATIVE: Rule(
        "default_safety_stock may not be negative", "default_safety_stock"
    ),
    c.BALANCE_LOCATION_FK: Rule(NO_LOCATION, "location_id", UnknownLocation),
    c.RESERVATION_LOCATION_FK: Rule(NO_LOCATION, "location_id", UnknownLocation),
    c.PICKUP_LOCATION_FK: Rule(NO_LOCATION, "location_id", UnknownLocation),
    c.PICKUP_SETTINGS_LOCATION_FK: Rule(NO_LOCATION, "location_id", UnknownLocation),
    c.SUPPLY_ROUTE_STORE_FK: Rule(NO_LOCATION, "location_id", UnknownLocation),
    c.SUPPLY_ROUTE_WAREHOUSE_FK: Rule(NO_LOCATION, "suppliers", UnknownLocation),
    c.BALANCE_SAFETY_STOCK_NOT_NEGATIVE: Rule("safety_stock may not be negative", "safety_stock"),
    c.TRANSFER_QUANTITY_POSITIVE: Rule("a transfer moves at least 1 unit", "quantity"),
    c.TRANSFER_DISTINCT_LOCATIONS: Rule(
        "a transfer needs two different locations", "to_location_id"
    ),
    c.TRANSFER_SETTLED_WITHIN_QUANTITY: Rule("more received than was sent", "quantity"),
    c.RESERVATION_LINE_QUANTITY_POSITIVE: Rule("a line holds at least 1 unit", "lines"),
    c.RESERVATION_LINE_FULFILLED_WITHIN: Rule("more fulfilled than was reserved", "lines"),
    c.PICKUP_LINE_QUANTITY_POSITIVE: Rule("a line holds at least 1 unit", "lines"),
    c.PICKUP_LINE_COLLECTED_WITHIN: Rule("more collected than was booked", "lines"),
    c.PICKUP_SLOT_MINUTES_RANGE: Rule("slot_minutes must be between 5 and 480", "slot_minutes"),
    c.PICKUP_CAPACITY_POSITIVE: Rule("capacity_per_slot must be at least 1", "capacity_per_slot"),
    c.PICKUP_PREP_NOT_NEGATIVE: Rule("prep_minutes may not be negative", "prep_minutes"),
    c.PICKUP_HORIZON_RANGE: Rule("horizon_days must be between 1 and 90", "horizon_days"),
    c.PICKUP_HOLD_RANGE: Rule("hold_hours must be between 1 and 720", "hold_hours"),
    c.SUPPLY_ROUTES_PKEY: Rule("a warehouse is named twice among the suppliers", "suppliers"),
    c.SUPPLY_ROUTE_LEAD_TIME_NOT_NEGATIVE: Rule(
        "lead_time_minutes may not be negative", "suppliers"
    ),
    c.API_KEY_ROLE_VALID: Rule("role must be reader, webshop, integration, staff or admin", "role"),
}


def translate(exc: Exception) -> DomainError | None:
    """The domain error for a database error the client caused, or None."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        rule = CLIENT_RULES.get(exc.constraint_name or "")
        return rule.broken() if rule else None
    if isinstance(
        exc, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError
    ):
        return InvalidInput("text may not contain NUL characters or invalid UTF-8")
    if isinstance(exc, asyncpg.DataError):
        return InvalidInput(f"a value cannot be stored: {exc.args[0] if exc.args else exc}")
    return None
