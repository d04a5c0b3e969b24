"""The providers' files as an operator meets them: `wardend -t` loads
them (their secrets included) and says how many it found, and names the
file and line of a mistake."""
import os
import subprocess
import uuid

import upstreamlib as U
import wardenlib as W


def check(workdir, providers):
    conf = os.path.join(workdir, "t-%s.conf" % uuid.uuid4().hex[:8])
    with open(conf, "w") as f:
        f.write("providers_dir %s\nemail_verification off\n" % providers)
    return subprocess.run([W.binary("wardend"), "-t", "-f", conf],
                          capture_output=True, text=True, timeout=30)


def test_check_counts_the_providers_and_reads_their_secrets(workdir):
    d = os.path.join(workdir, "tprov-" + uuid.uuid4().hex[:8])
    U.write_provider(d, "google", client_secret="s-" + uuid.uuid4().hex,
                     preset="google", client_id="123.apps.example")
    U.write_provider(d, "corp", issuer="https://sso.example.com",
                     client_id="warden", client_auth="private_key_jwt")
    r = check(workdir, d)
    assert r.returncode == 0, r
    assert "configuration OK (2 sign-in providers)" in r.stdout, r
    r = check(workdir, os.path.join(d, "does-not-exist"))
    assert r.returncode == 0 and "(0 sign-in providers)" in r.stdout, r


def test_check_names_the_file_and_line_of_a_mistake(workdir):
    d = os.path.join(workdir, "tprov-" + uuid.uuid4().hex[:8])
    U.write_provider(d, "corp", issuer="http://sso.example.com", client_id="w")
    r = check(workdir, d)
    assert r.returncode == 1, r
    assert "corp.conf: line 2: issuer" in r.stderr, r
    os.remove(os.path.join(d, "corp.conf"))
    U.write_provider(d, "gh", preset="github", client_id="Iv1",
                     client_secret_file=os.path.join(d, "missing.secret"))
    r = check(workdir, d)
    assert r.returncode == 1, r
    assert "gh.conf: client_secret_file" in r.stderr, r


def test_the_binding_cookie_lives_under_public_urls_own_path(workdir, daemon):
    """Behind a proxy that serves warden at /auth/, the cookie that binds a
    sign-in to its browser must reach /auth/ui/login/NAME/callback."""
    from fake_oidc import FakeOidc

    idp = FakeOidc("RS256")
    secret = "s-" + uuid.uuid4().hex
    idp.add_client("warden-prefix", secret=secret)
    pdir = U.make_providers_dir(workdir, "upstream_prefix", {
        "corp": U.oidc_provider(idp, "warden-prefix", secret)})
    d = W.start_own(workdir, daemon, "upstream_prefix", providers_dir=pdir,
                    public_url="{base}/auth")
    try:
        # The proxy strips /auth/: the daemon serves /ui/login/corp.
        r = d.client.get("/ui/login/corp")
        assert r.status == 303, r
        cookies = [v for v in r.header_all("Set-Cookie")
                   if v.startswith("warden_upstream=")]
        assert cookies, r
        attrs = {k.strip().lower(): v for k, _, v in
                 (p.partition("=") for p in cookies[0].split(";")[1:])}
        assert attrs.get("path") == "/auth/ui/login/", cookies
        assert "/auth/ui/login/corp/callback" in r.header("Location").replace("%2F", "/")
    finally:
        W.stop_own(d)
        idp.close()
