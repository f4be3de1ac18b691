"""Faults of the service's dependencies, each under HTTP load with reservation messages
arriving meanwhile: the database's connections reset and refused, the database
black-holed, the database restarted (a private cluster), the broker cut off.

During an outage a replica of the process that needs the missing dependency is
started, as an orchestrator would reschedule one: it should wait and become ready.
"""

from __future__ import annotations

import asyncio

from chaos import behaviour
from chaos.options import Size
from chaos.scene import Scene
from chaos.stack import Process, Stack
from chaos.verdict import Check

FAULT_AT = 0.3  # the fault starts when this share of the HTTP requests is answered
REPLICA_READY_WITHIN_S = 30.0  # after the outage, for the replica started during it


async def _under_load(scene: Scene, size: Size) -> None:
    await scene.stack.start("serve")
    await scene.stack.start("worker")
    scene.probe_readiness()
    scene.send_http(size.http_requests, size.clients)
    await scene.publish(size.live_messages, size.message_rate)
    await scene.http_progress(FAULT_AT)


async def database_refused(scene: Scene, size: Size) -> None:
    """Every database connection reset, new ones refused for ``outage_s``."""
    await _under_load(scene, size)
    stack = scene.stack
    async with scene.fault(f"database connections reset and refused for {size.outage_s:.0f}s") as w:
        cut = await stack.pg.command("count")
        await stack.pg.command("down")
        replicas = [await stack.start(role, wait=False) for role in ("serve", "worker")]
        await asyncio.sleep(size.outage_s)
        await stack.pg.command("up")
    scene.result.figures["connections_reset"] = cut
    await _after_database_outage(scene, w.start, w.over)
    scene.result.checks += [await _replica(stack, replica) for replica in replicas]


async def database_black_hole(scene: Scene, size: Size) -> None:
    """Nothing passes between the service and the database for ``hole_s``; nothing is
    closed either (packets dropped, then delivered again)."""
    await _under_load(scene, size)
    async with scene.fault(f"database black-holed for {size.hole_s:.0f}s") as w:
        held = await scene.stack.pg.command("hole")
        await asyncio.sleep(size.hole_s)
        await scene.stack.pg.command("flow")
    scene.result.figures["connections_held"] = held
    end = w.over
    await _recovery(scene, end)
    attempts = behaviour.attempts_in(scene.load.requests, w.start, end)
    scene.result.checks.append(behaviour.deadlines(attempts))
    scene.result.checks.append(behaviour.readiness(scene.readiness.probes, w.start, end))


async def database_restart(scene: Scene, size: Size) -> None:
    """The database (a private cluster) stopped fast and started again."""
    cluster = scene.cluster
    if cluster is None:
        raise RuntimeError("db-restart runs on a private cluster only")
    await _under_load(scene, size)
    async with scene.fault(f"database restarted ({size.restart_down_s:.0f}s down)") as w:
        down_s = await cluster.restart(size.restart_down_s)
    scene.result.figures["database_down_s"] = round(down_s, 2)
    await _after_database_outage(scene, w.start, w.over)


async def broker_cut(scene: Scene, size: Size) -> None:
    """The worker's broker connections cut and refused for ``outage_s``; HTTP goes on."""
    await _under_load(scene, size)
    stack = scene.stack
    async with scene.fault(f"broker cut for {size.outage_s:.0f}s") as w:
        cut = await stack.amqp.command("count")
        await stack.amqp.command("down")
        replica = await stack.start("worker", wait=False)
        await asyncio.sleep(size.outage_s)
        await stack.amqp.command("up")
    scene.result.figures["connections_cut"] = cut
    end = w.over
    baseline = await scene.decided()
    await scene.decided_reaches(min(baseline + 1, len(scene.messages)), within_s=120)
    resumed = scene.t() - end
    scene.result.figures["deciding_messages_again_after_s"] = round(resumed, 2)
    scene.result.checks.append(behaviour.recovered(round(resumed, 2), "message consumption"))
    scene.result.checks.append(await _replica(stack, replica))
    await scene.settle()
    attempts = behaviour.attempts_in(scene.load.requests, w.start, end)
    scene.result.checks.append(behaviour.unaffected(attempts, "the broker was cut"))


async def _after_database_outage(scene: Scene, start: float, end: float) -> None:
    await _recovery(scene, end)
    attempts = behaviour.attempts_in(scene.load.requests, start, end)
    refused = sum(1 for a in attempts if a.outcome[:1] == "5")
    scene.result.checks.append(behaviour.outage_answers(attempts))
    serve_logs = [p.log for p in scene.stack.serves if p.name == "serve-1"]
    scene.result.checks.append(behaviour.tracebacks(serve_logs, refused))
    scene.result.checks.extend(behaviour.outage_logged(log) for log in serve_logs)


async def _recovery(scene: Scene, end: float) -> None:
    seconds = await scene.answering_again(end)
    scene.result.figures["answering_after_fault_s"] = seconds
    scene.result.checks.append(behaviour.recovered(seconds, "HTTP reservations"))
    await scene.settle()


async def _replica(stack: Stack, replica: Process) -> Check:
    """What became of the replica started during the outage."""
    if not replica.running:
        last = _last_line(replica)
        return behaviour.replica_start(
            replica.name, f"exited with {replica.proc.returncode}: {last}"
        )
    try:
        await stack.ready(replica, REPLICA_READY_WITHIN_S)
    except RuntimeError as exc:
        return behaviour.replica_start(replica.name, f"{exc}: {_last_line(replica)}")
    return behaviour.replica_start(replica.name, "ready after the outage")


def _last_line(process: Process) -> str:
    lines = process.log.read_text(errors="replace").strip().splitlines()
    return lines[-1][:200] if lines else "(no output)"
