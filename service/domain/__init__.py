"""Pure business rules: no I/O, no asyncpg, litestar or aio_pika imports."""
