"""Fresh resources for a run: the database (dropped and recreated, migrated by the
service, seeded) and the RabbitMQ vhost."""

from __future__ import annotations

from bench import catalogue as cat
from bench import seed
from bench.context import Context
from bench.options import CEILING_DATABASE, DATABASE, POSTGRES_BASE, VHOST


async def prepare_data(ctx: Context, balances: int) -> None:
    nskus = cat.skus_for_scale(balances)
    print(
        f"- database {DATABASE}: recreate, migrate, seed {nskus:,} SKUs "
        f"(about {nskus * cat.BALANCES_PER_SKU:,} balances)",
        flush=True,
    )
    await seed.recreate_database(POSTGRES_BASE, DATABASE)
    await seed.migrate(ctx.procs, ctx.tree, ctx.env())
    figures = await seed.seed(ctx.dsn, nskus)
    ctx.nskus = nskus
    ctx.extra.setdefault("seeds", []).append(figures)
    print(
        f"  seeded {figures['balances']:,} balances and as many receipts in {figures['seed_s']}s",
        flush=True,
    )


async def prepare_vhost(ctx: Context) -> None:
    print(f"- RabbitMQ vhost {VHOST}: recreate", flush=True)
    await seed.recreate_vhost(ctx.procs, VHOST)


async def remove_all(ctx: Context) -> None:
    await seed.drop_database(POSTGRES_BASE, DATABASE)
    await seed.drop_database(POSTGRES_BASE, CEILING_DATABASE)
    await seed.delete_vhost(ctx.procs, VHOST)
