-- wrk script for bench/polling.py: every request is one customer's status poll.
--
-- Arguments (after wrk's --): mode, customers file, thread count.
--   The customers file has one line per customer: token, order number, its ETag,
--   reservation number, its ETag (tab-separated).
--   Thread i takes lines i, i+n, i+2n ... and cycles through them, so with as many customers
--   as connections every request in flight carries a different customer's token.
--   mode "floor": GET the URL given to wrk (the constant view) with the customer's
--     Authorization header, which the view never reads;
--   mode "full": GET /api/v1/orders/<number> with the customer's token;
--   mode "conditional": the same with If-None-Match: the customer's current ETag;
--   mode "reservation": GET /api/v1/reservations/<number> with If-None-Match.
-- done() prints one line "BENCH {json}" that the driver parses: the status counts say
-- whether each mode got what it asked for (200s for floor and full, 304s for conditional).

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

local customers, next_customer, mode = {}, 0, nil

function init(args)
   mode = args[1]
   local thread_count = tonumber(args[3])
   local line_number = 0
   for line in io.lines(args[2]) do
      if line_number % thread_count == index then
         local token, number, etag, reservation, reservation_etag =
            string.match(line, "^(%S+)\t(%S+)\t(%S+)\t(%S+)\t(%S+)$")
         table.insert(customers, {
            token = token, number = number, etag = etag,
            reservation = reservation, reservation_etag = reservation_etag,
         })
      end
      line_number = line_number + 1
   end
   ok, not_modified, other = 0, 0, 0
end

function request()
   next_customer = next_customer % #customers + 1
   local customer = customers[next_customer]
   local headers = { ["Authorization"] = "Bearer " .. customer.token }
   if mode == "floor" then
      return wrk.format("GET", nil, headers)
   end
   if mode == "reservation" then
      headers["If-None-Match"] = customer.reservation_etag
      return wrk.format("GET", "/api/v1/reservations/" .. customer.reservation, headers)
   end
   if mode == "conditional" then
      headers["If-None-Match"] = customer.etag
   end
   return wrk.format("GET", "/api/v1/orders/" .. customer.number, headers)
end

function response(status, response_headers, body)
   if status == 200 then
      ok = ok + 1
   elseif status == 304 then
      not_modified = not_modified + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local ok_total, not_modified_total, other_total = 0, 0, 0
   for _, thread in ipairs(threads) do
      ok_total = ok_total + thread:get("ok")
      not_modified_total = not_modified_total + thread:get("not_modified")
      other_total = other_total + thread:get("other")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "ok": %d, "not_modified": %d, "other": %d, '
         .. '"socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, ok_total, not_modified_total, other_total,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
