"""``inventory worker`` with INVENTORY_METRICS_PORT serves its metrics on that port (it
has no HTTP server otherwise), and still stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httpx

from tests.metrics_helpers import samples_of, value
from tests.reservation_helpers import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_the_worker_serves_its_metrics_on_its_metrics_port(
    database_url: str, amqp_url: str
) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env = {
        **environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_AMQP_URL": str(amqp_url),
        "INVENTORY_METRICS_PORT": str(port),
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "warning",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "worker",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def consuming() -> str | None:
                try:
                    text = (await http.get("/metrics")).text
                except httpx.TransportError:
                    return None  # not listening yet
                up = value(samples_of(text), "inventory_component_up", component="consumer")
                return text if up == 1 else None

            text = await eventually(consuming, "the worker's consumer up", within_s=30)
        assert value(samples_of(text), "inventory_component_up", component="broker") == 1
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, err.decode()
