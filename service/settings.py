"""The service's configuration: one frozen Struct decoded from the environment.

No other module reads ``os.environ``. Every field maps to ``INVENTORY_<FIELD>``;
a wrong or missing value fails at start-up with one line naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

PREFIX = "INVENTORY_"

DEV_PICKUP_SECRET = "development-only-pickup-secret"
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: Annotated[str, msgspec.Meta(pattern=r"^postgres(ql)?://")] = (
        "postgresql://postgres@127.0.0.1:5432/inventory"
    )
    amqp_url: Annotated[str, msgspec.Meta(pattern=r"^amqps?://")] = (
        "amqp://guest:guest@127.0.0.1:5672/"
    )
    environment: Literal["development", "production", "test"] = "development"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    http_workers: PositiveInt = 1
    # `inventory worker` serves /metrics on this port (on INVENTORY_HOST) when set; serve
    # has /metrics on its API port (docs/operations.md, "Metrics").
    metrics_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    db_pool_min: PositiveInt = 2
    db_pool_max: PositiveInt = 10
    # Deadlines of every database call, so that a database that stops answering (packets
    # dropped, nothing reset) cannot hold a request or a message for as long as it lasts.
    db_connect_timeout_s: PositiveFloat = 5.0
    db_acquire_timeout_s: PositiveFloat = 3.0  # waiting for a pooled connection
    db_statement_timeout_s: PositiveFloat = (
        3.0  # any one statement, COMMIT included (each takes ms)
    )
    readiness_timeout_s: PositiveFloat = 2.0  # /health/ready answers within this, whatever happens
    verify_timeout_s: PositiveFloat = 1800.0  # verify-ledger's scans of every balance
    max_body_bytes: PositiveInt = 1_048_576
    max_movements_per_batch: PositiveInt = 1000
    # Reservations (issue 3).
    reservation_default_ttl_s: PositiveInt = 900
    reservation_max_ttl_s: PositiveInt = 7 * 24 * 3600
    reservation_batch_max: PositiveInt = 500
    # Background work: consumer, outbox relay and expiry sweeper.
    run_workers_in_process: bool = True
    # Unacked messages held at once: a deep window lets one flush take hundreds of
    # reservation steps (docs/performance.md, "Prefetch").
    consumer_prefetch: PositiveInt = 2048
    # Commands other than reservation steps (movements, pickups) handled at once.
    consumer_concurrency: PositiveInt = 256
    sweep_interval_s: PositiveFloat = 5.0
    sweep_batch: PositiveInt = 500
    relay_batch: PositiveInt = 500
    availability_event_window_s: PositiveFloat = 0.5
    # Click-and-collect: pickup codes are derived from this secret (set it in production).
    pickup_code_secret: Annotated[str, msgspec.Meta(min_length=16)] = DEV_PICKUP_SECRET
    # After a rotation, the secret before it: it still verifies (and gives again) the codes
    # it made, and no others, until it is removed (`inventory pickup-secrets` says when).
    pickup_code_secret_previous: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    pickup_sweep_batch: PositiveInt = 200
    # The staff page (docs/security.md): a session ends after this long without a request,
    # and at the latest this long after sign-in (a shift), whichever comes first.
    staff_session_idle_s: PositiveInt = 2 * 3600
    staff_session_lifetime_s: PositiveInt = 12 * 3600
    # Sign-in is refused (429) for the rest of a window once one client address or one
    # key has failed this many times within it; every replica counts in the database.
    staff_sign_in_failures: PositiveInt = 10
    staff_sign_in_window_s: PositiveInt = 15 * 60
    # The origin browsers reach the service at (https://stock.example.com): a staff-page
    # form must come from it. Unset: from the host the request names (Host header).
    public_origin: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/?#]+$")] | None = None
    # Availability cache: how many SKUs the in-process read model keeps.
    availability_cache_skus: PositiveInt = 100_000
    availability_cache_warm: bool = True  # load every SKU's balances in the background at start


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def field_to_env(field: str) -> str:
    return PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    Raises SettingsError naming the offending variable.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in Settings.__struct_fields__:
        value = environ.get(field_to_env(field))
        if value is not None:
            raw[field] = value
    raw.update(overrides)
    unknown = sorted(
        key
        for key in environ
        if key.startswith(PREFIX) and key[len(PREFIX) :].lower() not in Settings.__struct_fields__
    )
    if unknown:
        raise SettingsError(f"{unknown[0]}: unknown setting")
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_one_line(str(exc))) from None
    if settings.db_pool_min > settings.db_pool_max:
        raise SettingsError("INVENTORY_DB_POOL_MIN: must not exceed INVENTORY_DB_POOL_MAX")
    if settings.environment == "production" and settings.pickup_code_secret == DEV_PICKUP_SECRET:
        raise SettingsError("INVENTORY_PICKUP_CODE_SECRET: must be set in production")
    if settings.pickup_code_secret_previous == settings.pickup_code_secret:
        raise SettingsError(
            "INVENTORY_PICKUP_CODE_SECRET_PREVIOUS: must differ from INVENTORY_PICKUP_CODE_SECRET"
        )
    if settings.staff_session_idle_s > settings.staff_session_lifetime_s:
        raise SettingsError(
            "INVENTORY_STAFF_SESSION_IDLE_S: must not exceed INVENTORY_STAFF_SESSION_LIFETIME_S"
        )
    if settings.reservation_default_ttl_s > settings.reservation_max_ttl_s:
        raise SettingsError(
            "INVENTORY_RESERVATION_DEFAULT_TTL_S: must not exceed INVENTORY_RESERVATION_MAX_TTL_S"
        )
    return settings


def _one_line(message: str) -> str:
    """Turn msgspec's "... - at `$.port`" into "INVENTORY_PORT: ..."."""
    match = re.search(r" - at `\$\.(\w+)`", message)
    if not match:
        return message
    return f"{field_to_env(match.group(1))}: {message[: match.start()]}"
