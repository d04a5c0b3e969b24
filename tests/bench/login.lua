-- wrk: password-grant logins, signing in as each of the bench's accounts
-- in turn (WARDEN_BENCH_USERS, comma-separated, WARDEN_BENCH_PASSWORD).
local users = {}
for name in string.gmatch(os.getenv("WARDEN_BENCH_USERS") or "", "[^,]+") do
	users[#users + 1] = name
end
local password = os.getenv("WARDEN_BENCH_PASSWORD") or ""
local n = 0

local function escape(s)
	return (string.gsub(s, "[^%w%-%._~]", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

function setup(thread)
	thread:set("offset", math.random(1, 1000))
end

request = function()
	n = n + 1
	local user = users[(n + (offset or 0)) % #users + 1]
	local body = "grant_type=password&username=" .. escape(user) ..
	    "&password=" .. escape(password)
	return wrk.format(nil, nil, nil, body)
end
