"""The named queries of service/storage/*.sql against the Python that runs them.

House rule: a query's name equals the repository method that runs it. The Python side
is read as source (AST), so a query that is only reached at run time in some rare path
is checked as well as the hot ones. A module runs the queries of one file through
``Q = Queries("file.sql")``; ``Q.name`` inside a method is a use by that method, and
``Q.name`` in a module-level constant is a use by every method that reads the constant.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.storage import sql
from service.storage.sql import load_queries

STORAGE = Path(sql.__file__).parent
QUERY_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@dataclass
class QueryUses:
    """Where one module uses the queries of its .sql file."""

    module: str
    sql_file: str
    by_function: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    outside_functions: set[str] = field(default_factory=set)

    @property
    def queries(self) -> set[str]:
        used = set(self.outside_functions)
        for names in self.by_function.values():
            used |= names
        return used


def _queries_variable(tree: ast.Module) -> tuple[str, str] | None:
    """(variable, sql file) of a module-level ``VAR = Queries("file.sql")``."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "Queries"
        ):
            (target,) = node.targets
            (argument,) = node.value.args
            assert isinstance(target, ast.Name)
            assert isinstance(argument, ast.Constant)
            return target.id, str(argument.value)
    return None


def _attributes_of(node: ast.AST, variable: str) -> set[str]:
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == variable
    }


def _uses(path: Path) -> QueryUses | None:
    tree = ast.parse(path.read_text())
    found = _queries_variable(tree)
    if found is None:
        return None
    variable, sql_file = found
    uses = QueryUses(path.name, sql_file)
    constants: dict[str, set[str]] = {}  # a module constant built from queries
    for node in tree.body:
        if isinstance(node, ast.Assign) and (names := _attributes_of(node.value, variable)):
            (target,) = node.targets
            assert isinstance(target, ast.Name), f"{path.name}: {ast.unparse(node)[:60]}"
            constants[target.id] = names
            uses.outside_functions |= names
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            here = uses.by_function[function.name]
            here |= _attributes_of(function, variable)
            for n in ast.walk(function):
                if isinstance(n, ast.Name) and n.id in constants:
                    here |= constants[n.id]
    return uses


def _all_uses() -> list[QueryUses]:
    return [u for p in sorted(STORAGE.glob("*.py")) if (u := _uses(p)) is not None]


def _defined(sql_file: str) -> list[str]:
    return QUERY_NAME.findall((STORAGE / sql_file).read_text())


@pytest.mark.parametrize("uses", _all_uses(), ids=lambda u: u.module)
def test_every_query_a_module_names_is_defined_in_its_sql_file(uses: QueryUses) -> None:
    assert uses.queries - set(_defined(uses.sql_file)) == set()


def test_every_query_of_every_sql_file_is_run_by_python() -> None:
    used = defaultdict(set)
    for uses in _all_uses():
        used[uses.sql_file] |= uses.queries
    unused = {
        f"{path.name}: {name}"
        for path in STORAGE.glob("*.sql")
        for name in _defined(path.name)
        if name not in used[path.name]
    }
    assert unused == set()


@pytest.mark.parametrize("uses", _all_uses(), ids=lambda u: u.module)
def test_each_query_is_run_from_the_one_method_of_its_own_name(uses: QueryUses) -> None:
    misnamed = {
        f"{function} runs {sorted(queries)}"
        for function, queries in uses.by_function.items()
        if queries and queries != {function}
    }
    assert misnamed == set()
    runners = defaultdict(list)
    for function, queries in uses.by_function.items():
        for name in queries:
            runners[name].append(function)
    assert {name: where for name, where in runners.items() if len(where) > 1} == {}


@pytest.mark.parametrize("sql_file", sorted(p.name for p in STORAGE.glob("*.sql")))
def test_no_query_name_is_defined_twice_and_every_file_loads(sql_file: str) -> None:
    names = _defined(sql_file)
    assert len(names) == len(set(names))
    assert sorted(load_queries(sql_file)) == sorted(names)


def test_a_flush_of_creates_locks_balances_with_the_ledgers_own_statement() -> None:
    balance_lock = load_queries("ledger.sql")["lock_existing_balances"].rstrip(";")
    assert balance_lock in load_queries("reservation_batch.sql")["lock_for_creates"]
    assert "-- include:" not in load_queries("reservation_batch.sql")["lock_for_creates"]
