"""A statement's arrays are named and typed once: service/storage/arrays.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.storage.arrays import ArrayStatement, Column, Rows, Scalar


@dataclass
class Line:
    sku: str
    quantity: int


@dataclass
class Order:
    order_id: str
    lines: list[Line]


ORDERS = Rows("orders", "order", Column("order_id", "text"))
LINES = Rows(
    "order_lines",
    "order, line in order.lines",
    Column("order_id", "text", "order.order_id"),
    Column("sku", "text", "line.sku"),
    Column("quantity", "bigint", "line.quantity"),
)


def test_placeholders_become_numbered_typed_parameters_in_table_order() -> None:
    statement = ArrayStatement(
        "INSERT INTO t SELECT {at}, order_id FROM {orders}; SELECT {at}, sku FROM {order_lines}",
        Scalar("at", "timestamptz"),
        ORDERS,
        LINES,
    )
    assert statement.sql == (
        "INSERT INTO t SELECT $1::timestamptz, order_id FROM unnest($2::text[]) AS orders"
        " (order_id); SELECT $1::timestamptz, sku FROM unnest($3::text[], $4::text[],"
        " $5::bigint[]) AS order_lines (order_id, sku, quantity)"
    )


def test_arguments_are_taken_by_name_one_list_per_column() -> None:
    statement = ArrayStatement("{order_lines} {at} {orders}", ORDERS, Scalar("at", "date"), LINES)
    orders = [
        Order("o1", [Line("A", 1), Line("B", 2)]),
        Order("o2", []),
        Order("o3", [Line("C", 3)]),
    ]

    arguments = statement.arguments(order_lines=orders, orders=orders, at="today")

    assert arguments == [
        ["o1", "o2", "o3"],
        "today",
        ["o1", "o1", "o3"],
        ["A", "B", "C"],
        [1, 2, 3],
    ]


def test_no_rows_make_empty_arrays() -> None:
    statement = ArrayStatement("{order_lines}", LINES)
    assert statement.arguments(order_lines=[]) == [[], [], []]


def test_a_row_of_several_parts_is_a_tuple_read_by_paths_and_encoded() -> None:
    answers = Rows(
        "answers",
        "key, answer",
        Column("key", "text"),
        Column("status", "integer", "answer[0]"),
        Column("body", "text", "answer[1]", encode=str.upper),
    )
    assert answers.arrays({"k1": (201, "made"), "k2": (409, "taken")}.items()) == [
        ["k1", "k2"],
        [201, 409],
        ["MADE", "TAKEN"],
    ]


def test_a_statement_and_its_table_must_name_the_same_parameters() -> None:
    with pytest.raises(ValueError, match="names"):
        ArrayStatement("SELECT {at}", Scalar("at", "date"), ORDERS)
    with pytest.raises(ValueError, match="names"):
        ArrayStatement("SELECT {at}, {when}", Scalar("at", "date"))
    with pytest.raises(KeyError):
        ArrayStatement("{at} {orders}", Scalar("at", "date"), ORDERS).arguments(at=1)


@pytest.mark.parametrize(
    ("parts", "column"),
    [
        ("order", Column("total", "bigint", "invoice.total")),  # no such part
        ("order, line", Column("sku", "text")),  # which part holds it?
        ("order", Column("sku", "text", "order.lines[0].sku; drop table t")),
        ("order", Column("Sku", "text", "order.sku")),
    ],
)
def test_a_column_must_read_a_part_of_the_row_by_attributes_and_indexes(
    parts: str, column: Column
) -> None:
    with pytest.raises(ValueError, match=r"reads none|which of|lower-case"):
        Rows("orders", parts, column)
