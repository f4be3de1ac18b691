"""docs/operations.md lists every setting, as ``Settings`` declares it today."""

from __future__ import annotations

import msgspec
import pytest
from msgspec import inspect

from service.settings import Settings
from service.settings_doc import (
    BEGIN,
    DOCUMENT,
    END,
    MissingMeaning,
    described,
    document_with_table,
    settings_table,
)


def test_the_settings_table_in_operations_md_is_the_generated_one() -> None:
    document = DOCUMENT.read_text()
    assert document_with_table(document, settings_table()) == document, (
        "docs/operations.md's settings table is stale: run `python -m service.settings_doc --write`"
    )


def test_the_table_has_one_row_per_setting_with_its_default() -> None:
    rows = settings_table().splitlines()[2:]
    assert len(rows) == len(Settings.__struct_fields__)
    assert "| `INVENTORY_DB_POOL_MAX` | `10` | integer ≥ 1 |" in settings_table()
    assert "| `INVENTORY_PUBLIC_ORIGIN` | unset |" in settings_table()


def test_a_setting_without_a_meaning_is_refused_naming_its_variable() -> None:
    class Bare(msgspec.Struct):
        quiet_s: int = 1

    info = inspect.type_info(Bare)
    assert isinstance(info, inspect.StructType)
    field = info.fields[0]
    with pytest.raises(MissingMeaning, match="INVENTORY_QUIET_S"):
        described(field.name, field.type)


def test_the_markers_are_each_once_in_the_document() -> None:
    document = DOCUMENT.read_text()
    assert document.count(BEGIN) == 1
    assert document.count(END) == 1
