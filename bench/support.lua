-- wrk script for bench/support.py: one burst of ticket openings, each line of the keys file
-- once ("<session key> <reservation number>": a signed-in customer and their reservation).
--
-- Arguments (after wrk's --): keys file, thread count, CSRF token, category.
-- Thread i takes lines i, i+n, i+2n ... (each wrk thread has its own Lua state). Once a
-- thread has sent all its lines, a connection that asks for another request repeats the
-- thread's last submission with the same idempotency key, which opens nothing new (the
-- service returns the first answer). The driver stops wrk (SIGINT) once the tickets are in
-- the database, so a few repeats end the burst's latency figures.
-- A ticket is accepted when the answer is a 302 to /support/tickets/<number>/. done() prints
-- one line "BENCH {json}" that the driver parses.

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

local lines, sent, last = {}, 0, nil
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
   local keys_file, thread_count, csrf = args[1], tonumber(args[2]), args[3]
   category = args[4]
   csrf_token = csrf
   headers["X-CSRFToken"] = csrf
   local line_number = 0
   for line in io.lines(keys_file) do
      if line_number % thread_count == index then
         local key, reservation = string.match(line, "^(%S+) (%S+)$")
         table.insert(lines, { key = key, reservation = reservation })
      end
      line_number = line_number + 1
   end
   math.randomseed(os.time() * 100 + index)
   accepted, repeats = 0, 0
   -- wrk builds thread 0's first request once to check it and never sends it
   -- (script_verify_request): that call gets a harmless GET instead of a customer's line.
   checked = index ~= 0
end

local function uuid4()
   return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff),
      math.random(0, 0xffff), math.random(0, 0xfff), math.random(0x8000, 0xbfff),
      math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function request()
   if not checked then
      checked = true
      return wrk.format("GET", "/support/")
   end
   if sent < #lines then
      sent = sent + 1
      local line = lines[sent]
      headers["Cookie"] = "sessionid=" .. line.key .. "; csrftoken=" .. csrf_token
      last = "category=" .. category .. "&subject=" .. line.reservation
         .. "&body=%EC%A0%9C+%ED%8F%B0%EC%9D%80+%EC%96%B8%EC%A0%9C+%EC%98%A4%EB%82%98%EC%9A%94%3F"
         .. "&idempotency_key=" .. uuid4()
      lastCookie = headers["Cookie"]
   else
      repeats = repeats + 1
      headers["Cookie"] = lastCookie
   end
   return wrk.format("POST", nil, headers, last)
end

function response(status, response_headers, body)
   local location = response_headers["Location"]
   if status == 302 and location and string.match(location, "^/support/tickets/T%d+/$") then
      accepted = accepted + 1
   end
end

function done(summary, latency, requests)
   local accepted_total, repeats_total = 0, 0
   for _, thread in ipairs(threads) do
      accepted_total = accepted_total + thread:get("accepted")
      repeats_total = repeats_total + thread:get("repeats")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "accepted": %d, "repeats": %d, '
         .. '"non_2xx_3xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, accepted_total, repeats_total, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
