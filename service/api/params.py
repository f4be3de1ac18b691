"""Path, query and header parameters shared by the controllers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar.exceptions import ValidationException
from litestar.params import HeaderParameter, PathParameter, QueryParameter


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
        description=(
            "Chosen by the caller per request; a repeat returns the first answer. Keys are "
            "each API key's own (a key and the keys that replaced it): another caller's "
            "key of the same name is another request."
        ),
    ),
]

# A calendar day in a query: a store's local day. Days far off overflow date arithmetic
# (9999-12-31 plus a day) or PostgreSQL's range (0001-01-01 in Europe/Oslo is in 1 BC),
# so the service answers days of 2000 to 2999 and refuses others as a bad parameter.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_DAY_RANGE = {"pattern": r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}$"}  # documents FIRST_DAY..LAST_DAY


def local_day(name: str, description: str) -> Any:
    """A query parameter holding a day; pass its value to ``day_in_range``."""
    return QueryParameter(
        name=name, description=f"{description}; 2000-01-01 to 2999-12-31", schema_extra=_DAY_RANGE
    )


def day_in_range(value: date | None, name: str) -> date | None:
    """``value``, if in range. Raises ValidationException (400, ``invalid_parameter``
    naming ``name``, as Litestar refuses any other bad query parameter)."""
    if value is None or FIRST_DAY <= value <= LAST_DAY:
        return value
    message = f"Expected a day from {FIRST_DAY} to {LAST_DAY}"
    raise ValidationException(
        detail=f"Validation failed for query parameter {name!r}",
        extra=[{"message": message, "key": name, "source": "query"}],
    )
