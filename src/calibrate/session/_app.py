"""The remote calibration session: a small ASGI app serving each reviewer's personal page.

Every route takes the link's token first: an unknown, expired or revoked token (or one of
another round than the one served) gets the same 403 page. A reviewer's page is built
only from that reviewer's entries while the round is open; the key appears after it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from calibrate._problems import DataProblemError
from calibrate.session._pages import (
    denied_page,
    lead_page,
    problems_page,
    results_page,
    reviewer_page,
)
from calibrate.store import Invitation, Store

__all__ = ["app"]

T = TypeVar("T")

#: Bytes a save's request body may hold (a form of a few criteria is well under 4 kB).
MAX_BODY = 64 * 1024
#: Characters a rationale may hold.
MAX_RATIONALE = 5000
_SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the token is in the address
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGI = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class _TooLarge(Exception):
    pass


class _Security:
    """ASGI middleware: every response gets no-store and the security headers."""

    def __init__(self, inner: ASGI) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _v in message.get("headers", [])}
                message["headers"] = [
                    *[h for h in message.get("headers", []) if h[0].lower() != b"cache-control"],
                    *[
                        h
                        for h in _SECURITY_HEADERS
                        if h[0] == b"cache-control" or h[0] not in names
                    ],
                ]
            await send(message)

        await self.inner(scope, receive, sending)


def app(
    store_path: str | Path,
    *,
    rubric_id: str | None = None,
    round_id: str | None = None,
    secret: bytes | None = None,
    max_body: int = MAX_BODY,
    max_rationale: int = MAX_RATIONALE,
) -> Starlette:
    """The session app over one store (``uvicorn`` serves it: ``calibrate session``).

    Parameters
    ----------
    store_path : the store (links made with :meth:`Store.create_invitations`).
    rubric_id, round_id : serve only this round (a link of another round is refused);
        default every round with links.
    secret : key of the forms' CSRF tokens (HMAC-SHA256 of the link's token hash); default
        random per app, so a restarted server asks open pages to reload.
    max_body : bytes a save may send (beyond: 413, nothing stored).
    max_rationale : characters a rationale may hold.

    Routes: ``GET /r/{token}`` a reviewer's page, ``POST /r/{token}/save`` a save (a plain
    form POST, answered with a redirect to the page; ``Accept: application/json`` gets a
    small JSON acknowledgement), ``GET /lead/{token}`` the lead's progress view.
    """
    path = Path(store_path)
    if not path.is_file():
        raise FileNotFoundError(f"no store at {path}")
    key = secrets.token_bytes(32) if secret is None else secret

    def csrf_of(inv: Invitation) -> str:
        return hmac.new(key, f"save:{inv.token_sha256}".encode(), hashlib.sha256).hexdigest()

    def valid(store: Store, token: str, *, lead: bool) -> Invitation | None:
        inv = store.check_token(token)
        if inv is None or inv.is_lead != lead:
            return None
        if rubric_id is not None and inv.rubric_id != rubric_id:
            return None
        if round_id is not None and inv.round_id != round_id:
            return None
        return inv

    # SQLite takes one writer at a time: every save runs on one writer thread with one
    # open connection, so saves queue in order instead of meeting in SQLite's busy handler
    # (whose sleeps grow to tens of ms), and the store is checked once, not per save
    writer = _Writer(path)

    def denied() -> HTMLResponse:
        return HTMLResponse(denied_page(), status_code=403)

    def anchors_of(store: Store, inv: Invitation) -> list[str]:
        reviewer = _reviewer_of(inv)
        return store.reviewer_anchors(inv.rubric_id, inv.round_id, reviewer, version=inv.version)

    def render(token: str, saved: str | None) -> str | None:
        with Store.open(path, create=False, read_only=True) as store:
            inv = valid(store, token, lead=False)
            if inv is None or inv.reviewer_id is None:
                return None
            rubric = store.rubric(inv.rubric_id, inv.version)
            anchors = anchors_of(store, inv)
            if inv.round_status == "closed":
                return _results(store, inv, rubric, anchors)
            entries = store.reviewer_entries(
                inv.rubric_id, inv.round_id, inv.reviewer_id, version=inv.version
            )
        return reviewer_page(
            rubric=rubric,
            round_id=inv.round_id,
            reviewer_id=inv.reviewer_id,
            anchors=anchors,
            entries=entries,
            action=f"/r/{quote(token, safe='')}/save",
            csrf=csrf_of(inv),
            max_rationale=max_rationale,
            saved=saved if saved in anchors else None,
        )

    async def reviewer(request: Request) -> Response:
        token = request.path_params["token"]
        text = await run_in_threadpool(render, token, request.query_params.get("saved"))
        return denied() if text is None else HTMLResponse(text)

    def store_save(
        inv: Invitation, form: dict[str, str], client: str | None
    ) -> tuple[int, list[str], int]:
        """(HTTP status, problems, audit rows written)."""
        reviewer = _reviewer_of(inv)
        store = writer.store()
        rubric = store.rubric(inv.rubric_id, inv.version)
        anchors = anchors_of(store, inv)
        sub = form.get("submission", "")
        if sub not in anchors:
            return 403, ["this anchor is not one of yours in this round; nothing was saved"], 0
        problems, scores = [], {}
        for c in rubric.criteria:
            given = form.get(f"score:{c.id}")
            if given is None or given == "":
                problems.append(f"choose a level for {c.name}")
                continue
            try:
                value = int(given)
            except ValueError:
                value = None
            if value is None or value not in c.scores:
                problems.append(f"{c.name}: {given} is not one of its levels {list(c.scores)}")
            else:
                scores[c.id] = value
        extra = sorted(
            k for k in form if k.startswith("score:") and k[6:] not in rubric.criterion_ids
        )
        if extra:
            problems.append(f"fields {extra} are not criteria of the rubric")
        rationale = form.get("rationale", "")
        if len(rationale) > max_rationale:
            problems.append(
                f"the rationale has {len(rationale)} characters; at most {max_rationale}"
            )
        if problems:
            return 400, problems, 0
        try:
            rows = store.save_entry(
                inv.rubric_id,
                inv.round_id,
                reviewer,
                sub,
                scores,
                rationale=rationale,
                client=client,
                version=inv.version,
            )
        except DataProblemError:
            # (a closed round: the messages may quote stored values, never shown)
            return 409, ["the round is closed: scores can no longer be changed"], 0
        except ValueError as exc:
            return 400, [str(exc)], 0
        return 200, [], len(rows)

    async def save(request: Request) -> Response:
        token = request.path_params["token"]
        # (on the writer's open connection: a cheap look-up, no store to open per save)
        inv = await writer.run(lambda: valid(writer.store(), token, lead=False))
        if inv is None:
            return denied()
        wants_json = "application/json" in request.headers.get("accept", "")
        back = f"/r/{quote(token, safe='')}"

        def refuse(status: int, problems: list[str]) -> Response:
            if wants_json:
                return JSONResponse({"ok": False, "problems": problems}, status_code=status)
            return HTMLResponse(problems_page("Not saved", problems, back), status_code=status)

        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return refuse(415, ["send the form as application/x-www-form-urlencoded"])
        try:
            declared = int(request.headers.get("content-length", "0"))
        except ValueError:
            return refuse(400, ["a bad Content-Length header"])
        if declared > max_body:
            return refuse(413, [f"the form is larger than {max_body} bytes; nothing was saved"])
        try:
            body = await _read_capped(request, max_body)
        except _TooLarge:
            return refuse(413, [f"the form is larger than {max_body} bytes; nothing was saved"])
        try:
            pairs = parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=500,
            )
        except (UnicodeDecodeError, ValueError):
            return refuse(400, ["the form could not be read (not UTF-8 form data)"])
        form: dict[str, str] = {}
        for k, v in pairs:
            form.setdefault(k, v)
        if not hmac.compare_digest(form.get("csrf", ""), csrf_of(inv)):
            return refuse(403, ["this form is out of date: reload your page and save again"])
        if inv.round_status == "closed":
            return refuse(409, ["the round is closed: scores can no longer be changed"])
        client = request.client.host if request.client else None
        status, problems, n = await writer.run(store_save, inv, form, client)
        if status != 200:
            return refuse(status, problems)
        sub = form["submission"]
        if wants_json:
            return JSONResponse({"ok": True, "submission_id": sub, "changes": n})
        return RedirectResponse(f"{back}?saved={quote(sub, safe='')}#a-{quote(sub, safe='')}", 303)

    def render_lead(token: str) -> str | None:
        with Store.open(path, create=False, read_only=True) as store:
            inv = valid(store, token, lead=True)
            if inv is None:
                return None
            rubric = store.rubric(inv.rubric_id, inv.version)
            progress = store.round_progress(inv.rubric_id, inv.round_id, version=inv.version)
        return lead_page(
            rubric=rubric, round_id=inv.round_id, status=inv.round_status, progress=progress
        )

    async def lead(request: Request) -> Response:
        text = await run_in_threadpool(render_lead, request.path_params["token"])
        return denied() if text is None else HTMLResponse(text)

    async def other(request: Request) -> Response:
        return HTMLResponse(denied_page(), status_code=403)

    routes = [
        Route("/r/{token}", reviewer, methods=["GET"]),
        Route("/r/{token}/save", save, methods=["POST"]),
        Route("/lead/{token}", lead, methods=["GET"]),
        Route("/{rest:path}", other, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await writer.close()

    starlette = Starlette(routes=routes, lifespan=lifespan)
    starlette.add_middleware(_Security)
    return starlette


class _Writer:
    """One thread that makes every write, on one store connection opened on first use."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="calibrate-session-writer")
        self._store: Store | None = None

    def store(self) -> Store:
        """The writer's store (call only on the writer thread)."""
        if self._store is None:
            self._store = Store.open(self._path, create=False)
        return self._store

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._pool.submit(fn, *args))

    async def close(self) -> None:
        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        await self.run(shut)
        self._pool.shutdown(wait=True)


