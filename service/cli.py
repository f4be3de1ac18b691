"""The ``inventory`` command: serve, worker, heartbeat, migrate, seed-demo, verify-ledger,
keys, pickup-secrets, outbox status, dlq."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from service import cli_reports
from service.cli_dlq import add_dlq_commands
from service.cli_keys import add_key_commands, with_db
from service.heartbeat import add_heartbeat_command, beat
from service.logging import configure_logging, get_logger
from service.settings import Settings, SettingsError, load_settings, traces_exporter
from service.storage import migrations
from service.storage.database import Database
from service.storage.pool import connect, create_database_if_missing, create_pool

log = get_logger("service.cli")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        traces_exporter()  # a wrong OTEL_* tracing variable is refused here too, in one line
    except SettingsError as exc:
        print(f"inventory: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json=settings.environment == "production")
    command: Callable[[Settings, argparse.Namespace], int] = args.handler
    return command(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default=None, help="address to bind (INVENTORY_HOST)")
    serve.add_argument("--port", type=_port, default=None, help="port to bind (INVENTORY_PORT)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run the message consumer, outbox relay and expiry sweeper"
    )
    worker.add_argument(
        "--health-file", type=Path, help="write readiness here every 5 s (inventory heartbeat)"
    )
    worker.set_defaults(handler=lambda s, a: _run(_worker(s, a.health_file)))
    add_heartbeat_command(commands)

    policy = commands.add_parser(
        "broker-policy",
        help="set the broker policy that sends unroutable commands to a queue (rabbitmqctl)",
    )
    policy.set_defaults(handler=_broker_policy)

    migrate = commands.add_parser("migrate", help="apply pending migrations")
    migrate.set_defaults(handler=lambda s, a: _run(_migrate(s)))

    seed = commands.add_parser("seed-demo", help="load demo locations, SKUs and stock")
    seed.add_argument("--if-empty", action="store_true", help="only when there are no locations")
    seed.set_defaults(handler=lambda s, a: _run(_seed(s, if_empty=a.if_empty)))

    add_key_commands(commands, _run)

    pickup_secrets = commands.add_parser(
        "pickup-secrets",
        help="which pickup-code secrets the live pickups need (when the previous one can go)",
    )
    pickup_secrets.set_defaults(handler=lambda s, a: _run(cli_reports.pickup_secrets(s)))

    outbox = commands.add_parser("outbox", help="the outbox: what waits to be published")
    outbox_commands = outbox.add_subparsers(required=True, metavar="COMMAND")
    status = outbox_commands.add_parser(
        "status", help="events and replies waiting, and the age of the oldest"
    )
    status.set_defaults(handler=lambda s, a: _run(cli_reports.outbox_status(s)))
    add_dlq_commands(commands, _run)

    verify = commands.add_parser("verify-ledger", help="check every balance against its movements")
    verify.set_defaults(handler=lambda s, a: _run(_verify(s)))
    return parser


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvloop is not installed (Windows): asyncio's own loop
        return None
    return uvloop.new_event_loop


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError("a port is a number from 1 to 65535")
    return int(text)


def _run(work: Awaitable[int]) -> int:
    """Run a command on uvloop (as granian serves HTTP; about a fifth less CPU per
    consumed message than asyncio's own loop); any failure is one line on stderr and
    exit status 1."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(work)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"inventory: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    host = args.host or settings.host
    port = args.port or settings.port
    print(f"inventory: serving on http://{host}:{port}  (API docs: http://{host}:{port}/schema)")
    Granian(
        target="service.server:app_from_env",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=settings.http_workers,
        loop=Loops.uvloop,
        log_access=False,
        # granian's own lines go through the root logger, so production logs stay JSON
        log_dictconfig={
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {},
            "handlers": {},
            "loggers": {
                "_granian": {"handlers": [], "propagate": True},
                "granian.access": {"handlers": [], "propagate": True},
            },
        },
    ).serve()
    return 0


async def _worker(settings: Settings, health_file: Path | None) -> int:
    import signal

    from service import tracing
    from service.messaging.worker import Worker
    from service.observability.metrics_port import metrics_port_of
    from service.runtime import Runtime, freeze_heap

    tracing.configure(traces_exporter())  # before the worker builds its hooks
    runtime = await Runtime.start(settings, serves_reads=False)
    metrics_port = await metrics_port_of(runtime)  # INVENTORY_METRICS_PORT, when set
    worker = Worker(runtime)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    starting = asyncio.create_task(worker.start())  # waits while the broker is down
    stop = asyncio.create_task(stopping.wait())
    checks = {"broker": worker.broker_state, "database": runtime.listening}
    beating = [asyncio.create_task(beat(health_file, checks))] if health_file else []
    try:
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            freeze_heap()  # what start-up built lives as long as the process
            print("inventory: worker running (consumer, outbox relay, sweepers); Ctrl-C stops")
            await stop
    finally:
        for task in (starting, stop, *beating):
            task.cancel()
        await asyncio.gather(starting, stop, *beating, return_exceptions=True)
        await worker.stop()
        if metrics_port is not None:
            metrics_port.close()
        await runtime.stop()
        tracing.shutdown()  # export the last spans
    return 0


def _broker_policy(settings: Settings, _args: argparse.Namespace) -> int:
    """Set the alternate-exchange policy with the local ``rabbitmqctl``; without one, say
    what to run where the broker is."""
    import shutil
    import subprocess
    from urllib.parse import unquote, urlsplit

    from service.messaging.topology import policy_command

    vhost = unquote(urlsplit(settings.amqp_url).path[1:]) or "/"
    command = policy_command(vhost)
    if shutil.which("rabbitmqctl") is None:
        print("inventory: no rabbitmqctl here; on the broker run: " + " ".join(command))
        return 1
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        print(f"inventory: rabbitmqctl failed: {done.stderr.strip()}", file=sys.stderr)
        return 1
    print(f"inventory: unroutable commands go to the queue inventory.commands.unroutable ({vhost})")
    return 0


async def _migrate(settings: Settings) -> int:
    if await create_database_if_missing(settings.database_url):
        print("inventory: database created")
    conn = await connect(settings.database_url)
    try:
        applied = await migrations.migrate(conn)
    finally:
        await conn.close()
    print(
        f"inventory: {len(applied)} migration(s) applied"
        + (f": {', '.join(applied)}" if applied else "")
    )
    return 0


async def _seed(settings: Settings, *, if_empty: bool) -> int:
    from service.demo import seed_demo
    from service.usecases.locations import any_locations

    pool = await create_pool(settings.database_url)
    try:
        if if_empty and await any_locations(Database(pool)):
            print("inventory: locations exist already; demo data not loaded")
            return 0
        movements = await seed_demo(Database(pool))
    finally:
        await pool.close()
    print(f"inventory: demo data loaded ({movements} movements)")
    return 0


async def _verify(settings: Settings) -> int:
    from service.usecases.verify import verify_ledger

    async def work(db: Database) -> int:
        problems = await verify_ledger(db)
        if not problems:
            print(
                "inventory: ledger verified: every balance equals the sum of its movements "
                "and reserved equals its active reservations"
            )
            return 0
        for line in problems:
            print(line)
        print(f"inventory: ledger does NOT verify: {len(problems)} problem(s)", file=sys.stderr)
        return 1

    return await with_db(settings, work)
