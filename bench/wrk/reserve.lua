-- Reservations over HTTP: POST /v1/reservations, one line of one unit.
--   mode=spread: a random existing store balance per request;
--   mode=hot:    every request for location=..., sku=... (the flash sale).
-- Reservation ids are unique per request: prefix-threadid-counter.
-- 201 is a confirmed reservation; 409 insufficient_stock a refusal; anything else an error.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local counter = 0

function classify(status, body)
  if status == 201 then return "ok" end
  if status == 409 and body and string.find(body, "insufficient_stock", 1, true) then
    return "rejected"
  end
  return "error"
end

function request()
  counter = counter + 1
  local location, sku
  if opts.mode == "hot" then
    location, sku = opts.location, opts.sku
  else
    -- Not SKU-000001 or SKU-000002: the hot and the sell-out balances keep their own
    -- scenarios' exact stock (a spread request on the sell-out balance once took a unit).
    local k, s = random_store_balance()
    while k <= 2 do k, s = random_store_balance() end
    location, sku = store_id(s), sku_id(k)
  end
  local body = string.format(
    '{"reservation_id":"%s-%d-%d","location_id":"%s","lines":[{"sku":"%s","quantity":1}],' ..
    '"channel":"webshop","ttl_seconds":%s}',
    opts.prefix, tid, counter, location, sku, opts.ttl)
  return wrk.format("POST", "/v1/reservations",
    auth_headers({ ["Content-Type"] = "application/json" }), body)
end
