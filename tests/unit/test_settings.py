"""Settings come from INVENTORY_* variables; a wrong one fails with one line naming it."""

from __future__ import annotations

import pytest

from service.settings import SettingsError, load_settings


def test_without_variables_the_defaults_point_at_the_local_services() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("postgresql://")
    assert settings.amqp_url.startswith("amqp://")
    assert settings.port == 8000
    assert settings.max_movements_per_batch == 1000
    assert settings.max_body_bytes == 1_048_576


def test_variables_are_decoded_into_their_types() -> None:
    settings = load_settings(
        {"INVENTORY_PORT": "9001", "INVENTORY_RUN_WORKERS_IN_PROCESS": "false"}
    )
    assert settings.port == 9001
    assert settings.run_workers_in_process is False


def test_variables_without_the_prefix_are_ignored() -> None:
    assert load_settings({"PORT": "not-a-port", "HOME": "/root"}).port == 8000


@pytest.mark.parametrize("port", ["eighty", "0", "70000"])
def test_a_bad_port_is_refused_with_a_message_naming_the_variable(port: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"INVENTORY_PORT": port})
    message = str(refused.value)
    assert message.startswith("INVENTORY_PORT")
    assert "\n" not in message


def test_an_unknown_inventory_variable_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match=r"^INVENTORY_FOO\b"):
        load_settings({"INVENTORY_FOO": "1"})


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^INVENTORY_DATABASE_URL\b"):
        load_settings({"INVENTORY_DATABASE_URL": "mysql://localhost/inventory"})


def test_a_log_level_outside_the_known_ones_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^INVENTORY_LOG_LEVEL\b"):
        load_settings({"INVENTORY_LOG_LEVEL": "loud"})


def test_a_pool_minimum_above_its_maximum_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^INVENTORY_DB_POOL_MIN\b"):
        load_settings({"INVENTORY_DB_POOL_MIN": "20", "INVENTORY_DB_POOL_MAX": "5"})


def test_overrides_win_over_the_environment() -> None:
    assert load_settings({"INVENTORY_PORT": "9001"}, port=9002).port == 9002


def test_the_previous_pickup_code_secret_is_unset_until_a_rotation() -> None:
    assert load_settings({}).pickup_code_secret_previous is None
    rotated = load_settings(
        {
            "INVENTORY_PICKUP_CODE_SECRET": "the-new-secret-of-this-year",
            "INVENTORY_PICKUP_CODE_SECRET_PREVIOUS": "the-secret-of-last-year",
        }
    )
    assert rotated.pickup_code_secret_previous == "the-secret-of-last-year"


@pytest.mark.parametrize("previous", ["short", "the-new-secret-of-this-year"])
def test_a_previous_pickup_code_secret_too_short_or_equal_to_the_current_is_refused(
    previous: str,
) -> None:
    with pytest.raises(SettingsError, match=r"^INVENTORY_PICKUP_CODE_SECRET_PREVIOUS\b"):
        load_settings(
            {
                "INVENTORY_PICKUP_CODE_SECRET": "the-new-secret-of-this-year",
                "INVENTORY_PICKUP_CODE_SECRET_PREVIOUS": previous,
            }
        )
