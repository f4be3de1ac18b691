-- Pickup bookings: POST /v1/pickups with a valid slot_start (listed beforehand with
-- GET /v1/locations/{id}/pickup-slots) and one unit of a SKU the store carries.
-- Bookings file: "location_id slot_start sku" per line. Pickup ids: prefix-threadid-counter.
-- 201 is a booking; 409 insufficient_stock or slot_unavailable a refusal.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local choices = {}
local counter = 0

function scenario_init(o)
  for line in io.lines(o.bookings) do
    local location, slot, sku = string.match(line, "^(%S+) (%S+) (%S+)$")
    if location then table.insert(choices, { location, slot, sku }) end
  end
end

function classify(status, body)
  if status == 201 then return "ok" end
  if status == 409 and body and (string.find(body, "insufficient_stock", 1, true)
      or string.find(body, "slot_unavailable", 1, true)) then
    return "rejected"
  end
  return "error"
end

function request()
  counter = counter + 1
  local pick = choices[math.random(1, #choices)]
  local body = string.format(
    '{"pickup_id":"%s-%d-%d","location_id":"%s","slot_start":"%s",' ..
    '"lines":[{"sku":"%s","quantity":1}],"customer":{"name":"Bench Customer"}}',
    opts.prefix, tid, counter, pick[1], pick[2], pick[3])
  return wrk.format("POST", "/v1/pickups",
    auth_headers({ ["Content-Type"] = "application/json" }), body)
end
