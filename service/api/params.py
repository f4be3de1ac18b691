"""Path, query and header parameters shared by the controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

LOCATION_ID_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,63}$"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

LocationIdPath = Annotated[
    str,
    PathParameter(
        pattern=LOCATION_ID_PATTERN,
        description="A location code such as ST-BERGEN-SENTRUM.",
    ),
]
SkuPath = Annotated[
    str,
    PathParameter(
        pattern=SKU_PATTERN,
        description="A stock-keeping unit such as SKU-100042.",
    ),
]
IdPath = Annotated[
    str,
    PathParameter(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="An identifier chosen by the client.",
    ),
]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Chosen by the caller per request; a repeat returns the first answer.",
    ),
]
