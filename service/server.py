"""The served application, composed: the HTTP app and, when the serve process runs
one (``INVENTORY_RUN_WORKERS_IN_PROCESS``), the message worker beside it. The ASGI
server's entry point (``service.server:app_from_env``, a factory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from service import tracing
from service.api.app import create_app
from service.logging import configure_logging
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import load_settings, traces_exporter


def app_from_env() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, json=settings.environment == "production")
    # In each server process, before the app is built (it installs the tracing hooks
    # then); the SDK exports what is pending when the process exits.
    tracing.configure(traces_exporter())
    return create_app(settings, beside=worker if settings.run_workers_in_process else None)


@asynccontextmanager
async def worker(runtime: Runtime) -> AsyncIterator[None]:
    """The worker, for as long as the app serves (stopped gracefully before the runtime).
    It starts in the background: the app serves, and reports not ready, while the
    broker does not answer yet."""
    running = Worker(runtime)
    runtime.checks["broker"] = running.broker_state
    starting = asyncio.create_task(running.start(), name="worker-start")
    try:
        yield
    finally:
        if not starting.done():
            starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await running.stop()
