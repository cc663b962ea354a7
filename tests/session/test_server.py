"""The real server (uvicorn in a subprocess on a free loopback port): two reviewers save at
once from threads through urllib, each entry is stored exactly once, and the server stops
cleanly. And the CLI's invite / round close / export --audit."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from calibrate.cli import main
from calibrate.store import Store
from tests.session.conftest import RUBRIC

SRC = str(Path(__file__).resolve().parents[2] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(path, port: int) -> subprocess.Popen:
    code = (
        "import uvicorn; from calibrate.session import app; "
        f"uvicorn.run(app({str(path)!r}), host='127.0.0.1', port={port}, log_level='warning')"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.communicate()
    raise RuntimeError(f"the server did not start: {proc.stderr.read().decode()}")


def test_two_reviewers_save_at_once_through_the_real_server(session_store):
    path, links = session_store
    port = free_port()
    proc = serve(path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        results: dict[str, int] = {}

        def reviewer(rid: str, anchor: str) -> None:
            token = links[(rid, "R1")]
            page = urllib.request.urlopen(f"{base}/r/{token}", timeout=10).read().decode()
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
            body = urllib.parse.urlencode(
                {
                    "csrf": csrf,
                    "submission": anchor,
                    "score:overview": 2,
                    "score:artifacts": 3,
                    "score:reflection": 2,
                }
            ).encode()
            req = urllib.request.Request(
                f"{base}/r/{token}/save", data=body, headers={"accept": "application/json"}
            )
            results[rid] = json.load(urllib.request.urlopen(req, timeout=10))["changes"]

        threads = [
            threading.Thread(target=reviewer, args=("R901", "A01")),
            threading.Thread(target=reviewer, args=("R902", "A03")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == {"R901": 3, "R902": 3}
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=15)
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal (its exit
        # status is the signal's); no traceback on the way
        assert proc.returncode in (0, -signal.SIGTERM) and b"Traceback" not in err, err
    with Store.open(path, read_only=True) as store:
        f = store.ratings(RUBRIC, round_id="R1").frame
        keys = f.groupby(["reviewer_id", "submission_id"], observed=True).size().to_dict()
        assert keys == {("R901", "A01"): 3, ("R902", "A02"): 3, ("R902", "A03"): 3}
        log = store.audit_log(RUBRIC)
        assert set(log.loc[log["submission_id"] != "A02", "client"]) == {"127.0.0.1"}


def test_cli_invite_close_and_export_audit(session_store, tmp_path, capsys):
    path, _links = session_store
    args = ["--store", str(path), "--rubric-id", RUBRIC, "--round", "R1"]
    assert (
        main(
            [
                "invite",
                *args,
                "--base-url",
                "https://x.example/",
                "--expires",
                "2d",
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["reviewer_id"] for r in rows] == ["R901", "R902"]
    assert all(re.fullmatch(r"https://x\.example/r/[\w-]{43}", r["url"]) for r in rows)
    with Store.open(path, read_only=True) as store:
        assert store.check_token(rows[0]["url"].rsplit("/", 1)[1]).reviewer_id == "R901"
    assert main(["invite", *args, "--revoke", "--reviewers", "R902", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["revoked"] == 1
    assert main(["invite", *args, "--expires", "soon"]) == 2
    assert "--expires must be" in capsys.readouterr().err
    assert main(["round", "close", *args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "closed"
    out = tmp_path / "audit.csv"
    assert main(["export", str(out), "--store", str(path), "--audit"]) == 0
    text = out.read_text()
    assert text.splitlines()[0].startswith("at,rubric_id,version,round_id,reviewer_id")
    assert "R902" in text and "127.0.0.9" in text
