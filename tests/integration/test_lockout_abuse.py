"""The account lock as a weapon (the security finding "anyone can lock any
account"): an attacker guessing on a victim's account, over several lock
periods, while real clients log in with the right password.

OWASP's device cookies: a client that logged the victim in before holds a
device token (the warden_device cookie, or the device_token member for an
API client) and is judged by that device's failures only, so it is never
locked out by the attacker.  A client without one may be locked while the
attack goes on, but a guess made during the lock is not counted: the lock
ends at most login_lockout_max after the last counted failure, whatever
the attacker does meanwhile.  The answers stay those of a wrong password.
"""

import statistics
import threading
import time

import pytest

import wardenlib as W

MAX_FAILURES = 3
LOCKOUT_MAX = 2.0        # seconds: short, so several lock periods pass fast
ATTACK = 3.5 * LOCKOUT_MAX

ATTACKER = {"X-Forwarded-For": "203.0.113.66"}
VICTIM_LAPTOP = "198.51.100.20"
STRANGER = "192.0.2.50"  # the victim on a machine it never used


@pytest.fixture(scope="module")
def own(workdir, daemon):
    d = W.start_own(workdir, daemon, "lockout",
                    login_max_failures=str(MAX_FAILURES),
                    login_lockout_max="%ds" % LOCKOUT_MAX,
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def _from(addr, device=None):
    h = {"X-Forwarded-For": addr}
    if device is not None:
        h["Cookie"] = "theme=dark; warden_device=%s" % device
    return h


def _set_cookie(r):
    for v in r.header_all("Set-Cookie"):
        if v.startswith("warden_device="):
            return v
    return None


def _first_login(c, u, addr=VICTIM_LAPTOP):
    r = c.login_raw(u.username, u.password, headers=_from(addr))
    assert r.status == 200, r
    tok = r.json().get("device_token")
    assert isinstance(tok, str) and W.B64URL_RE.match(tok) and len(tok) == 43, r
    return tok


def _answer(r):
    """What a client can tell an answer by: status, type, body."""
    return r.status, r.content_type, r.body


def _user_row(uid):
    row = W.psql("select failed_logins, extract(epoch from last_failed_at), "
                 "extract(epoch from locked_until) from users where id = '%s'" % uid)
    f, last, until = row[0].split("|")
    return int(f), float(last) if last else None, float(until) if until else None


def test_a_login_hands_out_a_device_token_as_cookie_and_member(own):
    c = own.client
    u = c.new_user("dev", login=False)
    r = c.login_raw(u.username, u.password, headers=_from(VICTIM_LAPTOP))
    assert r.status == 200, r
    tok = r.json()["device_token"]
    cookie = _set_cookie(r)
    assert cookie is not None, r
    attrs = [a.strip() for a in cookie.split(";")]
    assert attrs[0] == "warden_device=" + tok, cookie
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs, cookie
    assert "Path=/api/v1/auth/token" in attrs, cookie
    assert "Max-Age=31536000" in attrs, cookie      # login_device_ttl 365d
    assert "Secure" not in attrs, cookie            # public_url is http here
    # Presented again (cookie, form or JSON parameter), it stays the same.
    r = c.login_raw(u.username, u.password, headers=_from(VICTIM_LAPTOP, tok))
    assert r.status == 200 and r.json()["device_token"] == tok, r
    r = c.token({"grant_type": "password", "username": u.username,
                 "password": u.password, "device_token": tok},
                as_json=True, headers=_from(STRANGER))
    assert r.status == 200 and r.json()["device_token"] == tok, r
    # A token of no one, or of the wrong shape, is as good as none.
    for bogus in (W.b64url(b"\x01" * 32), "garbage", ""):
        r = c.token({"grant_type": "password", "username": u.username,
                     "password": u.password, "device_token": bogus},
                    headers=_from(STRANGER))
        assert r.status == 200, r
        assert r.json()["device_token"] not in (tok, bogus), r
    # A failure sets no cookie.
    r = c.login_raw(u.username, "Wrong-" + u.password, headers=_from(STRANGER))
    W.assert_oauth_error(r, "invalid_grant")
    assert _set_cookie(r) is None, r


def test_guesses_during_the_lock_neither_count_nor_prolong_it(own):
    c = own.client
    u = c.new_user("prolong", login=False)
    for _ in range(MAX_FAILURES):
        W.assert_oauth_error(c.login_raw(u.username, "Wrong-" + u.password,
                                         headers=ATTACKER), "invalid_grant")
    failed, last, until = _user_row(u.id)
    assert failed == MAX_FAILURES and until - last <= 1.01, (failed, last, until)
    # The attacker keeps guessing until just before the lock (2^0 = 1 s)
    # would end; none of it counts.
    guesses = 0
    while time.time() < until - 0.4:    # room for a slow answer
        W.assert_oauth_error(c.login_raw(u.username, "Wrong-" + u.password,
                                         headers=ATTACKER), "invalid_grant")
        guesses += 1
    assert guesses > 0
    assert _user_row(u.id) == (failed, last, until)
    time.sleep(max(0.0, until - time.time()) + 0.2)
    r = c.login_raw(u.username, u.password, headers=_from(STRANGER))
    assert r.status == 200, "the lock was prolonged by %d guesses: %r" % (guesses, r)


def test_a_trusted_device_is_held_back_by_its_own_failures_only(own):
    c = own.client
    u = c.new_user("ownfail", login=False)
    tok = _first_login(c, u)
    for _ in range(MAX_FAILURES):
        W.assert_oauth_error(c.login_raw(u.username, "Wrong-" + u.password,
                                         headers=_from(VICTIM_LAPTOP, tok)),
                             "invalid_grant")
    # That device is locked now, with the answer of a wrong password ...
    r = c.login_raw(u.username, u.password, headers=_from(VICTIM_LAPTOP, tok))
    W.assert_oauth_error(r, "invalid_grant")
    # ... but neither the account nor another device of the user is.
    other = _first_login(c, u, STRANGER)
    assert other != tok
    assert _user_row(u.id)[0] == 0
    time.sleep(1.2)     # 2^0 s
    r = c.login_raw(u.username, u.password, headers=_from(VICTIM_LAPTOP, tok))
    assert r.status == 200, r


def test_another_users_device_token_is_a_stranger_here(own):
    c = own.client
    alice = c.new_user("alice", login=False)
    bob = c.new_user("bob", login=False)
    alices = _first_login(c, alice)
    bobs = _first_login(c, bob, "198.51.100.30")
    for _ in range(MAX_FAILURES):
        W.assert_oauth_error(c.login_raw(bob.username, "Wrong-" + bob.password,
                                         headers=ATTACKER), "invalid_grant")
    r = c.login_raw(bob.username, bob.password, headers=_from(VICTIM_LAPTOP, alices))
    W.assert_oauth_error(r, "invalid_grant")
    r = c.login_raw(bob.username, bob.password, headers=_from(VICTIM_LAPTOP, bobs))
    assert r.status == 200 and r.json()["device_token"] == bobs, r


def test_an_attack_on_an_account_never_locks_out_its_trusted_devices(own):
    """The finding's attack, measured: one address guesses on the victim's
    account without pause for 3.5 lock periods while the victim logs in
    from its laptop (cookie) and its app (device_token parameter), and
    from a machine it never used (no token)."""
    c = own.client
    victim = c.new_user("victim", login=False)
    laptop = _first_login(c, victim, VICTIM_LAPTOP)
    app = _first_login(c, victim, "198.51.100.21")
    wrong = "Wrong-" + victim.password

    stop = threading.Event()
    guesses = []             # (time, answer)
    lock = threading.Lock()

    def attacker():
        while not stop.is_set():
            r = c.login_raw(victim.username, wrong, headers=ATTACKER)
            with lock:
                guesses.append((time.time(), _answer(r)))

    seen = {"laptop": [], "app": [], "stranger": []}   # (status, seconds)

    def timed(name, fn):
        t0 = time.monotonic()
        r = fn()
        seen[name].append((r.status, time.monotonic() - t0))
        return r

    threads = [threading.Thread(target=attacker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        # Let the attacker lock the account first.
        deadline = time.monotonic() + 10
        while _user_row(victim.id)[0] < MAX_FAILURES:
            assert time.monotonic() < deadline, "the attack locked nothing"
            time.sleep(0.02)
        start = time.monotonic()
        locked_answer = None
        while time.monotonic() - start < ATTACK:
            r = timed("laptop", lambda: c.login_raw(
                victim.username, victim.password,
                headers=_from(VICTIM_LAPTOP, laptop)))
            assert r.status == 200, "a trusted device was locked out: %r" % r
            assert r.json()["device_token"] == laptop, r
            r = timed("app", lambda: c.token(
                {"grant_type": "password", "username": victim.username,
                 "password": victim.password, "device_token": app},
                as_json=True, headers=_from("198.51.100.21")))
            assert r.status == 200, "a trusted device was locked out: %r" % r
            r = timed("stranger", lambda: c.login_raw(
                victim.username, victim.password, headers=_from(STRANGER)))
            if r.status != 200:
                locked_answer = r
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    attack_end = time.time()

    # The lock is the attacker's doing, and answers as a wrong password.
    assert locked_answer is not None, "the attack never locked the account"
    wrong_answers = {a for _, a in guesses}
    assert wrong_answers == {_answer(locked_answer)}, wrong_answers
    assert _set_cookie(locked_answer) is None

    # Never prolonged: the lock ends login_lockout_max after the last
    # failure it counted at most, and a client without a token gets in
    # by then.
    failed, last, until = _user_row(victim.id)
    assert until is not None and until <= last + LOCKOUT_MAX + 0.01, (last, until)
    assert last <= attack_end
    while True:
        sent = time.time()
        r = c.login_raw(victim.username, victim.password, headers=_from(STRANGER))
        if r.status == 200:
            break
        assert sent < last + LOCKOUT_MAX + 0.05, \
            "still locked %.2f s after the last counted failure" % (sent - last)
        time.sleep(0.05)
    counted = int(W.psql("select count(*) from audit_events where user_id = '%s' "
                         "and event = 'locked'" % victim.id)[0])

    def share(name):
        ok = sum(1 for s, _ in seen[name] if s == 200)
        return "%d/%d ok, median %.0f ms" % (
            ok, len(seen[name]), 1000 * statistics.median(d for _, d in seen[name]))

    print("\nlockout abuse over %.1f s (login_lockout_max %.0f s): %d guesses, "
          "%d locks, %d failures counted; laptop (cookie) %s; app (device_token) "
          "%s; stranger (no token) %s; unlocked %.2f s after the last counted "
          "failure" % (ATTACK, LOCKOUT_MAX, len(guesses), counted, failed,
                       share("laptop"), share("app"), share("stranger"),
                       sent - last))
    assert all(s == 200 for s, _ in seen["laptop"] + seen["app"])
    # Most guesses met the lock and were not counted.
    assert counted < len(guesses) / 4, (counted, len(guesses))
