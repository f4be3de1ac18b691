"""Demo data: Nordic warehouses and stores, a few hundred SKUs, loaded through the
same use cases as real locations and movements (so it is validated and ledgered)."""

from __future__ import annotations

import random

from service.contracts.locations import LocationIn, OpeningHours, OpeningInterval
from service.contracts.stock import Movement, PostMovements, Receipt, Sale
from service.domain.access import Role
from service.storage.database import Database
from service.usecases.keys import ensure_keys
from service.usecases.locations import put_location
from service.usecases.stock import post_movements

WAREHOUSES = [
    ("WH-OSLO", "Oslo central warehouse", "Alnabruveien 15, 0668 Oslo", 59.9360, 10.8430, "Europe/Oslo"),
    ("WH-STOCKHOLM", "Stockholm warehouse", "Jordbrolänken 2, 137 37 Västerhaninge", 59.1650, 18.1300, "Europe/Stockholm"),
    ("WH-VANTAA", "Helsinki region warehouse", "Tikkurilantie 140, 01530 Vantaa", 60.2934, 24.9860, "Europe/Helsinki"),
]  # fmt: skip

# (code, name, address, lat, lon, timezone)
STORES = [
    ("ST-OSLO-KARL-JOHAN", "Oslo Karl Johan", "Karl Johans gate 23, 0159 Oslo", 59.9133, 10.7389, "Europe/Oslo"),
    ("ST-OSLO-STORO", "Oslo Storo", "Vitaminveien 7, 0485 Oslo", 59.9467, 10.7780, "Europe/Oslo"),
    ("ST-BERGEN-SENTRUM", "Bergen Sentrum", "Strandgaten 15, 5013 Bergen", 60.3943, 5.3221, "Europe/Oslo"),
    ("ST-TRONDHEIM", "Trondheim Torget", "Kongens gate 9, 7011 Trondheim", 63.4305, 10.3951, "Europe/Oslo"),
    ("ST-STAVANGER", "Stavanger Sentrum", "Klubbgata 5, 4013 Stavanger", 58.9700, 5.7331, "Europe/Oslo"),
    ("ST-TROMSO", "Tromsø Storgata", "Storgata 62, 9008 Tromsø", 69.6489, 18.9551, "Europe/Oslo"),
    ("ST-STOCKHOLM-CITY", "Stockholm City", "Drottninggatan 53, 111 21 Stockholm", 59.3326, 18.0649, "Europe/Stockholm"),
    ("ST-STOCKHOLM-SODER", "Stockholm Södermalm", "Götgatan 36, 118 26 Stockholm", 59.3150, 18.0722, "Europe/Stockholm"),
    ("ST-GOTEBORG", "Göteborg Nordstan", "Nordstadstorget 6, 411 05 Göteborg", 57.7089, 11.9690, "Europe/Stockholm"),
    ("ST-MALMO", "Malmö Triangeln", "Södra Förstadsgatan 41, 211 43 Malmö", 55.5940, 13.0007, "Europe/Stockholm"),
    ("ST-UPPSALA", "Uppsala Centrum", "Kungsgatan 42, 753 21 Uppsala", 59.8586, 17.6389, "Europe/Stockholm"),
    ("ST-COPENHAGEN-STROGET", "København Strøget", "Amagertorv 29, 1160 København", 55.6786, 12.5790, "Europe/Copenhagen"),
    ("ST-COPENHAGEN-NORREBRO", "København Nørrebro", "Nørrebrogade 52, 2200 København", 55.6900, 12.5530, "Europe/Copenhagen"),
    ("ST-AARHUS", "Aarhus Strøget", "Søndergade 43, 8000 Aarhus", 56.1537, 10.2069, "Europe/Copenhagen"),
    ("ST-ODENSE", "Odense Vestergade", "Vestergade 20, 5000 Odense", 55.3959, 10.3857, "Europe/Copenhagen"),
    ("ST-HELSINKI-KAMPPI", "Helsinki Kamppi", "Urho Kekkosen katu 1, 00100 Helsinki", 60.1688, 24.9316, "Europe/Helsinki"),
    ("ST-ESPOO", "Espoo Iso Omena", "Piispansilta 11, 02230 Espoo", 60.1617, 24.7380, "Europe/Helsinki"),
    ("ST-TAMPERE", "Tampere Keskusta", "Hämeenkatu 19, 33200 Tampere", 61.4978, 23.7610, "Europe/Helsinki"),
    ("ST-TURKU", "Turku Kauppatori", "Yliopistonkatu 22, 20100 Turku", 60.4518, 22.2666, "Europe/Helsinki"),
    ("ST-REYKJAVIK", "Reykjavík Laugavegur", "Laugavegur 77, 101 Reykjavík", 64.1436, -21.9192, "Atlantic/Reykjavik"),
]  # fmt: skip

