"""A headless Chromium driven over the Chrome DevTools Protocol, for the
tests of the login portal's pages.

Needs Debian's `chromium` (scripts/deps check installs it, or
`apt-get install -y --no-install-recommends chromium`); nothing from pip.
It talks to Chromium over --remote-debugging-pipe (file descriptors 3 and
4, NUL-separated JSON), which needs no WebSocket library and no port: the
python3-websockets of Debian 12 (10.4) has no synchronous client.

    from browser import Browser
    with Browser() as b:                 # or the `browser` fixture
        b.goto("http://127.0.0.1:8080/login")
        b.fill("#username", "alice")
        b.submit("form#login")           # waits for the page that follows
        assert b.url().endswith("/account")
        b.set_viewport(360, 740, mobile=True)
        b.screenshot("/tmp/phone.png")   # full page; pngcheck.assert_not_blank

Run its own tests with `tests/integration/run -k browser_harness`.

Every action waits at most `timeout` seconds (15 by default) and raises
BrowserError naming the action and the page's URL; a test never hangs.
Each Browser runs one Chromium in a new process group with a profile in
a temporary folder; close() ends it (and anything it left) and removes
the folder.  new_context() throws away cookies, storage, viewport and the
console messages and opens a fresh page: the fixture uses it to give each
test a clean browser without paying for a new Chromium.

CDP reference: https://chromedevtools.github.io/devtools-protocol/
"""

import base64
import fcntl
import json
import math
import os
import shutil
import signal
import tempfile
import threading
import time

DEFAULT_TIMEOUT = 15.0
START_TIMEOUT = 30.0
INSTALL = "apt-get install -y --no-install-recommends chromium"

# The real binary: /usr/bin/chromium is a shell wrapper that sources
# /etc/chromium.d (extensions, GPU rasterisation, a noisy /dev/shm check).
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


class BrowserError(Exception):
    """An action of the browser that failed or timed out."""


def find_chromium():
    exe = os.environ.get("WARDEN_CHROMIUM")
    if exe:
        if not os.access(exe, os.X_OK):
            raise BrowserError("WARDEN_CHROMIUM=%s is not an executable" % exe)
        return exe
    for c in CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    raise BrowserError("chromium is not installed: run `%s` as root "
                       "(or `scripts/deps check`)" % INSTALL)


def _js(value):
    """value as a JavaScript literal (JSON is a subset)."""
    return json.dumps(value)


