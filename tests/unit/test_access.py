"""Who may do what: every role against every permission, and staff scoping."""

from __future__ import annotations

import pytest

from service.domain.access import PERMISSIONS, ROLES, Forbidden, Principal

# permission -> roles that hold it everywhere (besides admin)
EVERYWHERE: dict[str, set[str]] = {
    "locations.read": {"reader", "webshop", "integration", "staff"},
    "locations.write": set(),
    "availability.read": {"reader", "webshop", "integration"},
    "stock.read": {"integration"},
    "stock.write": {"integration"},
    "reservations.write": {"webshop"},
    "reservations.read": {"webshop"},
    "slots.read": {"reader", "webshop"},
    "pickups.book": {"webshop"},
    "pickups.read": {"webshop"},
    "pickups.cancel": {"webshop"},
    "counter": set(),
    "pickups.settings": set(),
}
# what a staff key holds at the locations named on it, and only there
STAFF_AT_OWN_STORE = {
    "availability.read",
    "stock.read",
    "slots.read",
    "pickups.read",
    "pickups.cancel",
    "counter",
}
OWN, OTHER = "ST-OWN", "ST-OTHER"


def key(role: str, *locations: str) -> Principal:
    return Principal(key_id="k", name=f"test {role}", role=role, location_ids=frozenset(locations))  # type: ignore[arg-type]


def test_the_table_of_this_test_names_every_permission_of_the_service() -> None:
    assert set(EVERYWHERE) == set(PERMISSIONS)
    assert set(ROLES) == {"reader", "webshop", "integration", "staff", "admin"}


@pytest.mark.parametrize("permission", PERMISSIONS)
@pytest.mark.parametrize("role", ["reader", "webshop", "integration", "admin"])
def test_a_role_without_locations_holds_a_permission_everywhere_or_nowhere(
    role: str, permission: str
) -> None:
    expected = role == "admin" or role in EVERYWHERE[permission]
    principal = key(role)
    assert principal.may(permission) is expected
    assert principal.may(permission, OWN) is expected
    assert principal.may(permission, OTHER) is expected
    assert principal.may_somewhere(permission) is expected


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_a_staff_key_holds_its_store_permissions_at_its_own_store_only(permission: str) -> None:
    staff = key("staff", OWN)
    global_ = "staff" in EVERYWHERE[permission]
    scoped = permission in STAFF_AT_OWN_STORE
    assert staff.may(permission, OWN) is (global_ or scoped)
    assert staff.may(permission, OTHER) is global_
    assert staff.may(permission) is global_
    assert staff.may_somewhere(permission) is (global_ or scoped)


def test_a_staff_key_may_act_at_the_counter_of_each_store_named_on_it() -> None:
    staff = key("staff", OWN, "ST-TWO")
    assert staff.may("counter", OWN)
    assert staff.may("counter", "ST-TWO")
    assert not staff.may("counter", OTHER)


def test_a_staff_key_naming_no_location_may_act_at_no_counter() -> None:
    assert not key("staff").may_somewhere("counter")


def test_staff_may_neither_book_nor_change_settings_nor_write_stock_even_at_their_store() -> None:
    staff = key("staff", OWN)
    for permission in ("pickups.book", "pickups.settings", "stock.write", "reservations.write"):
        assert not staff.may(permission, OWN), permission
        assert not staff.may_somewhere(permission), permission


def test_require_raises_forbidden_naming_the_role_permission_and_location() -> None:
    with pytest.raises(Forbidden) as refused:
        key("staff", OWN).require("counter", OTHER)
    assert refused.value.code == "forbidden"
    assert "staff" in refused.value.detail
    assert "counter" in refused.value.detail
    assert OTHER in refused.value.detail


def test_require_returns_quietly_when_the_key_holds_the_permission() -> None:
    key("staff", OWN).require("counter", OWN)
    key("admin").require("locations.write")
