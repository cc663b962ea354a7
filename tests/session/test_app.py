"""The session app through Starlette's TestClient: every route refuses a bad link, saves
need the form's CSRF token and a small body, a reviewer saves only their own anchors, and
nothing of the key or of another reviewer reaches a reviewer's browser while the round is
open."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import pytest

with warnings.catch_warnings():
    # starlette 1.10 prefers httpx2 for its test client; httpx (installed) still works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from calibrate.session import app
from calibrate.store import Store
from tests.session.conftest import KEY_MARK, OTHER_MARK, RUBRIC

FULL = {"score:overview": "3", "score:artifacts": "2", "score:reflection": "4"}


@pytest.fixture
def client(session_store):
    path, links = session_store
    with TestClient(app(path, rubric_id=RUBRIC, round_id="R1"), follow_redirects=False) as c:
        yield c, path, links


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)


def n_ratings(path, reviewer="R901") -> int:
    with Store.open(path, read_only=True) as store:
        f = store.ratings(RUBRIC, round_id="R1").frame
        return int((f["reviewer_id"] == reviewer).sum())


def blind(text: str) -> None:
    assert KEY_MARK not in text and OTHER_MARK not in text and "R902" not in text


def test_every_route_refuses_a_bad_link(client, session_store):
    c, path, links = client
    with Store.open(path) as store:
        expired = store.create_invitations(
            RUBRIC, "R1", reviewers=["R901"], expires=timedelta(microseconds=1)
        )[0].token
    revoked = links[("R902", "R1")]
    with Store.open(path) as store:
        store.revoke_invitations(RUBRIC, "R1", reviewers=["R902"])
    bad = {
        "wrong": "not-a-token",
        "expired": expired,
        "revoked": revoked,
        "another round's": links[("R901", "R2")],
    }
    for why, token in bad.items():
        for r in (
            c.get(f"/r/{token}"),
            c.post(f"/r/{token}/save", data=FULL | {"submission": "A01"}),
            c.get(f"/lead/{token}"),
        ):
            assert r.status_code == 403, why
            assert "Ask the lead" in r.text and r.headers["cache-control"] == "no-store"
    # a reviewer's link does not open the lead's view, nor the lead's a reviewer's page
    assert c.get(f"/lead/{links[('R901', 'R1')]}").status_code == 403  # (was replaced: expired)
    assert c.get(f"/r/{links[(None, 'R1')]}").status_code == 403
    assert c.get("/").status_code == 403
    assert n_ratings(path) == 0


def test_a_reviewer_sees_only_their_anchors_and_saves_with_csrf(client):
    c, path, links = client
    token = links[("R901", "R1")]
    page = c.get(f"/r/{token}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "set-cookie" not in page.headers  # no cookies at all
    text = page.text
    blind(text)
    assert '<meta name="viewport"' in text and "<script" not in text and "http" not in text
    assert text.index("Anchor A02") < text.index("Anchor A01") and "A03" not in text
    assert "<select" not in text  # no drop-down of reviewers
    assert text.count("<fieldset>") == 2 * 3 and "<legend>Overview questions</legend>" in text
    assert "Plan sequences open questions and explains their purpose." in text  # descriptor
    assert "0 done" in text and "2 to do" in text
    form = FULL | {"submission": "A01", "rationale": "mine"}
    # CSRF missing or wrong: refused, nothing stored
    for csrf in (None, "0" * 64):
        data = form if csrf is None else form | {"csrf": csrf}
        r = c.post(f"/r/{token}/save", data=data)
        assert r.status_code == 403 and "reload your page" in r.text
    assert n_ratings(path) == 0
    good = form | {"csrf": csrf_of(text)}
    r = c.post(f"/r/{token}/save", data=good)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/r/{token}?saved=A01")
    assert n_ratings(path) == 3
    after = c.get(r.headers["location"]).text
    blind(after)
    assert "Saved your scores of A01" in after and "1 done" in after
    assert re.search(r'name="score:overview" value="3" required checked', after)
    # a JSON acknowledgement for scripts
    r = c.post(f"/r/{token}/save", data=good, headers={"accept": "application/json"})
    assert r.json() == {"ok": True, "submission_id": "A01", "changes": 0}


def test_a_reviewer_cannot_save_as_someone_else_or_outside_their_anchors(client):
    c, path, links = client
    token = links[("R901", "R1")]
    csrf = csrf_of(c.get(f"/r/{token}").text)
    # A03 belongs to R902 only; A09 to round R2
    for sub in ("A03", "A09"):
        r = c.post(f"/r/{token}/save", data=FULL | {"submission": sub, "csrf": csrf})
        assert r.status_code == 403 and "not one of yours" in r.text
        blind(r.text)
    # a reviewer_id field is ignored: the link says who saves
    r = c.post(
        f"/r/{token}/save",
        data=FULL | {"submission": "A02", "csrf": csrf, "reviewer_id": "R902", "reviewer": "R902"},
    )
    assert r.status_code == 303
    assert n_ratings(path, "R901") == 3 and n_ratings(path, "R902") == 3  # R902's A02 untouched
    with Store.open(path, read_only=True) as store:
        assert store.reviewer_entries(RUBRIC, "R1", "R902")["A02"]["scores"]["overview"] == 4
    # another reviewer's CSRF token does not fit this link
    other = csrf_of(c.get(f"/r/{links[('R902', 'R1')]}").text)
    r = c.post(f"/r/{token}/save", data=FULL | {"submission": "A01", "csrf": other})
    assert r.status_code == 403


def test_bad_forms_are_refused_whole_and_name_every_problem(client):
    c, path, links = client
    token = links[("R901", "R1")]
    csrf = csrf_of(c.get(f"/r/{token}").text)
    r = c.post(
        f"/r/{token}/save",
        data={"submission": "A01", "csrf": csrf, "score:overview": "7", "score:bogus": "1"},
    )
    assert r.status_code == 400
    blind(r.text)
    for words in (
        "Overview questions: 7 is not",
        "choose a level for Classroom artifacts",
        "score:bogus",
    ):
        assert words in r.text
    r = c.post(
        f"/r/{token}/save", data=FULL | {"submission": "A01", "csrf": csrf, "rationale": "x" * 5001}
    )
    assert r.status_code == 400 and "at most 5000" in r.text
    # an oversized body: 413 whether declared or sent chunked
    big = FULL | {"submission": "A01", "csrf": csrf, "rationale": "y" * 70_000}
    assert c.post(f"/r/{token}/save", data=big).status_code == 413

    def chunks():
        yield b"submission=A01&csrf=" + csrf.encode() + b"&rationale="
        for _ in range(20):
            yield b"z" * 4096

    r = c.post(
        f"/r/{token}/save",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    r = c.post(f"/r/{token}/save", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 415
    assert n_ratings(path) == 0


def test_an_edit_keeps_history_and_an_audit_row(client):
    c, path, links = client
    token = links[("R901", "R1")]
    csrf = csrf_of(c.get(f"/r/{token}").text)
    base = {"submission": "A01", "csrf": csrf}
    c.post(f"/r/{token}/save", data=base | FULL | {"rationale": "one"})
    c.post(f"/r/{token}/save", data=base | FULL | {"score:artifacts": "3", "rationale": "two"})
    with Store.open(path, read_only=True) as store:
        log = store.audit_log(RUBRIC, round_id="R1")
        log = log[log["reviewer_id"] == "R901"]
        edited = log[log["action"] == "edited"]
        assert edited[["criterion_id", "old_score", "new_score"]].astype(object).where(
            edited[["criterion_id", "old_score", "new_score"]].notna(), None
        ).values.tolist() == [["artifacts", 2, 3], [None, None, None]]
        assert (
            edited["old_rationale"].tolist()[1] == "one"
            and edited["new_rationale"].tolist()[1] == "two"
        )
        assert set(log["client"]) == {"testclient"}
        hist = store.rating_history(RUBRIC, round_id="R1")
        assert ((hist["reviewer_id"] == "R901") & (hist["criterion_id"] == "artifacts")).sum() == 2


def test_reviewer_text_is_escaped(client):
    c, path, links = client
    token = links[("R901", "R1")]
    csrf = csrf_of(c.get(f"/r/{token}").text)
    evil = '</textarea><script>alert("x")</script>'
    c.post(f"/r/{token}/save", data=FULL | {"submission": "A01", "csrf": csrf, "rationale": evil})
    text = c.get(f"/r/{token}").text
    assert "<script>" not in text and "&lt;/textarea&gt;&lt;script&gt;" in text


def test_after_close_the_reviewer_sees_their_results_and_the_lead_sees_progress(client):
    c, path, links = client
    token = links[("R901", "R1")]
    csrf = csrf_of(c.get(f"/r/{token}").text)
    c.post(f"/r/{token}/save", data=FULL | {"submission": "A01", "csrf": csrf})
    lead = c.get(f"/lead/{links[(None, 'R1')]}")
    assert lead.status_code == 200 and "<form" not in lead.text and KEY_MARK not in lead.text
    assert re.search(r"<td>R901</td><td>1</td><td>1</td><td>A02</td>", lead.text)
    assert re.search(r"<td>R902</td><td>1</td><td>1</td><td>A03</td>", lead.text)
    with Store.open(path) as store:
        store.close_round(RUBRIC, "R1")
    r = c.post(f"/r/{token}/save", data=FULL | {"submission": "A02", "csrf": csrf})
    assert r.status_code == 409 and n_ratings(path) == 3
    text = c.get(f"/r/{token}").text
    assert "<form" not in text and "Your result:" in text
    assert f"{KEY_MARK}-A01-overview" in text  # the key, now the round is closed
    assert "You did not score this anchor" in text  # A02
    assert OTHER_MARK not in text and "R902" not in text  # still no one else's work
    assert "you scored 1 of your 2 anchors: the result covers those only" in text
    assert "Anchors to discuss" in text and "A02 &mdash; furthest from the key" in text
