-- wrk: GET with the bench's access token (WARDEN_BENCH_TOKEN).
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("WARDEN_BENCH_TOKEN") or "")
