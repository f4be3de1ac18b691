"""The service's configuration: one frozen Struct decoded from the environment.

No other module reads ``os.environ``. Every field maps to ``INVENTORY_<FIELD>``;
a wrong or missing value fails at start-up with one line naming the variable.
Tracing is switched by the standard OTEL_* variables instead (``traces_exporter``).
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
DAY_S = 24 * 3600


def doc(meaning: str) -> msgspec.Meta:
    """A setting's meaning, as the operator reads it: docs/operations.md's table of
    settings is generated from these (``python -m service.settings_doc``)."""
    return msgspec.Meta(description=meaning)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: Annotated[
        str,
        msgspec.Meta(pattern=r"^postgres(ql)?://"),
        doc("The PostgreSQL database (libpq URL); `inventory migrate` creates it if missing."),
    ] = "postgresql://postgres@127.0.0.1:5432/inventory"
    amqp_url: Annotated[
        str, msgspec.Meta(pattern=r"^amqps?://"), doc("The RabbitMQ broker and vhost (AMQP URL).")
    ] = "amqp://guest:guest@127.0.0.1:5672/"
    environment: Annotated[
        Literal["development", "production", "test"],
        doc(
            "`production` logs JSON and refuses the development pickup-code secret; "
            "`development` logs for a terminal."
        ),
    ] = "development"
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], doc("The lowest level logged.")
    ] = "info"
    host: Annotated[str, doc("Address `inventory serve` binds (`--host` overrides).")] = "127.0.0.1"
    port: Annotated[
        int, msgspec.Meta(ge=1, le=65535), doc("Port `inventory serve` binds (`--port`).")
    ] = 8000
    http_workers: Annotated[
        PositiveInt,
        doc(
            "Processes `inventory serve` runs (granian workers); each has its own database "
            "pool and availability cache."
        ),
    ] = 1
    metrics_port: (
        Annotated[
            int,
            msgspec.Meta(ge=1, le=65535),
            doc(
                "Port on which `inventory worker` serves /metrics (on INVENTORY_HOST); unset: none. "
                "`inventory serve` has /metrics on its API port."
            ),
        ]
        | None
    ) = None
    db_pool_min: Annotated[
        PositiveInt, doc("Connections each process opens at start and keeps.")
    ] = 2
    db_pool_max: Annotated[
        PositiveInt,
        doc(
            "Most connections each process's pool opens; the process holds one more for the "
            "change feed (LISTEN)."
        ),
    ] = 10
    # Deadlines of every database call, so that a database that stops answering (packets
    # dropped, nothing reset) cannot hold a request or a message for as long as it lasts.
    db_connect_timeout_s: Annotated[
        PositiveFloat, doc("Seconds to open a database connection before giving up.")
    ] = 5.0
    db_acquire_timeout_s: Annotated[
        PositiveFloat, doc("Seconds a request or message waits for a pooled connection.")
    ] = 3.0
    db_statement_timeout_s: Annotated[
        PositiveFloat,
        doc("Seconds any one statement may take, COMMIT included (each normally takes ms)."),
    ] = 3.0
    readiness_timeout_s: Annotated[
        PositiveFloat, doc("`/health/ready` answers within this many seconds, whatever happens.")
    ] = 2.0
    verify_timeout_s: Annotated[
        PositiveFloat,
        doc("Seconds the command-line tools' statements may take (verify-ledger scans all)."),
    ] = 1800.0
    max_body_bytes: Annotated[
        PositiveInt, doc("Largest HTTP request body accepted (413 beyond).")
    ] = 1_048_576
    max_movements_per_batch: Annotated[
        PositiveInt, doc("Most movements in one posted batch (HTTP or message).")
    ] = 1000
    reservation_default_ttl_s: Annotated[
        PositiveInt, doc("Lifetime of a reservation that names no `ttl_seconds`.")
    ] = 900
    reservation_max_ttl_s: Annotated[
        PositiveInt, doc("Longest `ttl_seconds` a reservation may ask for.")
    ] = 7 * DAY_S
    reservation_batch_max: Annotated[
        PositiveInt, doc("Most reservation steps the engine decides in one transaction.")
    ] = 500
    run_workers_in_process: Annotated[
        bool,
        doc(
            "`inventory serve` also runs the worker (consumer, outbox relay, sweepers) in each "
            "of its processes; off when workers run as `inventory worker`."
        ),
    ] = True
    consumer_prefetch: Annotated[
        PositiveInt,
        doc(
            "Unacked command messages a worker holds at once: a deep window lets one flush "
            "take hundreds of reservation steps (docs/performance.md, Prefetch)."
        ),
    ] = 2048
    consumer_concurrency: Annotated[
        PositiveInt,
        doc("Commands other than reservation steps (movements, pickups) handled at once."),
    ] = 256
    sweep_interval_s: Annotated[
        PositiveFloat,
        doc("Seconds between the sweeps (expiry, no-shows, idempotency pruning) when idle."),
    ] = 5.0
    sweep_batch: Annotated[
        PositiveInt,
        doc("Reservations expired, or idempotency records pruned, per sweep transaction."),
    ] = 500
    relay_batch: Annotated[PositiveInt, doc("Outbox rows the relay publishes per round.")] = 500
    availability_event_window_s: Annotated[
        PositiveFloat,
        doc("Seconds over which balance changes are gathered into availability.changed events."),
    ] = 0.5
    idempotency_retention_s: Annotated[
        PositiveInt,
        doc(
            "Seconds an idempotency record (the first answer to a key or message id) is kept; "
            "older ones are pruned by the worker, and a repeat after that is a new request."
        ),
    ] = 7 * DAY_S
    pickup_code_secret: Annotated[
        str,
        msgspec.Meta(min_length=16),
        doc("Pickup codes are derived from this secret: set it in production (Rotating secrets)."),
    ] = DEV_PICKUP_SECRET
    pickup_code_secret_previous: (
        Annotated[
            str,
            msgspec.Meta(min_length=16),
            doc(
                "After a rotation, the secret before it: it still verifies the codes it made, "
                "until removed (`inventory pickup-secrets` says when)."
            ),
        ]
        | None
    ) = None
    pickup_sweep_batch: Annotated[
        PositiveInt, doc("Pickups marked no-show per sweep transaction.")
    ] = 200
    # The staff page (docs/security.md).
    staff_session_idle_s: Annotated[
        PositiveInt, doc("A staff session ends after this long without a request.")
    ] = 2 * 3600
    staff_session_lifetime_s: Annotated[
        PositiveInt, doc("A staff session ends this long after sign-in at the latest (a shift).")
    ] = 12 * 3600
    # Every replica counts sign-in failures in the database.
    staff_sign_in_failures: Annotated[
        PositiveInt,
        doc("Failed sign-ins from one address or key within a window before 429."),
    ] = 10
    staff_sign_in_window_s: Annotated[
        PositiveInt, doc("The window over which failed sign-ins are counted.")
    ] = 15 * 60
    public_origin: (
        Annotated[
            str,
            msgspec.Meta(pattern=r"^https?://[^/?#]+$"),
            doc(
                "The origin browsers reach the service at (https://stock.example.com): a "
                "staff-page form must come from it. Unset: the request's Host header."
            ),
        ]
        | None
    ) = None
    availability_cache_skus: Annotated[
        PositiveInt,
        doc("SKUs the in-process availability read model keeps (the first loaded go first)."),
    ] = 100_000
    availability_cache_warm: Annotated[
        bool, doc("Load every SKU's balances into the read model in the background at start.")
    ] = True


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


TracesExporter = Literal["otlp", "console"]
_TRUE = ("true", "1", "yes", "on")


def traces_exporter(environ: Mapping[str, str] | None = None) -> TracesExporter | None:
    """Which span exporter the standard OTEL_* variables ask for; None: tracing is off
    (the default). The one exception to "no other module reads os.environ": once this
    says on, the OpenTelemetry SDK reads its own OTEL_* variables (endpoint, headers,
    service name, sampler, batch sizes) as its documentation says.

    On when OTEL_TRACES_EXPORTER names an exporter (``otlp`` or ``console``), or when an
    OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT: ``otlp``).
    Off when OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is ``none``, whatever
    else is set. Raises SettingsError for an exporter or OTLP protocol not shipped."""
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return None
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if named == "none" or not (named or endpoint):
        return None
    exporter = named or "otlp"
    if exporter not in ("otlp", "console"):
        raise SettingsError(f"OTEL_TRACES_EXPORTER: {exporter!r} is not shipped (otlp, console)")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if exporter == "otlp" and protocol != "http/protobuf":
        raise SettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} (only http/protobuf)")
    return "otlp" if exporter == "otlp" else "console"


def _one_line(message: str) -> str:
    """Turn msgspec's "... - at `$.port`" into "INVENTORY_PORT: ..."."""
    match = re.search(r" - at `\$\.(\w+)`", message)
    if not match:
        return message
    return f"{field_to_env(match.group(1))}: {message[: match.start()]}"
