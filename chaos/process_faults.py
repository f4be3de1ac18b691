"""Faults of the service's own processes: ``kill -9`` and SIGTERM of the worker in the
middle of a drain and of serve under concurrent HTTP load, and two of each with one of
each killed. The suite restarts a killed or stopped process after ``RESTART_DELAY_S``,
as a supervisor would (except in the two-of-each scenario: the survivors carry on).
"""

from __future__ import annotations

import asyncio

from chaos import behaviour
from chaos.options import Size
from chaos.scene import Scene, Window
from chaos.verdict import Check

RESTART_DELAY_S = 1.0
GRACE_S = 30.0  # an orchestrator's usual grace between SIGTERM and SIGKILL
DRAIN_KILLS = (0.2, 0.45, 0.7)  # kill -9 when this share of the messages is decided
SERVE_KILLS = (0.3, 0.65)  # kill -9 when this share of the HTTP requests is answered


async def worker_kill9(scene: Scene, size: Size) -> None:
    """kill -9 of the worker three times while it drains pre-published messages."""
    stack = scene.stack
    await stack.start("serve")
    await scene.publish(size.drain_messages)
    scene.say(f"{size.drain_messages} messages published; worker starts draining")
    worker = await stack.start("worker", wait=False)
    kills = []
    for share in DRAIN_KILLS:
        await scene.decided_reaches(int(share * size.drain_messages))
        at_kill = await _mid_drain(scene, size.drain_messages)
        async with scene.fault("kill -9 of the worker") as window:
            stack.kill(worker)
            await worker.proc.wait()
            await asyncio.sleep(RESTART_DELAY_S)
            await stack.restart(worker, wait=False)
        progress = await _decisions_resume(scene, at_kill)
        kills.append(
            {
                "decided_at_kill": at_kill,
                "restarted_after_s": RESTART_DELAY_S,
                "deciding_again_after_s": round(progress - window.start, 2),
            }
        )
        scene.say(f"deciding again {progress - window.start:.1f}s after the kill")
    scene.result.figures["kills"] = kills


async def worker_sigterm(scene: Scene, size: Size) -> None:
    """SIGTERM of the worker in the middle of a drain: it finishes what it holds and stops."""
    stack = scene.stack
    await stack.start("serve")
    await scene.publish(size.drain_messages)
    worker = await stack.start("worker", wait=False)
    await scene.decided_reaches(int(0.4 * size.drain_messages))
    at_stop = await _mid_drain(scene, size.drain_messages)
    async with scene.fault("SIGTERM of the worker"):
        code, seconds = await stack.terminate(worker, GRACE_S)
        at_exit = await scene.decided()
        await asyncio.sleep(RESTART_DELAY_S)
        await stack.restart(worker, wait=False)
    scene.result.figures.update(
        decided_at_sigterm=at_stop,
        decided_at_exit=at_exit,
        stop_s=round(seconds, 2),
        exit_status=code,
    )
    await scene.settle()
    scene.result.checks.append(behaviour.graceful_stop(worker.name, code, seconds, GRACE_S))
    scene.result.checks.append(
        behaviour.no_duplicates(scene.observer.delivered, {o.reservation_id for o in scene.resent})
    )


async def serve_kill9(scene: Scene, size: Size) -> None:
    """kill -9 of serve under concurrent HTTP load; the clients retry with the same ids."""
    stack = scene.stack
    serve = await stack.start("serve")
    await stack.start("worker")
    scene.send_http(size.http_requests, size.clients)
    kills = []
    for share in SERVE_KILLS[: size.serve_kills]:
        await scene.http_progress(share)
        async with scene.fault("kill -9 of serve") as window:
            stack.kill(serve)
            await serve.proc.wait()
            await asyncio.sleep(RESTART_DELAY_S)
            ready_s = await stack.restart(serve)
        kills.append(await _http_recovery(scene, window, ready_s))
    await scene.settle()
    scene.result.figures["kills"] = kills
    for kill in kills:
        scene.result.checks.append(behaviour.recovered(kill["answering_after_ready_s"], "serve"))


async def serve_sigterm(scene: Scene, size: Size) -> None:
    """SIGTERM of serve under concurrent HTTP load: requests in flight are answered."""
    stack = scene.stack
    serve = await stack.start("serve")
    await stack.start("worker")
    scene.send_http(size.http_requests, size.clients)
    await scene.http_progress(0.4)
    async with scene.fault("SIGTERM of serve") as window:
        code, seconds = await stack.terminate(serve, GRACE_S)
        await asyncio.sleep(RESTART_DELAY_S)
        ready_s = await stack.restart(serve)
    recovery = await _http_recovery(scene, window, ready_s)
    await scene.settle()
    scene.result.figures.update(stop_s=round(seconds, 2), exit_status=code, **recovery)
    scene.result.checks.append(behaviour.graceful_stop(serve.name, code, seconds, GRACE_S))


async def two_of_each(scene: Scene, size: Size) -> None:
    """Two serve and two worker processes; kill -9 of one of each under load."""
    stack = scene.stack
    serves = [await stack.start("serve") for _ in range(2)]
    workers = [await stack.start("worker") for _ in range(2)]
    scene.send_http(size.http_requests, size.clients)
    await scene.publish(size.live_messages, size.message_rate)
    await scene.http_progress(0.4)
    async with scene.fault("kill -9 of serve-1 and worker-1 (not restarted)"):
        for victim in (serves[0], workers[0]):
            stack.kill(victim)
        await asyncio.gather(serves[0].proc.wait(), workers[0].proc.wait())
    await scene.settle()
    survivors = [p.name for p in (serves[1], workers[1]) if p.running]
    scene.result.checks.append(_survived(survivors))


def _survived(survivors: list[str]) -> Check:
    detail = f"the processes not killed kept running: {', '.join(survivors) or 'none'}"
    return Check.whole("survivors_carry_on", detail, held=len(survivors) == 2)


async def _mid_drain(scene: Scene, total: int) -> int:
    """Decided messages as a fault is about to hit; raises if the drain has already
    ended (the fault would then test nothing: the scenario is an ERROR, not a pass)."""
    decided = await scene.decided()
    if decided >= total:
        raise RuntimeError(f"the drain had ended ({decided} of {total}) before the fault")
    scene.say(f"{decided} of {total} messages decided as the fault hits")
    return decided


async def _decisions_resume(scene: Scene, baseline: int) -> float:
    """The scenario time at which a message is decided again after a fault."""
    await scene.decided_reaches(baseline + 1, within_s=120)
    return scene.t()


async def _http_recovery(scene: Scene, window: Window, ready_s: float) -> dict[str, float | None]:
    return {
        "down_s": round(window.over - window.start, 2),
        "ready_after_restart_s": round(ready_s, 2),
        "answering_after_ready_s": await scene.answering_again(window.over),
    }