# Demo API keys (development only): token = inv_<key_id>_<secret>.
DEMO_KEYS: list[tuple[str, str, Role, list[str]]] = [
    ("demoreader", "mobile app (demo)", "reader", []),
    ("demowebshop", "webshop (demo)", "webshop", []),
    ("demointegration", "ERP/WMS/POS (demo)", "integration", []),
    ("demostaff", "staff Oslo Karl Johan (demo)", "staff", ["ST-OSLO-KARL-JOHAN"]),
    ("demoadmin", "admin (demo)", "admin", []),
]
DEMO_SECRET = "not-a-secret-demo-only"

CATEGORIES = ["JACKET", "BOOTS", "SWEATER", "TENT", "LAMP", "KETTLE", "HEADPHONES", "BACKPACK"]
SKU_COUNT = 320


def _hours(
    weekday: tuple[str, str], saturday: tuple[str, str] | None, sunday: tuple[str, str] | None
) -> OpeningHours:
    day = [OpeningInterval(*weekday)]
    return OpeningHours(
        monday=day,
        tuesday=day,
        wednesday=day,
        thursday=day,
        friday=day,
        saturday=[OpeningInterval(*saturday)] if saturday else [],
        sunday=[OpeningInterval(*sunday)] if sunday else [],
    )


def demo_locations() -> list[tuple[str, LocationIn]]:
    located: list[tuple[str, LocationIn]] = []
    for code, name, address, lat, lon, tz in WAREHOUSES:
        hours = _hours(("06:00", "22:00"), ("08:00", "16:00"), None)
        warehouse = LocationIn(
            kind="warehouse",
            name=name,
            address=address,
            latitude=lat,
            longitude=lon,
            timezone=tz,
            opening_hours=hours,
        )
        located.append((code, warehouse))
    for index, (code, name, address, lat, lon, tz) in enumerate(STORES):
        sunday = ("12:00", "18:00") if tz in ("Europe/Stockholm", "Europe/Helsinki") else None
        store = LocationIn(
            kind="store",
            name=name,
            address=address,
            latitude=lat,
            longitude=lon,
            timezone=tz,
            opening_hours=_hours(("10:00", "20:00"), ("10:00", "18:00"), sunday),
            pickup_offered=index % 5 != 4,
            low_stock_threshold=3,
            default_safety_stock=1,
        )
        located.append((code, store))
    return located


def demo_skus() -> list[str]:
    return [f"SKU-{CATEGORIES[i % len(CATEGORIES)]}-{1000 + i}" for i in range(SKU_COUNT)]


def demo_movement_batches(seed: int = 7) -> list[list[Movement]]:
    """Receipts into every warehouse, sparse receipts into stores, a few sales."""
    rng = random.Random(seed)
    batches: list[list[Movement]] = []
    for code, *_ in WAREHOUSES:
        delivered: list[Movement] = [
            Receipt(sku=sku, location_id=code, quantity=rng.randint(20, 400), reference="PO-DEMO")
            for sku in demo_skus()
        ]
        batches.append(delivered)
    for code, *_ in STORES:
        carried = [sku for sku in demo_skus() if rng.random() < 0.45]
        batch: list[Movement] = [
            Receipt(sku=sku, location_id=code, quantity=rng.randint(1, 25), reference="DEL-DEMO")
            for sku in carried
        ]
        batch += [
            Sale(sku=sku, location_id=code, quantity=1, reference="POS-DEMO")
            for sku in rng.sample(carried, k=min(10, len(carried)))
        ]
        batches.append(batch)
    return batches


def demo_token(key_id: str) -> str:
    return f"inv_{key_id}_{DEMO_SECRET}"


async def ensure_demo_keys(db: Database) -> list[tuple[str, Role, str]]:
    """Create the demo keys if missing; returns (name, role, token) per key."""
    await ensure_keys(
        db, [(kid, name, role, where, DEMO_SECRET) for kid, name, role, where in DEMO_KEYS]
    )
    return [(name, role, demo_token(key_id)) for key_id, name, role, _ in DEMO_KEYS]


async def seed_demo(db: Database) -> int:
    """Load the demo data; safe to run twice (idempotency keys make repeats no-ops).
    Returns the number of movements in the demo batches."""
    for code, data in demo_locations():
        await put_location(db, code, data)
    total = 0
    for index, batch in enumerate(demo_movement_batches()):
        await post_movements(
            db,
            PostMovements(movements=batch),
            idempotency_key=f"seed-demo-{index}",
            caller="seed-demo",
            actor="seed-demo",
            max_batch=len(batch),
        )
        total += len(batch)
    return total
