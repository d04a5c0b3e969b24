-- wrk: a light read that watches latency, with the bench's access token
-- (WARDEN_BENCH_TOKEN): each connection waits 2 ms after an answer before
-- its next request, so that it never saturates what it measures.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("WARDEN_BENCH_TOKEN") or "")

function delay()
	return 2
end
