-- One SKU at one store: GET /v1/availability/{sku}/locations/{location_id},
-- a random existing store balance of the whole catalogue per request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function request()
  local k, s = random_store_balance()
  return wrk.format("GET", "/v1/availability/" .. sku_id(k) .. "/locations/" .. store_id(s),
    auth_headers())
end
