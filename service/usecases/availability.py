"""Availability for the app and the webshop, served from the in-process read model."""

from __future__ import annotations

from service.contracts.availability import (
    CartAvailability,
    CartLineAvailability,
    CartLocation,
    CartQuery,
    LocationAvailability,
    NearbyAvailability,
    NearbyStore,
    SkuAvailability,
)
from service.domain.errors import InvalidInput, LocationNotFound
from service.domain.geo import distance_km
from service.domain.ledger import Balance, status
from service.domain.locations import Location
from service.storage.read_model import ReadModel


def _location_availability(location: Location, balance: Balance | None) -> LocationAvailability:
    if balance is None:
        balance = Balance(location.location_id, "", safety_stock=location.default_safety_stock)
    units = balance.available
    return LocationAvailability(
        location_id=location.location_id,
        kind=location.kind,
        name=location.name,
        on_hand=balance.on_hand,
        reserved=balance.reserved,
        incoming=balance.incoming,
        available=units,
        status=status(units, location.low_stock_threshold),
    )


async def sku_availability(model: ReadModel, sku: str, kind: str | None = None) -> SkuAvailability:
    """Every active location's figures for ``sku`` (an unknown SKU is out of stock everywhere)."""
    locations = await model.current_locations()
    balances = await model.balances.of_sku(sku)
    rows = [
        _location_availability(loc, balances.get(loc.location_id))
        for loc in locations.by_id.values()
        if loc.active and (kind is None or loc.kind == kind)
    ]
    return SkuAvailability(sku=sku, total_available=sum(r.available for r in rows), locations=rows)


async def location_availability(
    model: ReadModel, sku: str, location_id: str
) -> LocationAvailability:
    """Raises LocationNotFound."""
    location = await _location(model, location_id)
    balances = await model.balances.of_sku(sku)
    return _location_availability(location, balances.get(location_id))


def location_availability_in_memory(
    model: ReadModel, sku: str, location_id: str
) -> LocationAvailability | None:
    """``location_availability``'s answer when memory alone holds it (change feed up,
    SKU cached, location known), else None: the caller then asks the async path."""
    balances = model.balances.cached(sku)
    location = model.locations.get(location_id)
    if balances is None or location is None:
        return None
    return _location_availability(location, balances.get(location_id))


async def _location(model: ReadModel, location_id: str) -> Location:
    locations = await model.current_locations()
    location = locations.get(location_id)
    if location is None:  # created a moment ago on another replica?
        await locations.load()
        location = locations.get(location_id)
    if location is None:
        raise LocationNotFound(f"location {location_id!r} does not exist", field="location_id")
    return location


async def nearby(
    model: ReadModel,
    sku: str,
    *,
    lat: float,
    lon: float,
    radius_km: float,
    limit: int,
    min_quantity: int = 1,
) -> NearbyAvailability:
    """Active stores within ``radius_km`` that have at least ``min_quantity``, nearest first."""
    locations = await model.current_locations()
    balances = await model.balances.of_sku(sku)
    found: list[NearbyStore] = []
    for store in locations.stores:
        balance = balances.get(store.location_id)
        if balance is None or balance.available < min_quantity:
            continue
        distance = distance_km(lat, lon, store.latitude, store.longitude)
        if distance <= radius_km:
            found.append(_nearby_store(store, balance, distance))
    found.sort(key=lambda s: (s.distance_km, s.location_id))
    return NearbyAvailability(sku=sku, stores=found[:limit])


def _nearby_store(store: Location, balance: Balance, distance: float) -> NearbyStore:
    return NearbyStore(
        location_id=store.location_id,
        name=store.name,
        address=store.address,
        latitude=store.latitude,
        longitude=store.longitude,
        distance_km=round(distance, 3),
        pickup_offered=store.pickup_offered,
        available=balance.available,
        status=status(balance.available, store.low_stock_threshold),
    )


async def cart_availability(model: ReadModel, query: CartQuery) -> CartAvailability:
    """Each candidate location's figures per line; whole-cart locations first, then nearest.

    Raises InvalidInput when neither or both of ``location_ids`` and ``near`` are given,
    LocationNotFound for an unknown location id.
    """
    if (query.location_ids is None) == (query.near is None):
        raise InvalidInput("give either location_ids or near", field="location_ids")
    candidates = await _cart_candidates(model, query)
    requested: dict[str, int] = {}
    for line in query.lines:
        requested[line.sku] = requested.get(line.sku, 0) + line.quantity
    balances = await model.balances.of_skus(list(requested))
    answers = [_cart_location(loc, dist, requested, balances) for loc, dist in candidates]
    answers.sort(key=lambda a: (not a.complete, a.distance_km or 0.0, a.location_id))
    return CartAvailability(locations=answers)


async def _cart_candidates(
    model: ReadModel, query: CartQuery
) -> list[tuple[Location, float | None]]:
    if query.location_ids is not None:
        return [(await _location(model, lid), None) for lid in dict.fromkeys(query.location_ids)]
    near = query.near
    assert near is not None
    candidates: list[tuple[Location, float | None]] = []
    for store in (await model.current_locations()).stores:
        distance = distance_km(near.lat, near.lon, store.latitude, store.longitude)
        if distance <= near.radius_km:
            candidates.append((store, round(distance, 3)))
    return candidates


def _cart_location(
    location: Location,
    distance: float | None,
    requested: dict[str, int],
    balances: dict[str, dict[str, Balance]],
) -> CartLocation:
    lines = []
    for sku, quantity in requested.items():
        balance = balances[sku].get(location.location_id)
        units = balance.available if balance else 0
        lines.append(
            CartLineAvailability(
                sku=sku, requested=quantity, available=units, enough=units >= quantity
            )
        )
    return CartLocation(
        location_id=location.location_id,
        name=location.name,
        kind=location.kind,
        distance_km=distance,
        pickup_offered=location.pickup_offered,
        complete=all(line.enough for line in lines),
        lines=lines,
    )
