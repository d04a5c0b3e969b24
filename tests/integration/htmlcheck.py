"""Checks of the HTML the portal serves: assert_valid_html (Debian's tidy,
`apt-get install -y --no-install-recommends tidy`) and
assert_inputs_labelled (the standard library's html.parser).

What fails assert_valid_html: a document not starting with the HTML5
doctype, every tidy error, and every tidy warning (misnested or unclosed
tags, duplicate ids, an <img> without alt, a missing <title>, unknown
attributes...) except two that are tidy 5.6's own gaps, not faults of the
page: it is run with --drop-empty-elements no (an empty <span> or <td> is
valid HTML), and ALLOWED_ATTRIBUTES lists the attributes of the current
HTML standard that tidy 5.6 calls "proprietary"."""

import html.parser
import re
import shutil
import subprocess

INSTALL = "apt-get install -y --no-install-recommends tidy"

# attribute -> the elements it may stand on (None: any, a global attribute)
ALLOWED_ATTRIBUTES = {
    "autocapitalize": None,
    "enterkeyhint": None,
    "inputmode": None,
    "nonce": None,
}

TIDY_LINE = re.compile(r"^line (\d+) column (\d+) - (Warning|Error): (.*)$")
PROPRIETARY = re.compile(r'^<(\w+)> proprietary attribute "([^"]+)"')
DOCTYPE = re.compile(r"^\s*<!doctype html\s*>", re.IGNORECASE)


def tidy_messages(text):
    """The warnings and errors tidy reports on TEXT, as (line, column,
    kind, message), the ones ALLOWED_ATTRIBUTES excuses left out."""
    exe = shutil.which("tidy")
    assert exe, "tidy is not installed: run `%s` as root (or `scripts/deps check`)" % INSTALL
    out = subprocess.run([exe, "-q", "-e", "--show-warnings", "yes",
                          "--drop-empty-elements", "no", "--char-encoding", "utf8",
                          "--gnu-emacs", "no", "--show-errors", "1000"],
                         input=text.encode("utf-8"), capture_output=True, timeout=30)
    lines = out.stderr.decode("utf-8", "replace").splitlines()
    parsed = [m for m in map(TIDY_LINE.match, lines) if m]
    if out.returncode not in (0, 1, 2) or (out.returncode and not parsed):
        raise AssertionError("tidy failed (exit %d): %s" % (out.returncode, "\n".join(lines)))
    found = []
    for m in parsed:
        msg = m.group(4)
        p = PROPRIETARY.match(msg)
        if p and p.group(2) in ALLOWED_ATTRIBUTES:
            where = ALLOWED_ATTRIBUTES[p.group(2)]
            if where is None or p.group(1) in where:
                continue
        found.append((int(m.group(1)), int(m.group(2)), m.group(3), msg))
    return found


def _excerpt(text, line):
    lines = text.splitlines()
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def assert_valid_html(text):
    """TEXT is an HTML5 document that tidy finds no fault in (see the
    module's docstring for what counts)."""
    problems = []
    if not DOCTYPE.match(text):
        problems.append("the document does not start with <!DOCTYPE html>")
    for line, col, kind, msg in tidy_messages(text):
        problems.append("line %d column %d: %s: %s    | %s" % (
            line, col, kind, msg, _excerpt(text, line)))
    assert not problems, "invalid HTML:\n  " + "\n  ".join(problems)


# Inputs that carry their own label (their value or alt) or none.
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Labels(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls = []       # (description, attrs, inside a label with text?)
        self.label_for = {}      # id -> the text of the <label for=id>
        self.ids = set()
        self.texts = {}          # id -> text, for aria-labelledby
        self.stack = []          # open <label>s: [for, text pieces, controls inside]
        self.open = []           # open elements with an id: (tag, id, pieces)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "label":
            self.stack.append([a.get("for"), [], []])
        elif tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if not (tag == "input" and kind in UNLABELLED_TYPES):
                desc = "<%s%s>" % (tag, "".join(' %s="%s"' % (k, v) for k, v in attrs
                                                if k in ("id", "name", "type")))
                ctl = [desc, a, False]
                self.controls.append(ctl)
                if self.stack:
                    self.stack[-1][2].append(ctl)
        if a.get("id") and tag not in ("input", "br", "img", "hr", "meta", "link"):
            self.open.append((tag, a["id"], []))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.open and self.open[-1][0] == tag:
            self._close(tag)

    def handle_data(self, data):
        for lab in self.stack:
            lab[1].append(data)
        for _, _, pieces in self.open:
            pieces.append(data)

    def _close(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                _, ident, pieces = self.open.pop(i)
                self.texts[ident] = "".join(pieces).strip()
                return

    def handle_endtag(self, tag):
        if tag == "label" and self.stack:
            target, pieces, inside = self.stack.pop()
            text = "".join(pieces).strip()
            if target:
                self.label_for[target] = text
            for ctl in inside:
                ctl[2] = ctl[2] or bool(text)
        self._close(tag)


def unlabelled(text):
    """The form controls of TEXT that no label names, as descriptions."""
    p = _Labels()
    p.feed(text)
    p.close()
    bad = []
    for desc, a, wrapped in p.controls:
        if wrapped or a.get("aria-label", "").strip():
            continue
        if a.get("id") and p.label_for.get(a["id"]):
            continue
        refs = a.get("aria-labelledby", "").split()
        if refs and all(p.texts.get(r) for r in refs):
            continue
        bad.append(desc)
    return bad


def assert_inputs_labelled(text):
    """Every <input> (but hidden, submit, button, reset and image),
    <select> and <textarea> of TEXT has a name a screen reader can read: a
    <label for=its-id> with text, an enclosing <label> with text, a
    non-empty aria-label, or an aria-labelledby naming elements with text."""
    bad = unlabelled(text)
    assert not bad, "form controls without a label: " + ", ".join(bad)
