"""The worker's heartbeat file: fresh and ``ok`` passes; stale, missing or failing does not."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from service.heartbeat import beat, state, verdict


def test_the_state_is_ok_only_when_every_check_is() -> None:
    assert state({"broker": lambda: "ok", "database": lambda: "ok"}) == "ok"
    failing = {"broker": lambda: "reconnecting", "database": lambda: "ok"}
    assert state(failing) == "broker: reconnecting"


async def test_a_beating_process_passes_and_a_stopped_one_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    beating = asyncio.create_task(beat(path, {"broker": lambda: "ok"}, interval_s=0.01))
    await asyncio.sleep(0.05)
    assert verdict(path) == "ok"
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)
    assert not path.exists()
    assert verdict(path).startswith("no heartbeat")


async def test_a_fresh_beat_that_is_not_ok_says_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    beating = asyncio.create_task(beat(path, {"broker": lambda: "waiting for the broker"}))
    await asyncio.sleep(0.01)
    assert verdict(path) == "broker: waiting for the broker"
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)


def test_a_stale_beat_does_not_pass_even_when_it_said_ok(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    path.write_text("ok\n")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert "over 30 s" in verdict(path, max_age_s=30)
