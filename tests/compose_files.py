"""What docker-compose.yml and the Dockerfile say, read by the tests that hold them to what
exists (tests/unit/test_compose.py) and that run their commands
(tests/integration/test_compose_commands.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
INVENTORY = {name: s for name, s in SERVICES.items() if s.get("image") == "inventory-service:local"}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = [ln.strip().split(None, 1) for ln in joined.splitlines() if ln.strip()]
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in found]


def instructions(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile() if kw == keyword]


def image_environment() -> dict[str, str]:
    """The runtime stage's ENV (KEY=value pairs; the image's defaults for every role)."""
    runtime_env = instructions("ENV")[-1]
    return dict(pair.split("=", 1) for pair in shlex.split(runtime_env))


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as the container sees it: the image's ENV, then compose's,
    with ``${VAR:-default}`` taken at its default (nothing set in the caller's shell)."""
    given = service.get("environment", {})
    given = {k: INTERPOLATION.sub(lambda m: m.group(2) or "", str(v)) for k, v in given.items()}
    return {**image_environment(), **given}


def inventory_args(command: list[str]) -> list[str]:
    """The arguments after ``inventory`` (the image's ENTRYPOINT ends with it)."""
    assert "inventory" in command, command
    return command[command.index("inventory") + 1 :]
