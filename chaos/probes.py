"""A readiness probe, as an orchestrator runs one: ``GET /health/ready`` on every
serve process twice a second, each answer awaited at most ``PROBE_TIMEOUT_S``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

PROBE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Probe:
    at: float  # seconds since the scenario's start
    url: str
    seconds: float
    outcome: str  # "200", "503", "refused", "timeout", "cut"


class ReadinessProbe:
    def __init__(self, urls: list[str], started: float) -> None:
        self.urls = urls
        self.started = started
        self.probes: list[Probe] = []

    async def run_forever(self) -> None:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            await asyncio.gather(*(self._every(client, url) for url in self.urls))

    async def _every(self, client: httpx.AsyncClient, url: str) -> None:
        while True:
            await self._probe(client, url)
            await asyncio.sleep(PROBE_EVERY_S)

    async def _probe(self, client: httpx.AsyncClient, url: str) -> None:
        began = time.monotonic()
        try:
            outcome = str((await client.get(f"{url}/health/ready")).status_code)
        except httpx.ConnectError:
            outcome = "refused"
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.TransportError:
            outcome = "cut"
        ended = time.monotonic()
        self.probes.append(Probe(began - self.started, url, ended - began, outcome))
