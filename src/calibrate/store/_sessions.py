"""The store's remote sessions: personal links (tokens kept only as hashes) and the audit log
of every save made through one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from calibrate._checks import check_instance
from calibrate.store._base import text_id
from calibrate.store._connection import now_iso
from calibrate.store._ratings import RatingsMixin

__all__ = ["Invitation", "SessionsMixin", "token_hash"]

#: Random bytes in a link's token: 256 bits (the issue asks for at least 128).
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """The hex SHA-256 of a link's token: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Invitation:
    """A valid personal link: its round, and its reviewer (None: the lead's link)."""

    rubric_id: str
    version: str
    round_id: str
    reviewer_id: str | None
    expires_at: str
    round_status: str
    token_sha256: str

    @property
    def is_lead(self) -> bool:
        return self.reviewer_id is None


@dataclass(frozen=True)
class NewLink:
    """A link just created: the token is shown once and never stored."""

    reviewer_id: str | None
    token: str
    expires_at: str


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SessionsMixin(RatingsMixin):
    """Personal links to a round's entry pages and the audit log of saves through them."""

    def create_invitations(
        self,
        rubric_id: str,
        round_id: str,
        *,
        reviewers: Sequence[str] | None = None,
        lead: bool = False,
        expires: timedelta = timedelta(days=7),
        version: str | None = None,
    ) -> list[NewLink]:
        """One new link per reviewer of a round (or, with ``lead``, the lead's link).

        Each link's token is ``secrets.token_urlsafe(32)`` (256 random bits); only its
        SHA-256 is stored. A reviewer's earlier links to the round are revoked, so the
        newest link is the only one that opens the page. ``reviewers`` default to the
        round's (:meth:`anchor_assignment`, else :meth:`round_assignment`); a reviewer not
        assigned to the round is refused, and nothing is written.
        """
        check_instance("lead", lead, bool)
        if not isinstance(expires, timedelta) or expires <= timedelta(0):
            raise ValueError(f"expires must be a positive timedelta; got {expires!r}")
        rnd = text_id(round_id, "round_id")
        wanted = None if reviewers is None else [text_id(r, "reviewers") for r in reviewers]

        def write() -> list[NewLink]:
            round_pk, assigned = self._round_reviewers(rubric_id, rnd, version)
            if lead:
                who: list[str | None] = [None]
            else:
                chosen = assigned if wanted is None else wanted
                unknown = [r for r in chosen if r not in assigned]
                if unknown:
                    raise ValueError(
                        f"reviewers {unknown} are not assigned to round {rnd!r} "
                        f"(its reviewers: {assigned or 'none yet'}); nothing was written"
                    )
                if not chosen:
                    raise ValueError(
                        f"round {rnd!r} has no reviewers assigned (calibrate round assign)"
                    )
                who = list(dict.fromkeys(chosen))
            now = datetime.now(UTC)
            created, until = _iso(now), _iso(now + expires)
            links = []
            for rev in who:
                rev_pk = None if rev is None else self._reviewer_pk(rev)
                self._c.execute(
                    "UPDATE invitations SET revoked_at = ? WHERE round_pk = ? AND "
                    "reviewer_pk IS ? AND revoked_at IS NULL",
                    (created, round_pk, rev_pk),
                )
                token = secrets.token_urlsafe(TOKEN_BYTES)
                self._c.execute(
                    "INSERT INTO invitations (token_sha256, round_pk, reviewer_pk, created_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?)",
                    (token_hash(token), round_pk, rev_pk, created, until),
                )
                links.append(NewLink(rev, token, until))
            return links

        return self._write(write, f"invite the reviewers of round {rnd!r}")

    def revoke_invitations(
        self,
        rubric_id: str,
        round_id: str,
        *,
        reviewers: Sequence[str] | None = None,
        lead: bool = False,
        version: str | None = None,
    ) -> int:
        """Revoke the round's links: those of ``reviewers``, the lead's (``lead``), or, with
        neither, every link of the round. Returns how many links were revoked."""
        rnd = text_id(round_id, "round_id")
        wanted = None if reviewers is None else [text_id(r, "reviewers") for r in reviewers]

        def write() -> int:
            round_pk, _assigned = self._round_reviewers(rubric_id, rnd, version)
            now = now_iso()
            sql = "UPDATE invitations SET revoked_at = ? WHERE round_pk = ? AND revoked_at IS NULL"
            if wanted is None and not lead:
                return int(self._c.execute(sql, (now, round_pk)).rowcount)
            n = 0
            pks: list[int | None] = [None] if lead else []
            pks += [self._reviewer_pk(r) for r in wanted or []]
            for pk in pks:
                n += self._c.execute(sql + " AND reviewer_pk IS ?", (now, round_pk, pk)).rowcount
            return n

        return self._write(write, f"revoke links of round {rnd!r}")

    def check_token(self, token: str) -> Invitation | None:
        """The invitation a link's token opens, or None (unknown, expired or revoked).

        The token is hashed before it is looked up, so the comparison is of hashes (and
        repeated with :func:`hmac.compare_digest`): the time taken tells nothing about
        how much of a guessed token was right.
        """
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        digest = token_hash(token)

        def read() -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = self._c.execute(
                "SELECT i.token_sha256, b.rubric_id, b.version, r.round_id, v.reviewer_id, "
                "i.expires_at, i.revoked_at, r.status FROM invitations i "
                "JOIN rounds r USING (round_pk) JOIN rubrics b ON b.rubric_pk = r.rubric_pk "
                "LEFT JOIN reviewers v ON v.reviewer_pk = i.reviewer_pk "
                "WHERE i.token_sha256 = ?",
                (digest,),
            ).fetchone()
            return row

        row = self._read(read)
        if row is None or not hmac.compare_digest(row[0], digest):
            return None
        stored, rubric_id, version, rnd, reviewer, expires_at, revoked_at, status = row
        if revoked_at is not None or expires_at <= now_iso():
            return None
        return Invitation(rubric_id, version, rnd, reviewer, expires_at, status, stored)

    def reviewer_entries(
        self, rubric_id: str, round_id: str, reviewer_id: str, *, version: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """One reviewer's stored entries in a round: ``{submission_id: {"scores":
        {criterion_id: score}, "rationale": text}}`` (only this reviewer's rows are read)."""

        def read() -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            keys = self._round_and_reviewer(rubric_id, round_id, reviewer_id, version)
            if keys is None:
                return out
            # the clustered key's (rubric, round) range, this reviewer's rows only
            for sub, crit, score in self._c.execute(
                "SELECT s.submission_id, c.criterion_id, x.score FROM ratings x "
                "JOIN submissions s ON s.submission_pk = x.submission_pk "
                "JOIN criteria c ON c.criterion_pk = x.criterion_pk "
                "WHERE x.rubric_pk = ? AND x.round_pk = ? AND x.reviewer_pk = ?",
                keys,
            ):
                out.setdefault(sub, {"scores": {}, "rationale": ""})["scores"][crit] = int(score)
            for sub, text in self._c.execute(
                "SELECT s.submission_id, x.rationale FROM rationales x "
                "JOIN submissions s ON s.submission_pk = x.submission_pk "
                "WHERE x.rubric_pk = ? AND x.round_pk = ? AND x.reviewer_pk = ?",
                keys,
            ):
                out.setdefault(sub, {"scores": {}, "rationale": ""})["rationale"] = text
            return out

        return self._read(read)

    def save_entry(
        self,
        rubric_id: str,
        round_id: str,
        reviewer_id: str,
        submission_id: str,
        scores: Mapping[str, int],
        *,
        rationale: str = "",
        client: str | None = None,
        version: str | None = None,
        reason: str = "edited in the entry form",
    ) -> list[dict[str, Any]]:
        """Save a reviewer's entry for one anchor and its audit rows, in one transaction.

        A first entry is stored with :meth:`enter_scores`; a later one supersedes it
        (the old scores go to the history with ``reason``). A changed rationale replaces
        the current one, the old text kept in the audit row. One audit row per changed
        criterion (and one for the rationale) records the time, the client address and the
        old and new values. Returns those rows (empty when nothing changed).
        """
        check_instance("rationale", rationale, str, "text (str)")
        text = rationale.strip()
        with self.transaction(f"save the entry for {submission_id!r}"):
            old = self.reviewer_entries(rubric_id, round_id, reviewer_id, version=version).get(
                submission_id, {"scores": {}, "rationale": ""}
            )
            first = not old["scores"]
            self.enter_scores(
                rubric_id,
                submission_id,
                reviewer_id,
                scores,
                round_id=round_id,
                kind="anchor",
                rationale=text if first or not old["rationale"] else "",
                version=version,
                supersede=not first,
                reason=None if first else reason,
            )
            rubric_pk = self._rubric_pk(rubric_id, version)
            round_pk = self._c.execute(
                "SELECT round_pk FROM rounds WHERE rubric_pk = ? AND round_id = ?",
                (rubric_pk, round_id),
            ).fetchone()[0]
            rev_pk, sub_pk = self._reviewer_pk(reviewer_id), self._submission_pk(submission_id)
            if not first and old["rationale"] and text != old["rationale"]:
                if text:
                    self._c.execute(
                        "UPDATE rationales SET rationale = ?, entered_at = ? WHERE rubric_pk = ? "
                        "AND round_pk = ? AND submission_pk = ? AND reviewer_pk = ?",
                        (text, _now_ns(), rubric_pk, round_pk, sub_pk, rev_pk),
                    )
                else:
                    self._c.execute(
                        "DELETE FROM rationales WHERE rubric_pk = ? AND round_pk = ? "
                        "AND submission_pk = ? AND reviewer_pk = ?",
                        (rubric_pk, round_pk, sub_pk, rev_pk),
                    )
            crit_pk = dict(
                self._c.execute(
                    "SELECT criterion_id, criterion_pk FROM criteria WHERE rubric_pk = ?",
                    (rubric_pk,),
                ).fetchall()
            )
            action = "entered" if first else "edited"
            at = now_iso()
            rows: list[dict[str, Any]] = []
            for cid, score in scores.items():
                was = old["scores"].get(cid)
                if was is None or int(was) != int(score):
                    rows.append(
                        {"criterion_id": cid, "old_score": was, "new_score": int(score)}
                        | {"old_rationale": None, "new_rationale": None}
                    )
            if text != old["rationale"]:
                rows.append(
                    {"criterion_id": None, "old_score": None, "new_score": None}
                    | {"old_rationale": old["rationale"] or None, "new_rationale": text or None}
                )
            self._c.executemany(
                "INSERT INTO audit_log (at, round_pk, reviewer_pk, submission_pk, criterion_pk, "
                "old_score, new_score, old_rationale, new_rationale, client, action) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        at,
                        round_pk,
                        rev_pk,
                        sub_pk,
                        None if r["criterion_id"] is None else crit_pk[r["criterion_id"]],
                        r["old_score"],
                        r["new_score"],
                        r["old_rationale"],
                        r["new_rationale"],
                        client,
                        action,
                    )
                    for r in rows
                ],
            )
        return [r | {"at": at, "action": action, "client": client} for r in rows]

    def audit_log(
        self, rubric_id: str | None = None, *, round_id: str | None = None
    ) -> pd.DataFrame:
        """Every save made through a personal link: at, rubric_id, version, round_id,
        reviewer_id, submission_id, criterion_id (empty: the rationale), old_score,
        new_score, old_rationale, new_rationale, client, action (``entered``/``edited``)."""

        def read() -> list[tuple[Any, ...]]:
            where, args = [], []
            if rubric_id is not None:
                self._rubric_pk(rubric_id, None)  # an unknown rubric is an error
                where.append("b.rubric_id = ?")
                args.append(rubric_id)
            if round_id is not None:
                where.append("r.round_id = ?")
                args.append(round_id)
            return self._c.execute(
                "SELECT a.at, b.rubric_id, b.version, r.round_id, v.reviewer_id, s.submission_id, "
                "c.criterion_id, a.old_score, a.new_score, a.old_rationale, a.new_rationale, "
                "a.client, a.action FROM audit_log a JOIN rounds r ON r.round_pk = a.round_pk "
                "JOIN rubrics b ON b.rubric_pk = r.rubric_pk "
                "JOIN reviewers v ON v.reviewer_pk = a.reviewer_pk "
                "JOIN submissions s ON s.submission_pk = a.submission_pk "
                "LEFT JOIN criteria c ON c.criterion_pk = a.criterion_pk "
                + ("WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY a.audit_pk",
                args,
            ).fetchall()

        cols = [
            "at",
            "rubric_id",
            "version",
            "round_id",
            "reviewer_id",
            "submission_id",
            "criterion_id",
            "old_score",
            "new_score",
            "old_rationale",
            "new_rationale",
            "client",
            "action",
        ]
        frame = pd.DataFrame(self._read(read), columns=cols)
        for c in ("old_score", "new_score"):
            frame[c] = frame[c].astype("Int64")
        return frame

    def round_progress(
        self, rubric_id: str, round_id: str, *, version: str | None = None
    ) -> dict[str, dict[str, list[str]]]:
        """Per reviewer of a round, the anchors ``done`` (scored on every criterion) and
        ``to_do``, each in the reviewer's order (:meth:`anchor_assignment`, else the
        round's anchors)."""
        rubric = self.rubric(rubric_id, version)
        orders = self.anchor_assignment(rubric_id, round_id, version=rubric.version)
        if not orders:
            assigned = self.round_assignment(rubric_id, round_id, version=rubric.version)
            orders = {r: list(assigned["anchors"]) for r in assigned["reviewers"]}
        need = set(rubric.criterion_ids)
        out = {}
        for rev, anchors in orders.items():
            entries = self.reviewer_entries(rubric_id, round_id, rev, version=rubric.version)
            done = [a for a in anchors if need <= set(entries.get(a, {}).get("scores", {}))]
            out[rev] = {"done": done, "to_do": [a for a in anchors if a not in done]}
        return out

    def reviewer_anchors(
        self, rubric_id: str, round_id: str, reviewer_id: str, *, version: str | None = None
    ) -> list[str]:
        """The anchors one reviewer scores in a round, in their order
        (:meth:`anchor_assignment`; a round without one: all its anchors, if the reviewer
        is assigned to it); empty if none."""

        def read() -> list[str]:
            keys = self._round_and_reviewer(rubric_id, round_id, reviewer_id, version)
            if keys is None:
                return []
            _rubric_pk, round_pk, rev_pk = keys
            if self._c.execute(
                "SELECT 1 FROM anchor_assignments WHERE round_pk = ? LIMIT 1", (round_pk,)
            ).fetchone():
                sql = (
                    "SELECT s.submission_id FROM anchor_assignments x JOIN submissions s "
                    "USING (submission_pk) WHERE x.round_pk = ? AND x.reviewer_pk = ? "
                    "ORDER BY x.position"
                )
            else:
                sql = (
                    "SELECT s.submission_id FROM round_anchors x JOIN submissions s "
                    "USING (submission_pk) WHERE x.round_pk = ? AND EXISTS (SELECT 1 FROM "
                    "round_reviewers v WHERE v.round_pk = x.round_pk AND v.reviewer_pk = ?) "
                    "ORDER BY 1"
                )
            return [r[0] for r in self._c.execute(sql, (round_pk, rev_pk))]

        return self._read(read)

    # ---- internals ---------------------------------------------------------------
    def _round_and_reviewer(
        self, rubric_id: str, round_id: str, reviewer_id: str, version: str | None
    ) -> tuple[int, int, int] | None:
        """(rubric_pk, round_pk, reviewer_pk), or None if the round or reviewer is unknown."""
        rubric_pk = self._rubric_pk(rubric_id, version)
        rnd = self._c.execute(
            "SELECT round_pk FROM rounds WHERE rubric_pk = ? AND round_id = ?",
            (rubric_pk, round_id),
        ).fetchone()
        rev = self._c.execute(
            "SELECT reviewer_pk FROM reviewers WHERE reviewer_id = ?", (reviewer_id,)
        ).fetchone()
        return None if rnd is None or rev is None else (rubric_pk, int(rnd[0]), int(rev[0]))

    def _round_reviewers(
        self, rubric_id: str, round_id: str, version: str | None
    ) -> tuple[int, list[str]]:
        round_pk = self._stored_round_pk(rubric_id, round_id, version)
        assigned = [
            r[0]
            for r in self._c.execute(
                "SELECT v.reviewer_id FROM round_reviewers x JOIN reviewers v USING (reviewer_pk) "
                "WHERE x.round_pk = ? ORDER BY 1",
                (round_pk,),
            )
        ]
        return round_pk, assigned

    def _reviewer_pk(self, reviewer_id: str) -> int:
        names = np.array([reviewer_id], dtype=object)
        return int(self._intern("reviewers", "reviewer_pk", "reviewer_id", names)[0])

    def _submission_pk(self, submission_id: str) -> int:
        names = np.array([submission_id], dtype=object)
        return int(self._intern("submissions", "submission_pk", "submission_id", names)[0])


def _now_ns() -> int:
    return int(datetime.now(UTC).timestamp() * 1e9)
