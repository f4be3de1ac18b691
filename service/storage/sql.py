"""Named SQL queries kept in ``.sql`` files beside the repositories.

A file holds blocks that each start with ``-- name: <query_name>``; the query
name equals the repository method that runs it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def load_queries(filename: str) -> dict[str, str]:
    text = (_HERE / filename).read_text()
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        queries[name] = body.strip()
    return queries


class Queries:
    """Attribute access to the named queries of one file: ``LEDGER.lock_balances``."""

    def __init__(self, filename: str) -> None:
        self._queries = load_queries(filename)

    def __getattr__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(name) from None
