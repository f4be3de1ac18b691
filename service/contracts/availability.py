"""Availability answers for the app and the webshop."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.contracts.common import Latitude, LocationId, Longitude, Quantity, Sku

StockStatus = Literal["in_stock", "low_stock", "out_of_stock"]


class LocationAvailability(msgspec.Struct, kw_only=True):
    location_id: str
    kind: str
    name: str
    on_hand: int
    reserved: int
    incoming: int
    available: int
    status: StockStatus


class SkuAvailability(msgspec.Struct, kw_only=True):
    sku: str
    total_available: int
    locations: list[LocationAvailability]


class NearbyStore(msgspec.Struct, kw_only=True):
    location_id: str
    name: str
    address: str
    latitude: float
    longitude: float
    distance_km: float
    pickup_offered: bool
    available: int
    status: StockStatus


class NearbyAvailability(msgspec.Struct, kw_only=True):
    sku: str
    stores: list[NearbyStore]


class CartLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity


class Near(msgspec.Struct, forbid_unknown_fields=True):
    lat: Latitude
    lon: Longitude
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)] = 30.0


class CartQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A cart against either named locations or the stores within a radius."""

    lines: Annotated[list[CartLine], msgspec.Meta(min_length=1, max_length=100)]
    location_ids: Annotated[list[LocationId], msgspec.Meta(min_length=1, max_length=500)] | None = (
        None
    )
    near: Near | None = None


class CartLineAvailability(msgspec.Struct, kw_only=True):
    sku: str
    requested: int
    available: int
    enough: bool


class CartLocation(msgspec.Struct, kw_only=True):
    location_id: str
    name: str
    kind: str
    distance_km: float | None
    pickup_offered: bool
    complete: bool
    lines: list[CartLineAvailability]


class CartAvailability(msgspec.Struct, kw_only=True):
    """Locations that can serve the whole cart come first, then nearest first."""

    locations: list[CartLocation]
