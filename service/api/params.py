"""Path, query and header parameters shared by the controllers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from litestar.params import HeaderParameter, PathParameter


@dataclass(frozen=True, slots=True)
class PathText:
    """A path parameter's pattern and description, for route handlers and ASGI routes."""

    pattern: str
    description: str

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


LOCATION_ID = PathText(r"^[A-Z0-9][A-Z0-9-]{1,63}$", "A location code such as ST-BERGEN-SENTRUM.")
SKU = PathText(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "A stock-keeping unit such as SKU-100042.")
ID = PathText(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$", "An identifier chosen by the client.")

LocationIdPath = Annotated[
    str, PathParameter(pattern=LOCATION_ID.pattern, description=LOCATION_ID.description)
]
SkuPath = Annotated[str, PathParameter(pattern=SKU.pattern, description=SKU.description)]
IdPath = Annotated[str, PathParameter(pattern=ID.pattern, description=ID.description)]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Chosen by the caller per request; a repeat returns the first answer.",
    ),
]