async def _read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it grows past ``limit`` (a chunked body has no
    Content-Length to check first)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reviewer_of(inv: Invitation) -> str:
    """The reviewer a link belongs to. Only reviewers' links reach the pages that score or
    show results (the routes check it first); the lead's link has no reviewer."""
    if inv.reviewer_id is None:
        raise PermissionError("the lead's link neither scores nor sees a reviewer's results")
    return inv.reviewer_id


def _results(store: Store, inv: Invitation, rubric: Any, anchors: list[str]) -> str:
    """The closed round's page for one reviewer: only their ratings meet the key."""
    import pandas as pd

    from calibrate.calibration import discussion_ranking, keyed_scores, qualify
    from calibrate.ratings import RatingsTable

    reviewer = _reviewer_of(inv)
    table = store.ratings(inv.rubric_id, round_id=inv.round_id, version=inv.version)
    key = store.answer_key(inv.rubric_id, version=inv.version)
    f = table.frame
    mine_table = RatingsTable(
        f[f["reviewer_id"].astype(str) == reviewer].reset_index(drop=True), table.rubric
    )
    summary = None
    mine = pd.DataFrame(columns=["submission_id", "criterion_id", "score", "key_score"])
    to_discuss = pd.DataFrame(columns=["submission_id", "worst_criterion"])
    try:
        ks = keyed_scores(mine_table, key, round_id=inv.round_id)
        if len(ks):
            result = qualify(mine_table, key, round_id=inv.round_id)
            record = result.to_records()[0]
            notes = [*list(record.get("warnings") or []), *result.warnings]  # type: ignore[call-overload]
            summary = record | {"warnings": notes}
            mine = ks
        # the group's anchors to discuss: ids and the criterion furthest off, no reviewers
        ranked = discussion_ranking(table, key, round_id=inv.round_id)
        to_discuss = ranked[ranked["off_key"] > 0].head(5)
    except ValueError:
        pass
    why = key.frame.assign(
        submission_id=key.frame["submission_id"].astype(str),
        criterion_id=key.frame["criterion_id"].astype(str),
    ).set_index(["submission_id", "criterion_id"])["rationale"]
    mine = mine.assign(
        key_rationale=[
            str(why.get((s, c), ""))
            for s, c in zip(mine["submission_id"], mine["criterion_id"], strict=True)
        ]
    )
    return results_page(
        rubric=rubric,
        round_id=inv.round_id,
        reviewer_id=reviewer,
        anchors=anchors,
        mine=mine,
        summary=summary,
        to_discuss=to_discuss,
    )
