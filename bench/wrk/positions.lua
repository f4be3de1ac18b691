-- Random customer positions around the benchmark's cities, by weight.
local cities = {}
local total_weight = 0

function load_cities(path)
  for line in io.lines(path) do
    local lat, lon, weight = string.match(line, "^(%S+) (%S+) (%S+)$")
    if lat then
      total_weight = total_weight + tonumber(weight)
      table.insert(cities, { tonumber(lat), tonumber(lon), total_weight })
    end
  end
end

local function gauss()
  local u1, u2 = math.random(), math.random()
  if u1 < 1e-12 then u1 = 1e-12 end
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
end

-- Latitude, longitude of a customer: a city by weight, then about 5 km of scatter.
function customer_position()
  local pick = math.random() * total_weight
  for _, city in ipairs(cities) do
    if pick <= city[3] then
      return city[1] + gauss() * 0.05, city[2] + gauss() * 0.1
    end
  end
  local last = cities[#cities]
  return last[1], last[2]
end
