"""A scenario's own resources: a database (a copy of the run's template, or built in
the private cluster), a vhost, a fault proxy in front of each; removed at the end
unless ``--keep``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from chaos import broker, data
from chaos.broker import Observer
from chaos.cluster import PrivateCluster
from chaos.context import Context
from chaos.proxies import Proxy
from chaos.scene import Scene
from chaos.stack import Stack
from chaos.verdict import Result


@contextlib.asynccontextmanager
async def scene(
    ctx: Context, result: Result, cluster: PrivateCluster | None = None
) -> AsyncIterator[Scene]:
    """A scenario's own database (a copy of the template, or built in ``cluster``),
    vhost and proxies; everything removed at the end unless ``--keep``."""
    slug = result.name
    database, vhost = f"chaos_{ctx.run_id}_{slug.replace('-', '_')}", f"chaos-{ctx.run_id}-{slug}"
    if cluster is None:
        base, pg_port = data.SHARED_BASE, 5432
        await data.copy(base, ctx.template, database)
    else:
        base, pg_port = cluster.base_url, cluster.port
        await data.build(ctx.procs, ctx.tree, base, database)
    await data.recreate_vhost(ctx.procs, vhost)
    direct_amqp = f"{data.AMQP_BASE}/{vhost}"
    opened: Scene | None = None
    try:
        pg = await Proxy.start(f"{slug}-pg", pg_port, ctx.log_dir)
        amqp = await Proxy.start(f"{slug}-amqp", 5672, ctx.log_dir)
        stack = Stack(
            ctx.procs,
            ctx.tree,
            slug,
            ctx.log_dir,
            f"{base}/{database}",
            direct_amqp,
            database,
            vhost,
            pg,
            amqp,
        )
        await broker.prepare(direct_amqp)
        opened = Scene(ctx, result, stack, await Observer.open(direct_amqp), cluster=cluster)
        yield opened
    finally:
        if opened is not None:
            await opened.close()
        if not ctx.options.keep:
            with contextlib.suppress(Exception):
                await data.drop_database(base, database)
            with contextlib.suppress(Exception):
                await data.delete_vhost(ctx.procs, vhost)
