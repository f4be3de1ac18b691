"""What the metrics tests send before they scrape, and how they read a scrape."""

from __future__ import annotations

import httpx
from aio_pika.abc import AbstractRobustConnection
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from tests.pickup_helpers import at_noon, booked, given_pickup_store
from tests.reservation_helpers import (
    Inbox,
    Publisher,
    create_body,
    create_message,
    dead_letters,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples_of(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(app: Litestar) -> httpx.Response:
    """GET /metrics without an API key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inventory.test") as http:
        return await http.get("/metrics")


async def traffic(client: httpx.AsyncClient, broker: AbstractRobustConnection) -> None:
    """Reservations over HTTP (one refused), a pickup booked, made ready and collected,
    a reservation by message, one poison message, and a path no route has."""
    await given_pickup_store(client, "ST-A", ("S1", 5))
    created = await client.post("/v1/reservations", json=create_body("r-1", "ST-A", ("S1", 1)))
    assert created.status_code == 201, created.text
    refused = await client.post("/v1/reservations", json=create_body("r-2", "ST-A", ("S1", 99)))
    assert refused.status_code == 409, refused.text
    assert (await client.get("/v1/availability/S1/locations/ST-A")).status_code == 200
    assert (await client.get("/no/such/route")).status_code == 404
    pickup = await booked(client, "P1", "ST-A", at_noon(1), ("S1", 1))
    assert (await client.post("/v1/pickups/P1/ready")).status_code == 200
    code = {"code": pickup["pickup_code"]}
    assert (await client.post("/v1/pickups/P1/collect", json=code)).status_code == 200
    publisher, inbox = await Publisher.open(broker), await Inbox.open(broker)
    try:
        await publisher.send(create_message("m-1", "r-3", "ST-A", ("S1", 1)), reply_to=inbox.name)
        await publisher.send(b"not json", routing_key="reservation.create", message_id="m-2")
        await inbox.wait_for(1)
        await dead_letters(broker, 1)
    finally:
        await inbox.close()
        await publisher.close()


def exported_names(text: str) -> set[str]:
    """Every sample name of a scrape, as a query names it (``_total``, ``_bucket``, …)."""
    return {name for name, _labels in samples_of(text)}
