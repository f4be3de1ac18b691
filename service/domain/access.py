"""Who may do what: roles, permissions, and location scoping of staff keys.

reader       the app: availability, locations, pickup slots
webshop      reservations and pickups (booking, cancelling), plus what readers see
integration  stock movements and stock settings (ERP, WMS, POS), plus stock reads
staff        pickups and stock of the locations named on the key, nothing else
admin        everything
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.domain.errors import DomainError

Role = Literal["reader", "webshop", "integration", "staff", "admin"]
ROLES: tuple[Role, ...] = ("reader", "webshop", "integration", "staff", "admin")

# permission -> roles that hold it everywhere (admin holds every permission)
_GLOBAL: dict[str, frozenset[str]] = {
    "locations.read": frozenset({"reader", "webshop", "integration", "staff"}),
    "locations.write": frozenset(),
    "availability.read": frozenset({"reader", "webshop", "integration"}),
    "stock.read": frozenset({"integration"}),
    "stock.write": frozenset({"integration"}),
    "reservations.write": frozenset({"webshop"}),
    "reservations.read": frozenset({"webshop"}),
    "slots.read": frozenset({"reader", "webshop"}),
    "pickups.book": frozenset({"webshop"}),
    "pickups.read": frozenset({"webshop"}),
    "pickups.cancel": frozenset({"webshop"}),
    "counter": frozenset(),
    "pickups.settings": frozenset(),
}
# permissions staff hold at the locations named on their key
_STAFF_AT_OWN_LOCATIONS = frozenset(
    {
        "availability.read",
        "stock.read",
        "slots.read",
        "pickups.read",
        "pickups.cancel",
        "counter",
    }
)
PERMISSIONS = tuple(_GLOBAL)


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    name: str
    role: Role
    location_ids: frozenset[str] = frozenset()
    # The first key of this key's rotation chain: a key and the keys issued to replace
    # it are one caller (a retry may straddle a rotation).
    lineage_id: str | None = None

    @property
    def caller(self) -> str:
        """Whose stored answers this key may see: its idempotency keys and pickup codes."""
        return f"key:{self.lineage_id or self.key_id}"

    def may(self, permission: str, location_id: str | None = None) -> bool:
        """Whether this key holds ``permission`` (at ``location_id`` when given)."""
        if self.role == "admin" or self.role in _GLOBAL[permission]:
            return True
        return (
            self.role == "staff"
            and permission in _STAFF_AT_OWN_LOCATIONS
            and location_id is not None
            and location_id in self.location_ids
        )

    def may_somewhere(self, permission: str) -> bool:
        """Whether this key holds ``permission`` at least at one location."""
        if self.role == "admin" or self.role in _GLOBAL[permission]:
            return True
        return (
            self.role == "staff"
            and permission in _STAFF_AT_OWN_LOCATIONS
            and bool(self.location_ids)
        )

    def require(self, permission: str, location_id: str | None = None) -> None:
        """Raises Forbidden."""
        if not self.may(permission, location_id):
            where = f" at {location_id}" if location_id else ""
            raise Forbidden(f"a {self.role} key may not {permission}{where}")
