"""The Grafana dashboard and the alert rules (deploy/): the rules pass ``promtool check
rules``, every metric either of them names is one the service exports, and every metric
the service exports is in docs/operations.md ("Metrics")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import yaml
from aio_pika.abc import AbstractRobustConnection
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from service.messaging.worker import Worker
from tests.metrics_helpers import exported_names, scrape, traffic
from tests.promtool import needs_promtool, promtool

DEPLOY = Path(__file__).parents[2] / "deploy"
ALERTS = DEPLOY / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "inventory.json"
OPERATIONS = DEPLOY.parent / "docs" / "operations.md"
# A metric is a name before a selector or a range, or any name with the service's or
# prometheus_client's prefixes (``sum(x unless x offset 10m)`` names x bare).
_SELECTED = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")
_PREFIXED = re.compile(r"\b((?:inventory|process|python)_[a-zA-Z0-9_:]+)")
PROMETHEUS_OWN = {"up"}  # written by Prometheus for each target, not by the service


def rule_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    found = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            found.append(query["query"])
    return found


def metrics_named(expressions: list[str]) -> set[str]:
    names: set[str] = set()
    for expression in expressions:
        names |= set(_SELECTED.findall(expression)) | set(_PREFIXED.findall(expression))
    return names - PROMETHEUS_OWN


@needs_promtool
async def test_the_alert_rules_pass_promtool() -> None:
    status, output = await promtool("check", "rules", str(ALERTS))
    assert status == 0, output
    assert "SUCCESS" in output


def test_the_dashboard_and_the_rules_say_what_they_watch() -> None:
    """Guards the next test against reading nothing: the expressions are found."""
    assert len(rule_expressions()) >= 6
    assert len(dashboard_expressions()) >= 20
    assert "inventory_outbox_oldest_age_seconds" in metrics_named(rule_expressions())


async def test_every_metric_the_dashboard_and_the_rules_name_is_exported_and_documented(
    app: Litestar, worker: Worker, client: httpx.AsyncClient, broker: AbstractRobustConnection
) -> None:
    await traffic(client, broker)
    scraped = (await scrape(app)).text
    named = metrics_named(rule_expressions() + dashboard_expressions())
    assert named - exported_names(scraped) == set()
    documented = set(re.findall(r"`(inventory_[a-z0-9_]+)`", OPERATIONS.read_text()))
    ours = {
        f.name for f in text_string_to_metric_families(scraped) if f.name.startswith("inventory_")
    }
    # A counter's family is named without its ``_total``; the documentation names its series.
    assert {n if n + "_total" not in documented else n + "_total" for n in ours} <= documented