class Browser:
    def __init__(self, timeout=DEFAULT_TIMEOUT, width=1280, height=800, args=()):
        """ARGS: more Chromium switches, e.g.
        "--host-resolver-rules=MAP warden.test 127.0.0.1"."""
        self.timeout = timeout
        self.extra_args = list(args)
        self.exe = find_chromium()
        self.dir = tempfile.mkdtemp(prefix="warden-chromium.")
        self.profile = os.path.join(self.dir, "profile")
        self.log = os.path.join(self.dir, "chromium.log")
        self.pid = None
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._next_id = 0
        self._replies = {}
        self._events = []          # (seq, sessionId, method, params)
        self._seq = 0
        self._eof = False
        self._rfd = self._wfd = None
        self._reader = None
        self.context = self.session = self.target = None
        self.frame = None
        self._doc = {}             # the main frame's last document response
        self._url = None           # the main frame's last committed URL
        self._default_size = (width, height, False, 1)
        t0 = time.monotonic()
        try:
            self._spawn()
            self.version = self._call("Browser.getVersion", timeout=START_TIMEOUT,
                                      action="start")
            self.new_context()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.monotonic() - t0

    # -- process and pipe ---------------------------------------------------

    def _spawn(self):
        args = [self.exe, "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--user-data-dir=" + self.profile,
                "--remote-debugging-pipe", "--disable-dev-shm-usage",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-crash-reporter", "--disable-breakpad",
                "--hide-scrollbars", "--mute-audio", "--password-store=basic",
                "--font-render-hinting=none"] + self.extra_args + ["about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")   # Chromium refuses root otherwise
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # Above 4, so that the dup2 to 3 and 4 below always clears CLOEXEC.
        hi_r = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(from_w)
        logfd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            self.pid = os.posix_spawn(args[0], args, dict(os.environ), file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, logfd, 1),
                (os.POSIX_SPAWN_DUP2, logfd, 2),
                (os.POSIX_SPAWN_DUP2, hi_r, 3),
                (os.POSIX_SPAWN_DUP2, hi_w, 4),
            ], setsid=True)
        finally:
            os.close(hi_r)
            os.close(hi_w)
            os.close(logfd)
        self._rfd, self._wfd = from_r, to_w
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="chromium-cdp")
        self._reader.start()

    def _read_loop(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._rfd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._eof = True
                    self._cond.notify_all()
                return
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            with self._cond:
                for raw in msgs:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self._seq += 1
                        self._events.append((self._seq, msg.get("sessionId"),
                                             msg.get("method"), msg.get("params", {})))
                        self._note(msg.get("sessionId"), msg.get("method"),
                                   msg.get("params", {}))
                self._cond.notify_all()

    def _note(self, session, method, params):
        """Bookkeeping of events, under self._cond."""
        if session is None or session != self.session:
            return
        if method == "Page.frameNavigated" and "parentId" not in params["frame"]:
            self._url = params["frame"]["url"] + params["frame"].get("urlFragment", "")
        elif method == "Page.navigatedWithinDocument" and params.get("frameId") == self.frame:
            self._url = params["url"]
        if method == "Network.responseReceived" and params.get("type") == "Document" \
                and params.get("frameId") == self.frame:
            resp = params["response"]
            self._doc = {"requestId": params["requestId"], "url": resp.get("url"),
                         "status": resp.get("status"), "headers": resp.get("headers", {})}

    def _log_tail(self, n=15):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        lines = [ln for ln in lines if "dbus" not in ln]
        return "\n".join(lines[-n:])

    def _fail(self, action, what):
        # The last URL the main frame committed: asking the page could
        # wait as long as whatever failed.
        where = " at " + self._url if self._url else ""
        msg = "browser %s%s: %s" % (action, where, what)
        if self._eof:
            msg += "\nchromium has exited; the end of its log (%s):\n%s" % (
                self.log, self._log_tail())
        return BrowserError(msg)

    def _call(self, method, params=None, session=None, timeout=None, action=None):
        """Sends one command and waits for its reply; returns its result."""
        action = action or method
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            msg = {"id": mid, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            data = json.dumps(msg).encode() + b"\0"
            try:
                while data:
                    data = data[os.write(self._wfd, data):]
            except (OSError, TypeError) as e:
                raise self._fail(action, "cannot send %s: %s" % (method, e)) from None
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if self._eof:
                    break
                if left <= 0:
                    break
                self._cond.wait(left)
            reply = self._replies.pop(mid, None)
        if reply is None:
            raise self._fail(action, "no answer to %s within %.0f s" % (method, timeout))
        if "error" in reply:
            raise self._fail(action, "%s: %s" % (method, reply["error"].get("message")))
        return reply.get("result", {})

    def _page(self, method, params=None, timeout=None, action=None):
        return self._call(method, params, session=self.session, timeout=timeout,
                          action=action)

    def _mark(self):
        with self._cond:
            return self._seq

    def _wait_event(self, method, after, action, timeout=None, pred=None):
        """The first event METHOD of the page newer than sequence AFTER."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for seq, sess, meth, params in self._events:
                    if seq > after and sess == self.session and meth == method \
                            and (pred is None or pred(params)):
                        return seq, params
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    break
                self._cond.wait(left)
        raise self._fail(action, "no %s within %.0f s" % (method, timeout))

    def _wait_navigation(self, after, action, timeout=None):
        """Waits for the main frame to commit a new document after AFTER and
        for its load event: the end of a navigation, redirects included."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        seq, _ = self._wait_event("Page.frameNavigated", after, action, timeout,
                                  pred=lambda p: "parentId" not in p["frame"])
        self._wait_event("Page.loadEventFired", seq, action,
                         max(0.0, deadline - time.monotonic()))

    # -- contexts -------------------------------------------------------------

    def new_context(self):
        """A fresh incognito-like browser context with one blank page, at the
        default viewport; the previous context, its cookies, storage and
        console messages are thrown away."""
        old = self.context
        ctx = self._call("Target.createBrowserContext", {"disposeOnDetach": True},
                         action="new_context")["browserContextId"]
        tid = self._call("Target.createTarget", {"url": "about:blank",
                         "browserContextId": ctx}, action="new_context")["targetId"]
        sid = self._call("Target.attachToTarget", {"targetId": tid, "flatten": True},
                         action="new_context")["sessionId"]
        with self._cond:
            self.context, self.target, self.session = ctx, tid, sid
            self._events = [e for e in self._events if e[1] == sid]
            self._doc = {}
            self._url = None
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._page(domain + ".enable", action="new_context")
        self.frame = self._page("Page.getFrameTree", action="new_context")["frameTree"]["frame"]["id"]
        if old:
            try:
                self._call("Target.disposeBrowserContext", {"browserContextId": old},
                           timeout=5, action="new_context")
            except BrowserError:
                pass
        self.set_viewport(*self._default_size)

    # -- navigation -------------------------------------------------------------

    def goto(self, url, wait=True, timeout=None):
        """Opens URL; with WAIT, returns once its load event has fired."""
        mark = self._mark()
        r = self._page("Page.navigate", {"url": url}, timeout=timeout,
                       action="goto %s" % url)
        if r.get("errorText"):
            raise BrowserError("browser goto %s: %s" % (url, r["errorText"]))
        if wait and r.get("loaderId"):   # none for a same-document navigation
            self._wait_navigation(mark, "goto %s" % url, timeout)

    def url(self):
        return self.evaluate("location.href", action="url")

    def status(self):
        """The HTTP status of the current page's document (after redirects),
        or None for a page not loaded over HTTP."""
        return self._doc.get("status")

    def headers(self):
        """The response headers of the current page's document, their names
        in lower case (repeated ones joined by a newline)."""
        return {k.lower(): v for k, v in self._doc.get("headers", {}).items()}

    def html(self):
        """The document as the browser now holds it (doctype and DOM,
        serialised): what scripts and the parser made of it."""
        return self.evaluate(
            "(document.doctype ? new XMLSerializer().serializeToString(document.doctype)"
            " + '\\n' : '') + document.documentElement.outerHTML", action="html")

    def source(self):
        """The bytes of the current page's document as the server sent them,
        decoded: what htmlcheck.assert_valid_html should be given."""
        rid = self._doc.get("requestId")
        if not rid:
            raise self._fail("source", "no document response recorded")
        r = self._page("Network.getResponseBody", {"requestId": rid}, action="source")
        body = r["body"]
        return base64.b64decode(body).decode("utf-8") if r.get("base64Encoded") else body

    def evaluate(self, expression, action=None):
        """The value of a JavaScript EXPRESSION in the page (JSON-able);
        promises are awaited.  A thrown exception raises BrowserError."""
        action = action or "evaluate"
        r = self._page("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                       "awaitPromise": True, "userGesture": True}, action=action)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            what = d.get("exception", {}).get("description") or d.get("text")
            raise self._fail(action, what.split("\n")[0])
        return r["result"].get("value")

    def _element(self, selector, body, action):
        """Runs BODY (JavaScript using `el`) on the element SELECTOR."""
        return self.evaluate(
            "(() => { const el = document.querySelector(%s); if (!el) throw new Error("
            "'no element matches ' + %s); %s })()" % (_js(selector), _js(selector), body),
            action=action)

    def exists(self, selector):
        return self.evaluate("document.querySelector(%s) !== null" % _js(selector),
                             action="exists %s" % selector)

    def text(self, selector="body"):
        """The rendered text (innerText) of the first element SELECTOR."""
        return self._element(selector, "return el.innerText;", "text %s" % selector)

    def attr(self, selector, name):
        return self._element(selector, "return el.getAttribute(%s);" % _js(name),
                             "attr %s" % selector)

    def fill(self, selector, value):
        """Sets the value of a form field as typing would leave it, with the
        input and change events."""
        self._element(selector, (
            "el.focus(); el.value = %s;"
            " el.dispatchEvent(new Event('input', {bubbles: true}));"
            " el.dispatchEvent(new Event('change', {bubbles: true}));") % _js(value),
            "fill %s" % selector)

    def click(self, selector, navigate=True, timeout=None):
        """Clicks the middle of element SELECTOR with real mouse events, as a
        person would: it must be visible and not covered.  With NAVIGATE,
        waits for the page that follows."""
        action = "click %s" % selector
        box = self._element(selector, (
            "el.scrollIntoView({block: 'center', inline: 'center'});"
            " const r = el.getBoundingClientRect();"
            " if (r.width === 0 || r.height === 0) throw new Error(%s + ' is not visible');"
            " const x = r.left + r.width / 2, y = r.top + r.height / 2;"
            " const top = document.elementFromPoint(x, y);"
            " if (top !== el && !el.contains(top)) throw new Error(%s + ' is covered by '"
            " + (top ? top.outerHTML.slice(0, 80) : 'nothing'));"
            " return [x, y];") % (_js(selector), _js(selector)), action)
        mark = self._mark()
        for kind in ("mousePressed", "mouseReleased"):
            self._page("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                       "button": "left", "clickCount": 1}, action=action)
        if navigate:
            self._wait_navigation(mark, action, timeout)

    def submit(self, form_selector, timeout=None):
        """Submits the form as its submit button would (requestSubmit: the
        constraint validation and submit handlers run) and waits for the
        page that follows."""
        action = "submit %s" % form_selector
        mark = self._mark()
        self._element(form_selector, (
            "if (!(el instanceof HTMLFormElement)) throw new Error('not a form');"
            " if (!el.checkValidity()) throw new Error('the form is invalid: ' +"
            " [...el.elements].filter(e => !e.validity.valid).map(e => e.name + ': '"
            " + e.validationMessage).join('; '));"
            " setTimeout(() => el.requestSubmit(), 0); return true;"), action)
        self._wait_navigation(mark, action, timeout)

    # -- state -------------------------------------------------------------

    def cookies(self):
        """The cookies of this context, as CDP's Network.Cookie objects
        (name, value, domain, path, expires, httpOnly, secure, sameSite...)."""
        return self._call("Storage.getCookies", {"browserContextId": self.context},
                          action="cookies")["cookies"]

    def cookie(self, name):
        """The cookie NAME of this context, or None."""
        for c in self.cookies():
            if c["name"] == name:
                return c
        return None

    def set_viewport(self, width, height, mobile=False, scale=1):
        """The window's CSS size, e.g. 1280x800 for a desktop or 360x740 with
        MOBILE (honours <meta name=viewport>, touch) for a phone."""
        self._page("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                   "deviceScaleFactor": scale, "mobile": bool(mobile)},
                   action="set_viewport")
        self._page("Emulation.setTouchEmulationEnabled", {"enabled": bool(mobile)},
                   action="set_viewport")

    def screenshot(self, path, full_page=True):
        """Writes a PNG of the page to PATH (the whole page unless FULL_PAGE
        is false) and returns PATH."""
        params = {"format": "png"}
        if full_page:
            m = self._page("Page.getLayoutMetrics", action="screenshot")
            size = m.get("cssContentSize") or m["contentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "scale": 1,
                              "width": max(1, math.ceil(size["width"])),
                              "height": max(1, math.ceil(size["height"]))}
        r = self._page("Page.captureScreenshot", params, action="screenshot")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def console_errors(self):
        """The errors the page reported since this context began, as text:
        console.error calls, uncaught exceptions, and the browser's own
        (Content-Security-Policy violations, failed loads, but not that of
        the /favicon.ico the browser asks for by itself)."""
        out = []
        with self._cond:
            events = [(m, p) for _, s, m, p in self._events if s == self.session]
        for m, p in events:
            if m == "Log.entryAdded" and p["entry"].get("level") == "error":
                e = p["entry"]
                if e.get("source") == "network" and \
                        e.get("url", "").split("?")[0].endswith("/favicon.ico"):
                    continue   # asked for by the browser, not by the page
                out.append("%s: %s%s" % (e.get("source"), e.get("text"),
                                         " (%s)" % e["url"] if e.get("url") else ""))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: " + (d.get("exception", {}).get("description")
                                            or d.get("text", "")))
        return out

    # -- the end -------------------------------------------------------------

    def _own_pids(self):
        """Processes still running with our profile folder in their command
        line (Chromium's helpers, some in sessions of their own)."""
        mine = []
        key = self.dir.encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if key in f.read():
                        mine.append(int(d))
            except OSError:
                pass
        return mine

    def close(self):
        """Ends Chromium and everything it started; removes the profile."""
        if self.pid:
            if not self._eof and self._wfd is not None:
                try:
                    self._call("Browser.close", timeout=3, action="close")
                except BrowserError:
                    pass
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    self.pid = None
                    break
                time.sleep(0.05)
            if self.pid:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(self.pid, 0)
                self.pid = None
            for pid in self._own_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._wfd is not None:
            os.close(self._wfd)
            self._wfd = None
        if self._reader:          # ends at EOF, once Chromium is gone
            self._reader.join(2)
            self._reader = None
        if self._rfd is not None:
            os.close(self._rfd)
            self._rfd = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def alive(self):
        return self.pid is not None and not self._eof

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
