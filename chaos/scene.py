"""One scenario while it runs: its stack, its clock, its workload, its observers, the
windows of its faults; then the settling and the invariants every scenario checks.

A scenario (chaos/scenarios.py) only says what load to send, which fault to inject and
when, and which promises of its own to check; everything else is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from bench.exactness import verify_ledger
from bench.procs import clean_env
from chaos import behaviour, broker, data, facts, invariants
from chaos.broker import Observer, Publisher
from chaos.cluster import PrivateCluster
from chaos.context import Context
from chaos.http_load import Balancer, HttpLoad
from chaos.probes import ReadinessProbe
from chaos.stack import Stack
from chaos.verdict import Result
from chaos.workload import Order, orders

SETTLE_WITHIN_S = 120.0  # after the last fault: everything answered, decided, published
QUIET_S = 2.0  # no event or reply for this long: the observer has seen everything
GIVE_UP_S = 180.0  # an HTTP client stops retrying a request after this long
RESEND_EVERY = 25  # every 25th message is published twice (same id, same body)


@dataclass
class Window:
    name: str
    start: float  # seconds since the scenario's start
    end: float | None = None  # set when the fault is over

    @property
    def over(self) -> float:
        if self.end is None:
            raise RuntimeError(f"the fault {self.name!r} is still on")
        return self.end


@dataclass
class Scene:
    ctx: Context
    result: Result
    stack: Stack
    observer: Observer
    started: float = field(default_factory=time.monotonic)
    windows: list[Window] = field(default_factory=list)
    http: HttpLoad | None = None
    messages: list[Order] = field(default_factory=list)
    resent: list[Order] = field(default_factory=list)  # published twice
    probe: ReadinessProbe | None = None
    cluster: PrivateCluster | None = None  # the private PostgreSQL the scenario runs on
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    # -- the clock and what happened when -----------------------------------

    def t(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        print(f"    [{self.t():6.1f}s] {text}", flush=True)

    @contextlib.asynccontextmanager
    async def fault(self, name: str) -> AsyncIterator[Window]:
        """The window of a fault: from its injection to its end."""
        window = Window(name, self.t())
        self.windows.append(window)
        self.say(f"fault: {name}")
        try:
            yield window
        finally:
            window.end = self.t()
            self.say(f"fault over: {name} ({window.end - window.start:.1f}s)")
            faults = self.result.figures.setdefault("faults", [])
            faults.append(f"{name} at {window.start:.1f}s, {window.end - window.start:.1f}s")

    @property
    def last_fault_end(self) -> float:
        return max((w.end or w.start for w in self.windows), default=0.0)

    # -- the workload --------------------------------------------------------

    @property
    def load(self) -> HttpLoad:
        """The HTTP load, once ``send_http`` started it."""
        if self.http is None:
            raise RuntimeError("this scenario sends no HTTP load")
        return self.http

    @property
    def readiness(self) -> ReadinessProbe:
        if self.probe is None:
            raise RuntimeError("this scenario probes no readiness")
        return self.probe

    def send_http(self, count: int, clients: int) -> HttpLoad:
        """Start ``count`` reservations from ``clients`` clients, round robin over every
        serve process started so far."""
        prefix = f"{self.result.name}-h"
        balancer = Balancer([p.url for p in self.stack.serves])
        self.http = HttpLoad(
            balancer,
            data.TOKEN,
            orders(prefix, count, seed=1),
            clients=clients,
            started=self.started,
            give_up_s=GIVE_UP_S,
        )
        self._tasks.append(asyncio.create_task(self.http.run(), name="http-load"))
        self.result.figures.update(http_requests=count, http_clients=clients)
        return self.http

    async def publish(self, count: int, per_s: float | None = None) -> None:
        """Publish ``count`` reservation messages: all now (``per_s`` None; returns when
        the broker confirmed them) or paced, in the background. Then every
        ``RESEND_EVERY``-th of them once more, unchanged, as a publisher does that
        never got its confirm: each must be answered as the first time."""
        batch = orders(f"{self.result.name}-m{len(self.messages)}", count, seed=2)
        self.messages += batch
        resent = batch[::RESEND_EVERY]
        self.resent += resent
        self.result.figures.update(messages=len(self.messages), messages_resent=len(self.resent))
        publisher = await Publisher.open(self.stack.direct_amqp)

        async def send() -> None:
            try:
                if per_s is None:
                    await publisher.publish(batch + resent)
                else:
                    await publisher.publish_paced(batch + resent, per_s)
            finally:
                await publisher.close()

        if per_s is None:
            await send()
        else:
            self._tasks.append(asyncio.create_task(send(), name="publisher"))

    def probe_readiness(self) -> ReadinessProbe:
        self.probe = ReadinessProbe([p.url for p in self.stack.serves], self.started)
        self._tasks.append(asyncio.create_task(self.probe.run_forever(), name="probe"))
        return self.probe

    # -- waiting -------------------------------------------------------------

    async def until(self, what: str, done: Callable[[], Awaitable[bool]], within_s: float) -> None:
        deadline = time.monotonic() + within_s
        while not await done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not within {within_s:.0f}s")
            await asyncio.sleep(0.02)

    async def http_progress(self, fraction: float, within_s: float = 300) -> None:
        load = self.load

        async def reached() -> bool:
            return load.progress >= fraction

        await self.until(f"HTTP load at {fraction:.0%}", reached, within_s)

    async def answering_again(self, since: float, within_s: float = 120) -> float | None:
        """Seconds from ``since`` to the end of the first HTTP request answered after it
        (None when the load ended first)."""
        load = self.load

        async def answered() -> bool:
            return behaviour.recovery(load.requests, since) is not None or load.progress >= 1

        await self.until("an HTTP answer after the fault", answered, within_s)
        return behaviour.recovery(load.requests, since)

    async def decided(self) -> int:
        conn = await asyncpg.connect(self.stack.direct_dsn)
        try:
            return await facts.decided_count(conn, f"{self.result.name}-m")
        finally:
            await conn.close()

    async def decided_reaches(self, count: int, within_s: float = 300) -> None:
        conn = await asyncpg.connect(self.stack.direct_dsn)
        try:

            async def reached() -> bool:
                return await facts.decided_count(conn, f"{self.result.name}-m") >= count

            await self.until(f"{count} messages decided", reached, within_s)
        finally:
            await conn.close()

    # -- settling and the common invariants ----------------------------------

    async def settle(self) -> bool:
        """Wait until the load is answered, every message decided, the outbox empty, the
        command queue empty and the observer quiet; False if that took too long."""
        began = self.t()
        deadline = time.monotonic() + SETTLE_WITHIN_S
        workload = [t for t in self._tasks if t.get_name() in ("http-load", "publisher")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*workload), SETTLE_WITHIN_S)
        conn = await asyncpg.connect(self.stack.direct_dsn)
        try:
            while time.monotonic() < deadline:
                waiting = await broker.depths(self.stack.direct_amqp)
                if (
                    await facts.decided_count(conn, f"{self.result.name}-m") >= len(self.messages)
                    and await facts.outbox_count(conn) == 0
                    and not any(waiting.values())
                ):
                    break
                await asyncio.sleep(0.2)
            else:
                return False
        finally:
            await conn.close()
        quiet = await self.observer.quiet(QUIET_S, max(1.0, deadline - time.monotonic()))
        self.result.figures.setdefault("settle_s", round(self.t() - began, 1))
        return quiet

    async def check_invariants(self) -> None:
        settled = await self.settle()
        if not settled:
            self.say(f"not settled within {SETTLE_WITHIN_S:.0f}s: the checks say what is missing")
        found = await facts.read(self.stack.direct_dsn, f"{self.result.name}-")
        env = clean_env({"INVENTORY_DATABASE_URL": self.stack.direct_dsn})
        verified, line = await verify_ledger(self.ctx.procs, self.ctx.tree, env)
        delivered = self.observer.delivered
        http = self.http.requests if self.http else []
        checks = self.result.checks
        if self.http:
            self._attempt_figures()
            checks += invariants.http_exactly_once(http, found, GIVE_UP_S)
        if self.messages:
            checks += invariants.message_exactly_once(self.messages, found)
            checks += invariants.replies(delivered, self.messages)
        checks += invariants.ledger(found, verified, line)
        checks.append(invariants.queues(await broker.depths(self.stack.direct_amqp)))
        checks.append(invariants.event_ids(delivered))
        checks += invariants.events_match_changes(delivered, found, http, self.messages)
        self.result.figures["reservations_created"] = len(found.reservations)

    def _attempt_figures(self) -> None:
        every = [a for r in self.load.requests for a in r.attempts]
        self.result.figures.update(
            http_attempts=len(every),
            http_retried_requests=sum(1 for r in self.load.requests if len(r.attempts) > 1),
            http_answers=behaviour.outcomes(every),
        )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stack.stop_all()
        await self.observer.close()
