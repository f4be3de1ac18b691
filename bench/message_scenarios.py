"""Reservations by message (spread and hot) and the broker ceiling, on the same number
of pre-published messages. The HTTP service is stopped first: nothing may consume
while the messages are published.

A drain of 20,000 messages lasts two to four seconds and single drains move by
±15 % from run to run, so the three run in rounds (bench/rounds.py), alternating
spread, hot and ceiling; each row shows the median round.
"""

from __future__ import annotations

import msgspec

from bench import exactness, messages, profiles
from bench.context import Context
from bench.report import Row
from bench.rounds import Rounds
from bench.seed import hot_balance
from service.messaging.topology import COMMANDS_QUEUE
from service.settings import Settings

# The service's default prefetch, which the ceiling consumer uses too.
PREFETCH: int = next(
    f.default for f in msgspec.structs.fields(Settings) if f.name == "consumer_prefetch"
)


async def message_scenarios(ctx: Context, *, drains: bool, ceiling: bool) -> None:
    """``drains``: the spread and hot drains; ``ceiling``: the broker ceiling."""
    await ctx.stop_service()
    rounds = Rounds()
    try:
        for n in range(ctx.options.rounds):
            if ctx.options.rounds > 1:
                print(f"- message round {n + 1} of {ctx.options.rounds}", flush=True)
            if drains:
                for kind in ("spread", "hot"):
                    rounds.add(n, await drain_scenario(ctx, kind, n))
            if ceiling:
                rounds.add(n, await broker(ctx, n))
    finally:
        for row in rounds.medians():
            ctx.add(row)


async def drain_scenario(ctx: Context, kind: str, round_no: int = 0) -> Row:
    count = ctx.options.messages
    hot = hot_balance() if kind == "hot" else None
    where = f"one hot SKU ({hot[1]} at {hot[0]})" if hot else "spread over the catalogue"
    print(f"- reservations by message, {where}: publish {count:,}, then drain", flush=True)
    prefix = f"bm-{kind}-{ctx.run_id}-{round_no}"
    batch = messages.reservation_messages(prefix, count, ctx.nskus, hot, seed=5 + round_no)
    published = await messages.publish(ctx.amqp_url, batch)
    waiting = (await messages.queue_depths(ctx.amqp_url, [COMMANDS_QUEUE]))[COMMANDS_QUEUE]
    drain = await messages.drain_with_worker(
        ctx.procs, ctx.tree, ctx.env(workers_in_process=False), ctx.dsn, ctx.amqp_url, prefix,
        count, profile=ctx.options.profile, workers=ctx.options.worker_procs,
    )  # fmt: skip
    print(f"    drain: {drain.rate:,.1f}/s", flush=True)
    if drain.stacks is not None:
        print(f"    worker profile: {drain.stacks}", flush=True)
        for share, task in profiles.summary(drain.stacks):
            print(f"      {share:5.1f} %  {task}", flush=True)
    row = Row(
        key=f"messages.{kind}",
        title=f"reservations by message, {kind}: drain",
        rate=round(drain.rate, 1),
        errors=(count - drain.decided) + drain.dead_lettered,
        ok=drain.confirmed,
        rejected=drain.decided - drain.confirmed,
        details={
            "messages": count,
            "published_per_s": round(published, 1),
            "waiting_before_drain": waiting,
            "drain_s": round(drain.seconds, 3),
            "left_in_queue": drain.left_in_queue,
            "dead_lettered": drain.dead_lettered,
        },
    )
    result = await exactness.check(
        ctx.dsn,
        ctx.procs,
        ctx.tree,
        ctx.env(),
        rows_sql="SELECT count(*) FROM reservations WHERE reservation_id LIKE $1",
        rows_args=(f"{prefix}-%",),
        answered=drain.confirmed,
        in_flight=0,
    )
    if waiting != count:
        result.problems.append(f"{waiting} messages waited in the queue, {count} were published")
    if drain.left_in_queue:
        result.problems.append(f"{drain.left_in_queue} messages left in the queue")
    row.exact = result.ok
    row.note = exactness.summary(result)
    row.details["exactness"] = {"rows": result.rows, "problems": result.problems}
    print(f"    {row.note}", flush=True)
    return row


async def broker(ctx: Context, round_no: int = 0) -> Row:
    count = ctx.options.messages
    print(
        f"- broker ceiling: decode and ack {count:,} pre-published messages, prefetch {PREFETCH}",
        flush=True,
    )
    batch = messages.reservation_messages(
        f"bc-{ctx.run_id}-{round_no}", count, ctx.nskus, hot_balance()
    )
    rate, consumed, seconds = await messages.broker_ceiling(
        ctx.procs, ctx.amqp_url, batch, PREFETCH
    )
    print(f"    ceiling: {rate:,.1f}/s", flush=True)
    return Row(
        key="ceiling.broker",
        title="ceiling: broker (decode + ack)",
        rate=round(rate, 1),
        errors=count - consumed,
        ok=consumed,
        details={"messages": count, "drain_s": seconds, "prefetch": PREFETCH},
    )
