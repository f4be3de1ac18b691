"""The known workload: reservations, each with an id of its own, the same list every
run (a seeded random generator), sent over HTTP or as ``reservation.create`` messages.

About one in ten asks for the scarce SKU, which runs out during the workload, so that
refusals (409 ``insufficient_stock``, ``reservation.rejected``) are part of every
scenario and an oversell under a fault would show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import msgspec

from chaos import data

TTL_S = 86_400  # nothing expires while a scenario runs
SCARCE_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Order:
    reservation_id: str  # also the message id of the message that carries it
    location_id: str
    lines: tuple[tuple[str, int], ...]

    def http_body(self) -> bytes:
        return msgspec.json.encode(
            {
                "reservation_id": self.reservation_id,
                "location_id": self.location_id,
                "lines": [{"sku": sku, "quantity": q} for sku, q in self.lines],
                "ttl_seconds": TTL_S,
            }
        )

    def message_body(self) -> bytes:
        return msgspec.json.encode(
            {
                "type": "reservation.create",
                "message_id": self.reservation_id,
                "reservation_id": self.reservation_id,
                "location_id": self.location_id,
                "lines": [{"sku": sku, "quantity": q} for sku, q in self.lines],
                "ttl_seconds": TTL_S,
            }
        )

    @property
    def units(self) -> dict[str, int]:
        return dict(self.lines)


def orders(prefix: str, count: int, seed: int) -> list[Order]:
    """``count`` orders with ids ``<prefix>-<n>``; the same list for the same seed."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        rid = f"{prefix}-{n}"
        if rng.random() < SCARCE_SHARE:
            found.append(Order(rid, data.STORES[0], ((data.SCARCE_SKU, 1),)))
            continue
        skus = rng.sample(data.SKUS, rng.randint(1, 3))
        lines = tuple((sku, rng.randint(1, 3)) for sku in sorted(skus))
        found.append(Order(rid, rng.choice(data.STORES), lines))
    return found
