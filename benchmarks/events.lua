-- wrk script for POST /v1/events: the same 500-event body each time, with the "@@" in every
-- event_id replaced by a per-request counter so that every request carries new ids.
local counter = 0
local template = nil
local thread_tag = tostring(math.random(1, 1e9))

init = function(args)
  local file = assert(io.open(args[1], "rb"))
  template = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

request = function()
  counter = counter + 1
  local body = template:gsub("@@", thread_tag .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end
