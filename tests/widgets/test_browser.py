"""A reviewer enters a score in a real browser: ``calibrate serve-entry`` serves the form
with Voila on 127.0.0.1, headless Chromium (Debian's package, driven by Playwright)
fills it in, and the scores must reach the store.

Skips, saying why, only where no Chromium exists -- never in CI (``CI=true``), where
``.ci/run`` installs it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from calibrate.store import Store

from ..conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="no Chromium on this machine (apt-get install chromium); CI installs it and never skips",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(
                f"calibrate serve-entry exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def test_score_entered_in_chromium_reaches_the_store(tmp_path, evidence_rubric):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must have Chromium: .ci/run installs Debian's chromium package"
    db = tmp_path / "live.db"
    with Store.open(db) as s:
        s.add_rubric(evidence_rubric)
        s.assign_round(evidence_rubric.id, "R1", anchors=["A01", "A02"], reviewers=["R1", "R2"])
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "calibrate",
            "serve-entry",
            "--store",
            str(db),
            "--rubric-id",
            evidence_rubric.id,
            "--round",
            "R1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
                page.get_by_role("button", name="Save").wait_for(timeout=120_000)
                menus = page.locator("select")
                menus.nth(0).select_option("R2")
                menus.nth(1).select_option("A02")
                levels = page.get_by_role("button", name="4 Exemplary")
                assert levels.count() == len(evidence_rubric.criteria)
                for i in range(levels.count()):
                    levels.nth(i).click()
                page.get_by_role("textbox").fill("entered through the browser")
                page.get_by_role("button", name="Save").click()
                page.get_by_text("Saved 3 scores of A02 by R2").wait_for(timeout=30_000)
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()
    with Store.open(db) as s:
        f = s.ratings(evidence_rubric.id, round_id="R1").frame
        notes = s.rationales(evidence_rubric.id)
    assert (
        sorted(
            zip(
                f["reviewer_id"].astype(str),
                f["submission_id"].astype(str),
                f["score"],
                strict=True,
            )
        )
        == [("R2", "A02", 4)] * 3
    )
    assert notes["rationale"].tolist() == ["entered through the browser"]
