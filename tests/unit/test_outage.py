"""An outage's end reports how many requests it refused: those it refused, not the
503s answered before it began (a statement cancelled by its timeout, a stale pooled
connection)."""

from __future__ import annotations

import logging

import pytest

from service.storage.outage import Outage


def test_the_recovery_line_counts_only_the_requests_the_outage_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    outage = Outage()
    for _ in range(7):
        outage.refused_one()  # answered 503 while no outage was under way
    outage.failed(ConnectionResetError())
    outage.refused_one()
    outage.refused_one()
    outage.answered()
    [recovered] = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "database_recovered"
    ]
    assert recovered["refused"] == 2
    assert not outage.ongoing
