"""The framework ceiling: a minimal Litestar app returning a constant JSON body, served
by granian exactly as ``inventory serve`` serves the service (ASGI, uvloop, no access
log, the same worker count).

    python -m bench.ceiling_app --port 8123 --workers 1
"""

from __future__ import annotations

import argparse

import msgspec
from litestar import Litestar, get, post
from litestar.params import JSONBody

from service.contracts.reservations import CreateReservation


class Answer(msgspec.Struct, kw_only=True):
    """About the size of a one-SKU availability answer."""

    location_id: str = "ST-0001"
    kind: str = "store"
    name: str = "Oslo 1"
    on_hand: int = 12
    reserved: int = 1
    incoming: int = 0
    available: int = 10
    status: str = "in_stock"


ANSWER = Answer()


@get("/")
async def constant() -> Answer:
    return ANSWER


@get("/v1/availability/{sku:str}/locations/{location_id:str}")
async def same_route(sku: str, location_id: str) -> Answer:
    """The one-SKU route's shape, so the ceiling runs under the very same wrk script
    (random URLs cost the load generator CPU on the same two cores)."""
    return ANSWER


@post("/v1/reservations", status_code=201)
async def reserve(data: JSONBody[CreateReservation]) -> Answer:
    """The reservation route's shape: the same body decoded into the service's own
    struct, a constant answer. What Litestar alone costs per reservation request."""
    return ANSWER


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[constant, same_route, reserve], logging_config=None, debug=False
    )


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    Granian(
        target="bench.ceiling_app:create_app",
        factory=True,
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
