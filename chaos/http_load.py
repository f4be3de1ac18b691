"""Concurrent HTTP clients that behave as a careful webshop does: each sends its
reservations one after the other, and on an error, a timeout or a dropped connection
sends the same request again, with the same id and body, until it gets an answer
(201, 200 for a repeat, or 409 ``insufficient_stock``) or gives up.

Every attempt is recorded (when, how long, what came back), so the scenario can say
what the service answered during the fault and how soon it recovered.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import msgspec

from chaos.workload import Order

FINAL = {"201", "200", "409:insufficient_stock"}
ATTEMPT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 3.0
FIRST_PAUSE_S, MAX_PAUSE_S = 0.05, 1.0
_problem = msgspec.json.Decoder(dict[str, object])


@dataclass(slots=True)
class Attempt:
    at: float  # seconds since the scenario's start
    seconds: float
    outcome: (
        str  # "201", "409:insufficient_stock", "500:internal_error", "refused", "timeout", "cut"
    )
    url: str
    retry_after: bool = False  # the answer had a Retry-After header


@dataclass(slots=True)
class HttpRequest:
    order: Order
    attempts: list[Attempt] = field(default_factory=list)
    final: str | None = None  # the outcome that ended it; None: gave up

    @property
    def answered(self) -> bool:
        return self.final is not None


class Balancer:
    """Round robin over the serve processes; one that refused a connection is passed
    over for a second, as a load balancer's health check would."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self._down_until: dict[str, float] = {}
        self._next = 0

    def pick(self) -> str:
        now = time.monotonic()
        for _ in range(len(self.urls)):
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
            if self._down_until.get(url, 0.0) <= now:
                return url
        return self.urls[self._next % len(self.urls)]

    def refused(self, url: str) -> None:
        if len(self.urls) > 1:
            self._down_until[url] = time.monotonic() + 1.0


class HttpLoad:
    def __init__(
        self,
        balancer: Balancer,
        token: str,
        orders: list[Order],
        *,
        clients: int,
        started: float,
        give_up_s: float,
    ) -> None:
        self.balancer = balancer
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.requests = [HttpRequest(order) for order in orders]
        self.clients = clients
        self.started = started
        self.give_up_s = give_up_s
        self.finished = 0

    @property
    def progress(self) -> float:
        return self.finished / len(self.requests) if self.requests else 1.0

    async def run(self) -> None:
        timeout = httpx.Timeout(ATTEMPT_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        limits = httpx.Limits(max_connections=self.clients * 2)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            await asyncio.gather(*(self._client(client, n) for n in range(self.clients)))

    async def _client(self, client: httpx.AsyncClient, n: int) -> None:
        for request in self.requests[n :: self.clients]:
            await self._until_answered(client, request)
            self.finished += 1

    async def _until_answered(self, client: httpx.AsyncClient, request: HttpRequest) -> None:
        body = request.order.http_body()
        deadline = time.monotonic() + self.give_up_s
        pause = FIRST_PAUSE_S
        while time.monotonic() < deadline:
            attempt = await self._attempt(client, body)
            request.attempts.append(attempt)
            if attempt.outcome in FINAL or attempt.outcome.startswith("4"):
                request.final = attempt.outcome  # a 4xx other than those is reported
                return
            if attempt.outcome == "refused":
                self.balancer.refused(attempt.url)
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)

    async def _attempt(self, client: httpx.AsyncClient, body: bytes) -> Attempt:
        url = self.balancer.pick()
        began = time.monotonic()
        retry_after = False
        try:
            answer = await client.post(f"{url}/v1/reservations", content=body, headers=self.headers)
            outcome = _outcome(answer)
            retry_after = "retry-after" in answer.headers
        except httpx.ConnectError:
            outcome = "refused"
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.TransportError:  # the connection dropped with the request on it
            outcome = "cut"
        ended = time.monotonic()
        return Attempt(began - self.started, ended - began, outcome, url, retry_after)


def _outcome(answer: httpx.Response) -> str:
    if answer.status_code in (200, 201):
        return str(answer.status_code)
    try:
        code = _problem.decode(answer.content).get("code")
    except msgspec.DecodeError:
        code = None
    return f"{answer.status_code}:{code}" if code else str(answer.status_code)
