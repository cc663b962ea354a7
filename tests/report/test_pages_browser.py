"""The reports people open on a phone: in headless Chromium (Debian's package, driven by
Playwright) at 375 px, the round, reliability and severity pages fit the screen's width
(their tables scroll inside the page) -- the 2026-12 review measured a round report 961 px
wide on a phone.

Skips, saying why, only where no Chromium exists -- never in CI (``CI=true``)."""

from __future__ import annotations

import os
import shutil

import pytest

from calibrate.cli import main

from ..conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="no Chromium on this machine (apt-get install chromium); CI installs it and never skips",
)
PILOT = ROOT / "data" / "synthetic" / "pilot"
RUBRIC = str(ROOT / "rubrics" / "evidence-4level.yaml")


def test_report_pages_fit_a_375_px_screen(tmp_path, capsys):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must have Chromium: .ci/run installs Debian's chromium package"
    ratings, key = str(PILOT / "ratings.csv"), str(PILOT / "key.csv")
    made = {
        "round": ["round", ratings, "--rubric", RUBRIC, "--key", key],
        "reliability": ["reliability", ratings, "--rubric", RUBRIC],
        "severity": ["severity", ratings, "--rubric", RUBRIC, "--key", key],
    }
    for name, argv in made.items():
        assert main([*argv, "--html", str(tmp_path / f"{name}.html")]) == 0
    capsys.readouterr()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 375, "height": 800})
        for name in made:
            page.goto((tmp_path / f"{name}.html").as_uri())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"the {name} page is {width} px wide on a 375 px screen"
            # the wide tables are still all there, scrolling inside their box
            assert page.locator("div.scroll").count() >= 1
        browser.close()
