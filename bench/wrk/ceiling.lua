-- The framework ceiling: GET / on bench/ceiling_app.py (a constant JSON body).
-- Same counting as every scenario; the Authorization header is sent too, so the
-- request is the same size as an availability request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function request()
  return wrk.format("GET", "/", auth_headers())
end
