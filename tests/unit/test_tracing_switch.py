"""Which OTEL_* variables turn tracing on (settings.traces_exporter), and the
correlation id on every log line (logging.add_request_id)."""

from __future__ import annotations

import contextvars

import pytest

from service.correlation import MADE_PREFIX, begin_round, bind_message, current_correlation_id
from service.logging import REQUEST_ID, add_request_id
from service.settings import SettingsError, traces_exporter


@pytest.mark.parametrize(
    ("environ", "exporter"),
    [
        ({}, None),
        ({"OTEL_SERVICE_NAME": "inventory"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "console"}, "console"),
    ],
)
def test_tracing_is_off_unless_an_exporter_or_an_endpoint_is_named(
    environ: dict[str, str], exporter: str | None
) -> None:
    assert traces_exporter(environ) == exporter


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ],
)
def test_an_exporter_not_shipped_is_refused_at_start_naming_its_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=rf"^{named}:"):
        traces_exporter(environ)


def test_every_log_line_of_a_request_carries_its_request_id_as_correlation_id() -> None:
    def logged() -> dict[str, object]:
        REQUEST_ID.set("req-7")
        return dict(add_request_id(None, "info", {"event": "x"}))

    line = contextvars.Context().run(logged)

    assert line == {"event": "x", "request_id": "req-7", "correlation_id": "req-7"}


def test_a_message_is_correlated_by_its_correlation_id_else_its_message_id() -> None:
    def bound(correlation_id: str | None, message_id: str | None) -> str | None:
        bind_message(correlation_id, message_id)
        return current_correlation_id()

    assert contextvars.Context().run(bound, "c-1", "m-1") == "c-1"
    assert contextvars.Context().run(bound, None, "m-1") == "m-1"
    made = contextvars.Context().run(bound, None, None)
    assert str(made).startswith(MADE_PREFIX)


def test_each_background_round_has_a_correlation_id_of_its_own() -> None:
    def two_rounds() -> tuple[str, str, object]:
        first = begin_round()
        second = begin_round()
        return first, second, add_request_id(None, "info", {})["correlation_id"]

    first, second, logged = contextvars.Context().run(two_rounds)

    assert first != second
    assert logged == second
