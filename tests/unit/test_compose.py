"""docker-compose.yml, the Dockerfile and deploy/prometheus.yml name only what exists.

Docker cannot run here, so what can go stale is checked by reading the files: every
command is one the ``inventory`` CLI's own parser accepts, every ``INVENTORY_*`` variable a
setting whose value the settings accept, every mounted file is in the repository, every
service depended on is defined. tests/integration/test_compose_commands.py runs the commands.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from service.cli import _parser
from service.messaging.topology import policy_command
from service.settings import PREFIX, Settings, field_to_env, load_settings
from tests.compose_files import (
    INVENTORY,
    ROOT,
    SERVICES,
    compose_environment,
    image_environment,
    instructions,
    inventory_args,
)

# An exact release: major.minor.patch (python:3.11.14-slim-bookworm); PostgreSQL numbers its
# releases major.minor (15.14).
EXACT_TAG = re.compile(r"^([\w./-]+:v?\d+\.\d+\.\d+|postgres:\d+\.\d+)(-[\w.-]+)?$")


def test_every_inventory_service_command_is_a_real_subcommand() -> None:
    assert set(INVENTORY) == {"migrate", "worker", "api"}
    for name, service in INVENTORY.items():
        args = _parser().parse_args(service["command"])  # exits (SystemExit) on a wrong one
        assert callable(args.handler), name


def test_every_inventory_health_check_is_a_real_subcommand() -> None:
    worker_check = INVENTORY["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD"
    _parser().parse_args(inventory_args(worker_check[1:]))
    health_file = INVENTORY["worker"]["command"][-1]
    assert worker_check[-1] == health_file, "the check reads the file the worker writes"
    assert INVENTORY["migrate"]["healthcheck"] == {"disable": True}


def test_every_inventory_variable_is_a_setting_whose_value_is_accepted() -> None:
    settings = {field_to_env(f) for f in Settings.__struct_fields__}
    for name, service in INVENTORY.items():
        environment = compose_environment(service)
        assert {k for k in environment if k.startswith(PREFIX)} <= settings, name
        loaded = load_settings(environment)  # raises SettingsError naming a bad one
        assert loaded.environment == "production"
        assert loaded.run_workers_in_process is False, "production runs the worker apart"


def test_every_mounted_file_is_in_the_repository() -> None:
    mounted = [
        volume.split(":", 1)[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if volume.startswith(".")
    ]
    assert mounted, "Prometheus's configuration is mounted from deploy/"
    assert [m for m in mounted if not (ROOT / m).is_file()] == []


def test_start_order_is_health_based_and_names_only_defined_services() -> None:
    for name, service in SERVICES.items():
        for needed, rule in service.get("depends_on", {}).items():
            assert needed in SERVICES, f"{name} depends on {needed}"
            condition = rule["condition"]
            assert condition in {"service_healthy", "service_completed_successfully"}
            if condition == "service_completed_successfully":
                assert SERVICES[needed].get("restart") == "no", f"{needed} is a one-shot"
            else:
                assert "healthcheck" in SERVICES[needed] or needed == "api", needed
    # A deploy's order: migrations, then the workers, then the API.
    assert SERVICES["worker"]["depends_on"]["migrate"]["condition"].endswith("successfully")
    assert SERVICES["api"]["depends_on"]["worker"]["condition"] == "service_healthy"


def test_the_broker_policy_is_the_one_inventory_broker_policy_sets() -> None:
    command = SERVICES["broker-policy"]["command"]
    node_args = ["--node", "rabbit@rabbitmq"]
    assert command[1:3] == node_args
    assert [command[0], *command[3:]] == policy_command("/")
    assert SERVICES["rabbitmq"]["hostname"] == "rabbitmq"


def test_every_image_is_pinned_to_an_exact_version() -> None:
    images = [s["image"] for s in SERVICES.values() if "build" not in s]
    images += [args.split()[0] for args in instructions("FROM")]
    assert [i for i in images if not EXACT_TAG.match(i)] == []


def test_the_monitoring_profile_scrapes_the_api_and_every_worker_and_loads_its_rules() -> None:
    prometheus = SERVICES["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"inventory-api", "inventory-worker"}
    assert {job["metrics_path"] for job in jobs.values()} == {"/metrics"}
    (target,) = jobs["inventory-api"]["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in INVENTORY
    assert f"{port}:{Settings().port}" in INVENTORY["api"]["ports"]
    (workers,) = jobs["inventory-worker"]["dns_sd_configs"]
    (name,) = workers["names"]
    metrics_port = INVENTORY[name]["environment"]["INVENTORY_METRICS_PORT"]
    assert str(workers["port"]) == metrics_port
    mounted = {v.split(":")[1] for v in prometheus["volumes"] if v.startswith(".")}
    assert {f"/etc/prometheus/{rules}" for rules in config["rule_files"]} <= mounted


def test_promtool_accepts_the_prometheus_configuration() -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (Debian's prometheus package)")
    done = subprocess.run(
        ["promtool", "check", "config", str(ROOT / "deploy/prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_runs_inventory_under_tini_as_a_user_that_is_not_root() -> None:
    (entrypoint,) = instructions("ENTRYPOINT")
    (cmd,) = instructions("CMD")
    assert json.loads(entrypoint)[:2] == ["tini", "--"]
    _parser().parse_args(inventory_args(json.loads(entrypoint)) + json.loads(cmd))
    (user,) = instructions("USER")
    assert user.split(":")[0] not in {"0", "root"}
    (healthcheck,) = instructions("HEALTHCHECK")
    assert "/health/live" in healthcheck
    assert image_environment()["INVENTORY_RUN_WORKERS_IN_PROCESS"] == "false"


def test_the_image_installs_from_the_lock_and_not_in_editable_mode() -> None:
    runs = " ".join(instructions("RUN"))
    assert "uv sync --frozen" in runs
    assert " -e " not in runs
    assert "--editable" not in runs
    assert len(instructions("FROM")) == 2, "a builder stage and a runtime stage"


def test_every_file_the_image_copies_exists_and_is_in_the_build_context() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = [
        source
        for args in instructions("COPY")
        if not args.startswith("--from")
        for source in args.split()[:-1]
    ]
    assert copied, "the Dockerfile copies the lock and the service"
    assert [c for c in copied if not (ROOT / c).exists()] == []
    assert [c for c in copied if c not in allowed] == []
