"""Names of the database constraints the service acts on, as the migrations name them.

errors.py turns the rules a client's input can break into domain errors by these names;
database.py retries the unique violations that are races. A test checks every name here
against the constraints of a migrated database.
"""

from __future__ import annotations

# Locations (PUT /v1/locations/{location_id}).
LOCATION_KIND_VALID = "location_kind_valid"
LOCATION_LATITUDE_RANGE = "location_latitude_range"
LOCATION_LONGITUDE_RANGE = "location_longitude_range"
LOCATION_THRESHOLD_NOT_NEGATIVE = "location_threshold_not_negative"
LOCATION_SAFETY_STOCK_NOT_NEGATIVE = "location_safety_stock_not_negative"

# Rows that name a location, which must exist.
BALANCE_LOCATION_FK = "balance_location_fk"
RESERVATION_LOCATION_FK = "reservation_location_fk"
PICKUP_LOCATION_FK = "pickup_location_fk"
PICKUP_SETTINGS_LOCATION_FK = "pickup_settings_location_fk"
SUPPLY_ROUTE_STORE_FK = "supply_route_store_fk"
SUPPLY_ROUTE_WAREHOUSE_FK = "supply_route_warehouse_fk"

# Stock: safety stock, transfers.
BALANCE_SAFETY_STOCK_NOT_NEGATIVE = "balance_safety_stock_not_negative"
TRANSFER_QUANTITY_POSITIVE = "transfer_quantity_positive"
TRANSFER_DISTINCT_LOCATIONS = "transfer_distinct_locations"
TRANSFER_SETTLED_WITHIN_QUANTITY = "transfer_settled_within_quantity"

# Reservations and pickups.
RESERVATIONS_PKEY = "reservations_pkey"
RESERVATIONS_ID_KEY = "reservations_id_key"
RESERVATION_LINES_PKEY = "reservation_lines_pkey"
RESERVATION_LINE_QUANTITY_POSITIVE = "reservation_line_quantity_positive"
RESERVATION_LINE_FULFILLED_WITHIN = "reservation_line_fulfilled_within"
PICKUP_LINE_QUANTITY_POSITIVE = "pickup_line_quantity_positive"
PICKUP_LINE_COLLECTED_WITHIN = "pickup_line_collected_within"

# Pickup settings of a store (PUT /v1/locations/{location_id}/pickup-settings).
PICKUP_SLOT_MINUTES_RANGE = "pickup_slot_minutes_range"
PICKUP_CAPACITY_POSITIVE = "pickup_capacity_positive"
PICKUP_PREP_NOT_NEGATIVE = "pickup_prep_not_negative"
PICKUP_HORIZON_RANGE = "pickup_horizon_range"
PICKUP_HOLD_RANGE = "pickup_hold_range"
SUPPLY_ROUTES_PKEY = "supply_routes_pkey"
SUPPLY_ROUTE_LEAD_TIME_NOT_NEGATIVE = "supply_route_lead_time_not_negative"

# API keys (inventory keys create).
API_KEY_ROLE_VALID = "api_key_role_valid"
