-- wrk: registrations, each of a new account (a name of this run, thread
-- and request), with the bench's password.
local password = os.getenv("WARDEN_BENCH_PASSWORD") or ""
local run = string.format("%x", os.time() % 1000000)
local n = 0
local next_id = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

-- Each thread's own number, a global of its Lua state (thread:set).
function setup(thread)
	next_id = next_id + 1
	thread:set("id", next_id)
end

request = function()
	n = n + 1
	local name = string.format("r%sx%dx%d", run, id or 0, n)
	local body = '{"username":"' .. name .. '","email":"' .. name ..
	    '@example.test","password":"' .. password .. '"}'
	return wrk.format(nil, nil, nil, body)
end
