-- A 10-line cart against the stores within 30 km of a customer:
-- POST /v1/availability/query with 10 distinct random SKUs.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
dofile(os.getenv("BENCH_LUA_DIR") .. "/positions.lua")

function scenario_init(o)
  load_cities(o.cities)
end

function request()
  local lat, lon = customer_position()
  local seen, lines = {}, {}
  local skus = tonumber(opts.skus)
  while #lines < tonumber(opts.lines) do
    local k = math.random(1, skus)
    if not seen[k] then
      seen[k] = true
      table.insert(lines, string.format('{"sku":"%s","quantity":%d}', sku_id(k), math.random(1, 3)))
    end
  end
  local body = string.format('{"lines":[%s],"near":{"lat":%.5f,"lon":%.5f,"radius_km":%s}}',
    table.concat(lines, ","), lat, lon, opts.radius_km)
  return wrk.format("POST", "/v1/availability/query",
    auth_headers({ ["Content-Type"] = "application/json" }), body)
end
