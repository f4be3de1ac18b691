"""PostgreSQL through asyncpg: pool, unit of work, named SQL, repositories, migrations."""
