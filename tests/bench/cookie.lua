-- wrk: GET with the bench's portal session cookie (WARDEN_BENCH_COOKIE).
wrk.headers["Cookie"] = os.getenv("WARDEN_BENCH_COOKIE") or ""
