"""Statements that take many rows at once, as one typed array per column.

A statement's parameters are declared once, in a table: each scalar and each column of
each section of rows has its name, its SQL type and where its value comes from. Both the
placeholders of the SQL text and the argument list come from that table, so nothing is
matched by counting. In the SQL text, ``{name}`` stands for a scalar (``$n::type``) or
for a section of rows as a table of that name (``unnest($n::type[], ...) AS name
(column, ...)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_PATH = re.compile(r"([a-z_]\w*)(?:\.[a-z_]\w*|\[\d+\])*")


@dataclass(frozen=True, slots=True)
class Scalar:
    """One value of the statement: ``{name}`` becomes ``$n::sql_type``."""

    name: str
    sql_type: str


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a section. ``path`` reads its value from a row's parts with
    attributes and indexes, such as ``line.sku`` or ``key[1]``; by default the part of
    that name, or else the attribute of that name of the row's only part. ``encode``,
    when given, turns that value into the one sent."""

    name: str
    sql_type: str
    path: str | None = None
    encode: Callable[[Any], object] | None = None


class Rows:
    """A section of rows: ``{name}`` becomes a table of that name with these columns.

    ``parts`` names what each row given holds: ``"reservation"`` (the object itself) or
    ``"delta, actor"`` (a tuple of those). The last part may be ``"line in
    reservation.lines"``: each row given then makes one row per element of that path.
    Raises ValueError for a name that is not lower-case or a column that reads no part.
    """

    def __init__(self, name: str, parts: str, *columns: Column) -> None:
        self.name = name
        self.columns = columns
        names, each = _parts(parts)
        for word in (name, *names, *(c.name for c in columns)):
            if not _NAME.fullmatch(word):
                raise ValueError(f"{word!r} is not a lower-case name")
        encoders = {f"_encode{i}": c.encode for i, c in enumerate(columns) if c.encode}
        values = [
            f"_encode{i}({_path(c, names)})" if c.encode else _path(c, names)
            for i, c in enumerate(columns)
        ]
        given = names[:-1] if each else names
        loop = f"for {', '.join(given)} in rows"
        if each:
            loop += f" for {names[-1]} in {_checked(each, given, names[-1])}"
        # The rows as tuples, by a comprehension generated from the paths: as fast as a
        # hand-written one (a getter called per value costs about twice as much).
        self._tuples: Callable[[Iterable[Any]], list[tuple[object, ...]]] = eval(
            f"lambda rows: [({', '.join(values)},) {loop}]", encoders
        )  # made of checked names and paths only

    def arrays(self, rows: Iterable[Any]) -> list[list[object]]:
        """One list per column (empty lists for no rows)."""
        tuples = self._tuples(rows)
        if not tuples:
            return [[] for _ in self.columns]
        return [list(values) for values in zip(*tuples, strict=True)]


def _parts(parts: str) -> tuple[list[str], str | None]:
    """The names of a row's parts, and the path the last one is taken from, if any."""
    names = [p.strip() for p in parts.split(",")]
    last, _, each = names[-1].partition(" in ")
    names[-1] = last.strip()
    return names, each.strip() or None


def _path(column: Column, parts: list[str]) -> str:
    if column.path:
        return _checked(column.path, parts, column.name)
    if column.name in parts:
        return column.name
    if len(parts) > 1:
        raise ValueError(f"column {column.name}: which of {parts} holds it?")
    return _checked(f"{parts[0]}.{column.name}", parts, column.name)


def _checked(path: str, parts: list[str], what: str) -> str:
    """``path`` when it is attributes and indexes of one of ``parts``."""
    found = _PATH.fullmatch(path)
    if found is None or found[1] not in parts:
        raise ValueError(f"{what}: {path!r} reads none of {parts}")
    return path


class ArrayStatement:
    """The SQL text of ``template`` with its placeholders filled, and the arguments that
    go with it. Raises ValueError when the template and the table do not name the same
    parameters."""

    def __init__(self, template: str, *parameters: Scalar | Rows) -> None:
        self.parameters = parameters
        filled: dict[str, str] = {}
        number = 0
        for parameter in parameters:
            if isinstance(parameter, Scalar):
                number += 1
                filled[parameter.name] = f"${number}::{parameter.sql_type}"
                continue
            arrays = []
            for column in parameter.columns:
                number += 1
                arrays.append(f"${number}::{column.sql_type}[]")
            names = ", ".join(c.name for c in parameter.columns)
            filled[parameter.name] = f"unnest({', '.join(arrays)}) AS {parameter.name} ({names})"
        named = set(_PLACEHOLDER.findall(template))
        if named != set(filled) or len(filled) != len(parameters):
            raise ValueError(f"the statement names {sorted(named)}, its table {sorted(filled)}")
        self.sql = _PLACEHOLDER.sub(lambda m: filled[m[1]], template)

    def arguments(self, **values: Any) -> list[object]:
        """The arguments, from a value for each scalar and the rows (any iterable) of each
        section, by name. Raises KeyError for a parameter without a value."""
        if len(values) != len(self.parameters):
            raise KeyError(f"values for {sorted(values)}")
        found: list[object] = []
        for parameter in self.parameters:
            given = values[parameter.name]
            if isinstance(parameter, Scalar):
                found.append(given)
            else:
                found.extend(parameter.arrays(given))
        return found
