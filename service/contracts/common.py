"""Constrained scalar types shared by every contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Sku = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="A product's stock-keeping unit, as the catalogue names it.",
        examples=["SKU-100042"],
    ),
]
LocationId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z0-9][A-Z0-9-]{1,63}$",
        description="A stable location code: upper-case letters, digits and dashes.",
        examples=["ST-BERGEN-SENTRUM"],
    ),
]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="Units, at least 1.")]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
SignedQuantity = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Identifier = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$", examples=["ord-2026-000123"])
]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class ShortLine(msgspec.Struct, kw_only=True):
    """A line that cannot be had: how many were asked for, how many are available."""

    sku: str
    requested: int
    available: int


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An ``application/problem+json`` body (RFC 9457) with a stable ``code``."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None
    errors: list[dict[str, object]] | None = None
    short_lines: list[ShortLine] | None = None
