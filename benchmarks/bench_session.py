"""Issue 16 (light and fast enough): ``calibrate session`` with 50 reviewers at once.

The app runs in uvicorn in its own process on a loopback port, as ``calibrate session``
serves it. 50 client threads (urllib, one per reviewer, each with its personal link) start
together; each opens its page (time to first page), then saves its 20 anchors one after
another (a plain form POST asking for the JSON acknowledgement; each save's latency). Then
the store is read: every one of the 1,000 saves must be stored exactly once (3,000 ratings,
1,000 reviewer x anchor entries, 4,000 audit rows: three scores and a rationale each). The server's peak resident set is its
``VmHWM`` from ``/proc``.

Targets (issue 16): page p95 under 1 s, save p95 under 300 ms, server memory under 1 GB,
saves stored == 1000.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from _harness import ROOT, WORK, Measurement, row

N_REVIEWERS, N_SAVES = 50, 20
RUBRIC_ID = "evidence-4level"


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def _build(path) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "src"))
    from calibrate.rubric import load_rubric
    from calibrate.store import Store

    path.unlink(missing_ok=True)
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    rubric = load_rubric(ROOT / "rubrics" / "evidence-4level.yaml")
    anchors = [f"A{i:03d}" for i in range(1, N_SAVES + 1)]
    with Store.open(path) as store:
        store.add_rubric(rubric)
        store.assign_anchors(
            RUBRIC_ID,
            "B1",
            {
                f"R{i:03d}": anchors[i % N_SAVES :] + anchors[: i % N_SAVES]
                for i in range(N_REVIEWERS)
            },
        )
        return {link.reviewer_id: link.token for link in store.create_invitations(RUBRIC_ID, "B1")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run() -> list[dict]:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "session.db"
    links = _build(path)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = (
        "import uvicorn; from calibrate.session import app; "
        f"uvicorn.run(app({str(path)!r}), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the session server did not start") from None
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        pages: list[float] = []
        saves: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(N_REVIEWERS)

        def client(reviewer: str, token: str) -> None:
            try:
                start.wait()
                t = time.perf_counter()
                page = urllib.request.urlopen(f"{base}/r/{token}", timeout=60).read().decode()
                took = time.perf_counter() - t
                csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
                anchors = re.findall(r'name="submission" value="([^"]+)"', page)
                mine = []
                for n, a in enumerate(anchors):
                    body = urllib.parse.urlencode(
                        {
                            "csrf": csrf,
                            "submission": a,
                            "score:overview": 1 + n % 4,
                            "score:artifacts": 1 + (n + 1) % 4,
                            "score:reflection": 1 + (n + 2) % 4,
                            "rationale": f"benchmark entry {n}",
                        }
                    ).encode()
                    req = urllib.request.Request(
                        f"{base}/r/{token}/save", data=body, headers={"accept": "application/json"}
                    )
                    t = time.perf_counter()
                    urllib.request.urlopen(req, timeout=60).read()
                    mine.append(time.perf_counter() - t)
                with lock:
                    pages.append(took)
                    saves.extend(mine)
            except Exception as exc:  # reported below: the benchmark fails on any
                with lock:
                    failures.append(f"{reviewer}: {exc!r}")

        threads = [threading.Thread(target=client, args=kv) for kv in links.items()]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        with open(f"/proc/{server.pid}/status") as fh:
            hwm = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM")) / 1024
    finally:
        server.terminate()
        server.wait(30)
    from calibrate.store import Store

    with Store.open(path, read_only=True) as store:
        f = store.ratings(RUBRIC_ID, round_id="B1").frame
        entries = len(f.groupby(["reviewer_id", "submission_id"], observed=True))
        n_ratings, n_audit = len(f), len(store.audit_log(RUBRIC_ID))
    stored_ok = not failures and entries == 1000 and n_ratings == 3000 and n_audit == 4000
    print(
        f"  {len(saves)} saves in {wall:.1f} s; first page p50 {_p(pages, 50) * 1000:.0f} ms, "
        f"p95 {_p(pages, 95) * 1000:.0f} ms; save p50 {_p(saves, 50) * 1000:.0f} ms, "
        f"p95 {_p(saves, 95) * 1000:.0f} ms; server peak RSS {hwm:.0f} MB; stored entries "
        f"{entries}, ratings {n_ratings}, audit rows {n_audit}; failures {len(failures)}",
        flush=True,
    )
    for f_ in failures[:5]:
        print("  failure:", f_, flush=True)
    return [
        row(
            "session",
            "50 reviewers: first page, p95",
            Measurement(_p(pages, 95), hwm, None),
            target="< 1 s",
            ok=_p(pages, 95) < 1.0,
        ),
        row(
            "session",
            "50 reviewers x 20 saves: save, p95",
            Measurement(_p(saves, 95), hwm, None),
            target="< 0.3 s",
            ok=_p(saves, 95) < 0.3,
        ),
        row(
            "session",
            "server peak RSS (MB in peak column)",
            Measurement(wall, hwm, None),
            target="< 1024 MB",
            ok=hwm < 1024,
        ),
        row(
            "session",
            f"saves stored exactly once: {entries} of 1000",
            Measurement(wall, hwm, None),
            target="== 1000",
            ok=stored_ok,
        ),
    ]
