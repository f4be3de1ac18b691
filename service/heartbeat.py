"""A heartbeat file: how a process without an HTTP port (``inventory worker``) tells a
container's health check that it is alive and ready.

``inventory worker --health-file FILE`` writes its readiness to FILE every few seconds:
``ok``, or what is wrong (``broker: reconnecting``). ``inventory heartbeat FILE`` passes
(exit 0) only when FILE is fresh and says ``ok``: a stale file is a process that stopped
beating (hung, or killed without its clean-up), a missing one a process that is not running.
The check reads one small file, so it costs no connection to the database or the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

INTERVAL_S = 5.0
MAX_AGE_S = 30.0  # six missed beats: a loop blocked that long is not serving


async def beat(
    path: Path, checks: Mapping[str, Callable[[], str]], interval_s: float = INTERVAL_S
) -> None:
    """Write the readiness of ``checks`` to ``path`` every ``interval_s`` until cancelled;
    then remove the file, so a stopped process never looks alive."""
    try:
        while True:
            _write(path, state(checks))
            await asyncio.sleep(interval_s)
    finally:
        _remove(path)


def state(checks: Mapping[str, Callable[[], str]]) -> str:
    """``ok`` when every check answers ``ok``; otherwise each failing one as ``name: answer``."""
    answers = {name: check() for name, check in checks.items()}
    return "; ".join(f"{name}: {a}" for name, a in answers.items() if a != "ok") or "ok"


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n")
    partial.replace(path)  # a rename: a reader never sees half a line


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def verdict(path: Path, max_age_s: float = MAX_AGE_S) -> str:
    """``ok``, or in one line why the heartbeat at ``path`` does not pass."""
    try:
        age = time.time() - path.stat().st_mtime
        text = path.read_text().strip()
    except FileNotFoundError:
        return f"no heartbeat at {path}: the process is not running (or has no --health-file)"
    if age > max_age_s:
        return f"the last beat is {age:.0f} s old (over {max_age_s:g} s): the process is stuck"
    return text


def add_heartbeat_command(commands: Any) -> None:
    """``inventory heartbeat FILE [--max-age S]``: the health check of a process that writes
    a heartbeat file (a container's HEALTHCHECK for ``inventory worker``)."""
    check = commands.add_parser(
        "heartbeat", help="exit 0 when a worker's --health-file is fresh and says ok"
    )
    check.add_argument("file", type=Path, help="the file given to inventory worker --health-file")
    check.add_argument("--max-age", type=float, default=MAX_AGE_S, help="seconds (default 30)")
    check.set_defaults(handler=_check)


def _check(_settings: object, args: argparse.Namespace) -> int:
    answer = verdict(args.file, args.max_age)
    print(f"heartbeat: {answer}")
    return 0 if answer == "ok" else 1
