"""docker-compose.yml's commands and health checks, run here as the containers would run them:
the same ``inventory`` arguments, the image's environment with compose's on top, and only the
addresses of the database and the broker changed to this test run's own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from service.storage.migrations import MIGRATIONS_DIR
from tests.compose_files import INVENTORY, compose_environment, instructions, inventory_args

INVENTORY_SCRIPT = str(Path(sys.executable).parent / "inventory")  # the console script


def environment(service: str, **changed: str) -> dict[str, str]:
    """The process environment of a compose service's container, with ``changed`` applied;
    this machine's own INVENTORY_* variables left out."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    return {**base, **compose_environment(INVENTORY[service]), **changed}


async def run(command: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=dict(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def healthy_within(check: list[str], env: Mapping[str, str], seconds: float) -> str:
    """Run a health check until it passes, as Docker would; its last output otherwise."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        code, out = await run(check, env)
        if code == 0 or asyncio.get_running_loop().time() > deadline:
            return "healthy" if code == 0 else out
        await asyncio.sleep(0.5)


async def stopped_by_sigterm(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_migrate_service_builds_a_new_database_and_does_nothing_the_second_time(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    url = await new_database()
    env = environment("migrate", INVENTORY_DATABASE_URL=url)
    command = [INVENTORY_SCRIPT, *INVENTORY["migrate"]["command"]]
    code, out = await run(command, env)
    assert code == 0, out
    assert f"{len(list(MIGRATIONS_DIR.glob('*.sql')))} migration(s) applied" in out
    code, out = await run(command, env)
    assert (code, "0 migration(s) applied" in out) == (0, True), out


async def test_the_worker_service_passes_its_health_check_and_stops_cleanly_on_sigterm(
    database_url: str, amqp_url: str, tmp_path: Path
) -> None:
    health_file = str(tmp_path / "worker.alive")
    env = environment("worker", INVENTORY_DATABASE_URL=database_url, INVENTORY_AMQP_URL=amqp_url)
    args = [health_file if a == "/tmp/worker.alive" else a for a in INVENTORY["worker"]["command"]]
    check = INVENTORY["worker"]["healthcheck"]["test"][1:]
    check = [INVENTORY_SCRIPT, *inventory_args(check)[:-1], health_file]
    worker = await asyncio.create_subprocess_exec(
        INVENTORY_SCRIPT, *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        assert await healthy_within(check, env, seconds=30) == "healthy"
    finally:
        assert await stopped_by_sigterm(worker) == 0
    code, out = await run(check, env)
    assert code == 1, "a stopped worker is not healthy"
    assert "no heartbeat" in out


async def test_the_api_service_passes_the_images_health_check_and_stops_on_sigterm(
    database_url: str,
) -> None:
    port = str(free_port())
    env = environment(
        "api", INVENTORY_DATABASE_URL=database_url, INVENTORY_HOST="127.0.0.1", INVENTORY_PORT=port
    )
    (healthcheck,) = instructions("HEALTHCHECK")
    check = json.loads(healthcheck.split(" CMD ", 1)[1])
    check = [sys.executable if word == "python" else word for word in check]
    api = await asyncio.create_subprocess_exec(
        INVENTORY_SCRIPT, *INVENTORY["api"]["command"], env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        assert await healthy_within(check, env, seconds=30) == "healthy"
    finally:
        assert await stopped_by_sigterm(api) == 0
