"""Screenshots of a portal page as the tests take them: the page's HTML
checked (tidy, every input labelled), then a full-page PNG at desktop
(1280x800) and phone (360x740) width, each checked not to be blank, named
NAME-desktop.png and NAME-phone.png in the test's artifacts folder.
WARDEN_SCREENSHOTS=DIR also copies them there: WARDEN_SCREENSHOTS=
docs/screenshots tests/integration/run -k browser refreshes the set that
the README shows.  The viewport is left at desktop width."""

import os
import shutil

import htmlcheck
import pngcheck

WIDTHS = (("desktop", (1280, 800, False)), ("phone", (360, 740, True)))


def shots(browser, artifacts, name, check_html=True):
    if check_html:
        html = browser.source()
        htmlcheck.assert_valid_html(html)
        htmlcheck.assert_inputs_labelled(html)
    keep = os.environ.get("WARDEN_SCREENSHOTS")
    for width, (w, h, mobile) in WIDTHS:
        browser.set_viewport(w, h, mobile=mobile)
        path = os.path.join(artifacts, "%s-%s.png" % (name, width))
        browser.screenshot(path)
        pngcheck.assert_not_blank(path)
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, keep)
    browser.set_viewport(1280, 800)
