-- wrk script for bench/intake.py: every request POSTs one reservation form.
--
-- Arguments (after wrk's --): mode, keys file, thread count, CSRF token, variant ids.
--   mode "intake": each request is the next unused signed-in customer, whose session key is
--     a line of the keys file; thread i takes lines i, i+n, i+2n ... (each wrk thread has
--     its own Lua state, so the threads split the file instead of sharing a counter).
--   mode "floor": no cookies at all; the floor view is CSRF-exempt and reads no session.
-- A request is accepted when it is a 302 to the page of the row it made. done() prints one
-- line "BENCH {json}" that the driver parses.

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

local keys, used, variants = {}, 0, {}
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local accept_pattern

function init(args)
   local mode, keys_file, thread_count, csrf = args[1], args[2], tonumber(args[3]), args[4]
   for id in string.gmatch(args[5], "%d+") do
      table.insert(variants, id)
   end
   if mode == "intake" then
      accept_pattern = "^/my/reservations/%d+/$"
      headers["X-CSRFToken"] = csrf
      local line_number = 0
      for line in io.lines(keys_file) do
         if line_number % thread_count == index then
            table.insert(keys, line)
         end
         line_number = line_number + 1
      end
   else
      accept_pattern = "^/bench/floor/%d+/$"
   end
   csrf_token = csrf
   math.randomseed(os.time() * 100 + index)
   accepted, exhausted = 0, 0
end

local function uuid4()
   return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff),
      math.random(0, 0xffff), math.random(0, 0xfff), math.random(0x8000, 0xbfff),
      math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function request()
   if #keys > 0 then
      used = used + 1
      if used > #keys then
         exhausted = exhausted + 1  -- reported by the driver: make the pool larger
         used = #keys
      end
      headers["Cookie"] = "sessionid=" .. keys[used] .. "; csrftoken=" .. csrf_token
   end
   local body = "variant=" .. variants[math.random(#variants)]
      .. "&fulfilment=courier&idempotency_key=" .. uuid4()
   return wrk.format("POST", nil, headers, body)
end

function response(status, response_headers, body)
   local location = response_headers["Location"]
   if status == 302 and location and string.match(location, accept_pattern) then
      accepted = accepted + 1
   end
end

function done(summary, latency, requests)
   local accepted_total, exhausted_total = 0, 0
   for _, thread in ipairs(threads) do
      accepted_total = accepted_total + thread:get("accepted")
      exhausted_total = exhausted_total + thread:get("exhausted")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "accepted": %d, "non_2xx_3xx": %d, '
         .. '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "exhausted": %d}\n',
      summary.requests, summary.duration, accepted_total, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(99), exhausted_total))
end
