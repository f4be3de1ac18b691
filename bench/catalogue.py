"""The benchmark catalogue: Nordic stores and warehouses, SKUs, and which store carries which.

Everything is a formula of small integers, so that the seeder (Python), the load
scripts (wrk's Lua) and pgbench's scripts pick existing balances the same way
without sharing a list of two million keys:

- SKU ``k`` (1-based) is ``SKU-%06d``; store ``s`` is ``ST-%04d``; warehouse ``w`` is ``WH-%02d``.
- Every warehouse carries every SKU.
- SKU ``k`` is carried by ``width(k)`` stores, the ``j``-th of which (``0 <= j < width(k)``)
  is ``(k * STRIDE_K + j * STRIDE_J) % STORES + 1``. ``STRIDE_J`` is prime to ``STORES``,
  so the stores of one SKU are distinct. ``width(k)`` runs over 10..60, 35 on average:
  with 5 warehouses a SKU has 40 balances, and the scale sets the number of SKUs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STORES = 300
WAREHOUSES = 5
STRIDE_K = 131
STRIDE_J = 7
STRIDE_J_INVERSE = 43  # 7 * 43 = 301 = 1 (mod 300)
WIDTH_BASE = 10
WIDTH_SPREAD = 51
BALANCES_PER_SKU = WAREHOUSES + WIDTH_BASE + (WIDTH_SPREAD - 1) // 2  # 40

# (city, latitude, longitude, timezone, weight: roughly its share of stores)
CITIES: list[tuple[str, float, float, str, int]] = [
    ("Oslo", 59.9139, 10.7522, "Europe/Oslo", 24),
    ("Bergen", 60.3913, 5.3221, "Europe/Oslo", 9),
    ("Trondheim", 63.4305, 10.3951, "Europe/Oslo", 7),
    ("Stavanger", 58.9700, 5.7331, "Europe/Oslo", 6),
    ("Kristiansand", 58.1599, 8.0182, "Europe/Oslo", 3),
    ("Tromsø", 69.6492, 18.9553, "Europe/Oslo", 2),
    ("Drammen", 59.7439, 10.2045, "Europe/Oslo", 3),
    ("Stockholm", 59.3293, 18.0686, "Europe/Stockholm", 36),
    ("Göteborg", 57.7089, 11.9746, "Europe/Stockholm", 16),
    ("Malmö", 55.6050, 13.0038, "Europe/Stockholm", 10),
    ("Uppsala", 59.8586, 17.6389, "Europe/Stockholm", 5),
    ("Västerås", 59.6099, 16.5448, "Europe/Stockholm", 4),
    ("Örebro", 59.2753, 15.2134, "Europe/Stockholm", 4),
    ("Linköping", 58.4108, 15.6214, "Europe/Stockholm", 4),
    ("Umeå", 63.8258, 20.2630, "Europe/Stockholm", 3),
    ("København", 55.6761, 12.5683, "Europe/Copenhagen", 30),
    ("Aarhus", 56.1629, 10.2039, "Europe/Copenhagen", 10),
    ("Odense", 55.4038, 10.4024, "Europe/Copenhagen", 6),
    ("Aalborg", 57.0488, 9.9217, "Europe/Copenhagen", 5),
    ("Esbjerg", 55.4765, 8.4594, "Europe/Copenhagen", 2),
    ("Helsinki", 60.1699, 24.9384, "Europe/Helsinki", 26),
    ("Espoo", 60.2055, 24.6559, "Europe/Helsinki", 8),
    ("Tampere", 61.4978, 23.7610, "Europe/Helsinki", 8),
    ("Turku", 60.4518, 22.2666, "Europe/Helsinki", 6),
    ("Oulu", 65.0121, 25.4651, "Europe/Helsinki", 4),
    ("Jyväskylä", 62.2426, 25.7473, "Europe/Helsinki", 3),
    ("Reykjavík", 64.1466, -21.9426, "Atlantic/Reykjavik", 4),
]

# (code, name, latitude, longitude, timezone)
WAREHOUSE_SITES: list[tuple[str, str, float, float, str]] = [
    ("WH-01", "Oslo Alnabru warehouse", 59.9360, 10.8430, "Europe/Oslo"),
    ("WH-02", "Stockholm Jordbro warehouse", 59.1650, 18.1300, "Europe/Stockholm"),
    ("WH-03", "Vantaa warehouse", 60.2934, 24.9860, "Europe/Helsinki"),
    ("WH-04", "Taastrup warehouse", 55.6517, 12.2925, "Europe/Copenhagen"),
    ("WH-05", "Göteborg Hisingen warehouse", 57.7480, 11.9000, "Europe/Stockholm"),
]


@dataclass(frozen=True, slots=True)
class Site:
    location_id: str
    kind: str
    name: str
    latitude: float
    longitude: float
    timezone: str


def sku_id(k: int) -> str:
    return f"SKU-{k:06d}"


def store_id(s: int) -> str:
    return f"ST-{s:04d}"


def width(k: int) -> int:
    """How many stores carry SKU ``k``."""
    return WIDTH_BASE + (k * 7) % WIDTH_SPREAD


def store_of(k: int, j: int) -> int:
    """The ``j``-th store (1-based number) that carries SKU ``k``."""
    return (k * STRIDE_K + j * STRIDE_J) % STORES + 1


def carries(s: int, k: int) -> bool:
    """Whether store ``s`` carries SKU ``k`` (the inverse of ``store_of``)."""
    j = ((s - 1 - k * STRIDE_K) * STRIDE_J_INVERSE) % STORES
    return j < width(k)


def skus_for_scale(balances: int) -> int:
    return max(50, round(balances / BALANCES_PER_SKU))


def sites(seed: int = 20261123) -> list[Site]:
    """The warehouses and the stores, stores scattered around cities by weight."""
    rng = random.Random(seed)
    found = [
        Site(code, "warehouse", name, lat, lon, tz) for code, name, lat, lon, tz in WAREHOUSE_SITES
    ]
    weights = [c[4] for c in CITIES]
    counts: dict[str, int] = {}
    for s in range(1, STORES + 1):
        city, lat, lon, tz, _ = CITIES[0] if s == 1 else rng.choices(CITIES, weights)[0]
        counts[city] = counts.get(city, 0) + 1
        found.append(
            Site(
                store_id(s),
                "store",
                f"{city} {counts[city]}",
                round(lat + rng.gauss(0, 0.04), 5),
                round(lon + rng.gauss(0, 0.08), 5),
                tz,
            )
        )
    return found


def lua_args() -> dict[str, int]:
    """The formula's constants, passed to the wrk scripts."""
    return {
        "stores": STORES,
        "stride_k": STRIDE_K,
        "stride_j": STRIDE_J,
        "width_base": WIDTH_BASE,
        "width_spread": WIDTH_SPREAD,
    }
