"""Two reviewers score at once through their personal links in headless Chromium (Debian's
package, driven by Playwright), on a 375 px phone screen: each page loads in under a second
on loopback, fits the screen, shows only the reviewer's own anchors and no key while the
round is open, and both entries reach the store exactly once; a request without a token
gets 403.

Skips, saying why, only where no Chromium exists -- never in CI (``CI=true``), where
``.ci/run`` installs it."""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request

import pytest

from calibrate.store import Store
from tests.session.conftest import KEY_MARK, OTHER_MARK, RUBRIC
from tests.session.test_server import free_port, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="no Chromium on this machine (apt-get install chromium); CI installs it and never skips",
)


def _score(page, anchor: str, levels: dict[str, int]) -> None:
    """Pick each criterion's level in the anchor's form by its label, then save."""
    form = page.locator(f'form:has(input[name="submission"][value="{anchor}"])')
    for criterion, score in levels.items():
        form.locator(f'input[name="score:{criterion}"][value="{score}"]').check()
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")


def test_two_reviewers_score_at_once_on_a_phone(session_store):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must have Chromium: .ci/run installs Debian's chromium package"
    path, links = session_store
    port = free_port()
    proc = serve(path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            pytest.fail(f"a page without a token answered {r.status}")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            pages = {}
            for rid in ("R901", "R902"):
                ctx = browser.new_context(viewport={"width": 375, "height": 800})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(f"{base}/r/{links[(rid, 'R1')]}")
                page.wait_for_load_state("load")
                loaded = time.perf_counter() - t
                assert loaded < 1.0, f"{rid}'s page took {loaded:.2f} s"
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{rid}'s page is {width} px wide on a 375 px screen"
                html = page.content()
                assert KEY_MARK not in html  # blind while the round is open
                pages[rid] = page
            r901, r902 = pages["R901"].content(), pages["R902"].content()
            assert OTHER_MARK not in r901 and "R902" not in r901
            assert 'value="A03"' not in r901 and 'value="A01"' not in r902
            # both save (the browser posts the plain form)
            _score(pages["R901"], "A01", {"overview": 2, "artifacts": 3, "reflection": 2})
            _score(pages["R902"], "A03", {"overview": 3, "artifacts": 3, "reflection": 1})
            for page in pages.values():
                assert KEY_MARK not in page.content()
            browser.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    with Store.open(path, read_only=True) as store:
        f = store.ratings(RUBRIC, round_id="R1").frame
        got = f.groupby(["reviewer_id", "submission_id"], observed=True).size().to_dict()
    assert got[("R901", "A01")] == 3 and got[("R902", "A03")] == 3
