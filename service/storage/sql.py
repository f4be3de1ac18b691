"""Named SQL queries kept in ``.sql`` files beside the repositories.

A file holds blocks that each start with ``-- name: <query_name>``; the query
name equals the repository method that runs it. A line ``-- include: <file.sql>
<query_name>`` stands for that query's text (without its semicolon), so that a
statement can share one definition with another; the included query's parameters
keep their numbers ($1, $2, ...), and the statement numbers its own after them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
_INCLUDE = re.compile(r"^[ \t]*-- include: (\w+\.sql) (\w+)[ \t]*$", re.MULTILINE)


@cache
def load_queries(filename: str) -> dict[str, str]:
    text = (_HERE / filename).read_text()
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        queries[name] = _INCLUDE.sub(_included, body.strip())
    return queries


def _included(include: re.Match[str]) -> str:
    return load_queries(include[1])[include[2]].rstrip(";")


class Queries:
    """Attribute access to the named queries of one file: ``LEDGER.lock_balances``."""

    def __init__(self, filename: str) -> None:
        self._queries = load_queries(filename)

    def __getattr__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(name) from None
