-- Nearby stores: GET /v1/availability/{sku}/nearby for a random SKU and a customer
-- somewhere around a Nordic city (cities file: "lat lon weight" per line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
dofile(os.getenv("BENCH_LUA_DIR") .. "/positions.lua")

function scenario_init(o)
  load_cities(o.cities)
end

function request()
  local lat, lon = customer_position()
  local k = math.random(1, tonumber(opts.skus))
  local path = string.format("/v1/availability/%s/nearby?lat=%.5f&lon=%.5f&radius_km=%s",
    sku_id(k), lat, lon, opts.radius_km)
  return wrk.format("GET", path, auth_headers())
end
