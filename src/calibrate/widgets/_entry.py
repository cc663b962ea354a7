"""A score-entry form generated from the rubric; every entry is saved the moment it is made."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import ipywidgets as w

from calibrate._problems import DataProblemError
from calibrate.rubric import Rubric
from calibrate.store import ConflictError, Store

__all__ = ["ScoreEntryForm"]


class ScoreEntryForm:
    """Score one anchor at a time against the rubric, saving to the store on *Save*.

    Each save opens the store, writes the reviewer's scores of the submission (and the
    rationale) in one transaction and closes it: a restarted kernel or a closed browser
    loses nothing, and several forms (in other processes or served with Voila) can write
    to one store at once. A submission outside the round, a missing criterion, an unknown
    reviewer or a score entered twice is refused with a message, and nothing is written.

    Parameters
    ----------
    store : path of the SQLite store (the rubric must have been added to it).
    rubric : the rubric scored; the form shows each criterion's levels and descriptors.
    round_id : the calibration round the scores belong to.
    submissions : the anchors of the round, offered in a menu.
    reviewers : the reviewers who may enter scores; None accepts any non-empty id.
    kind : the kind recorded with the scores (``anchor`` for calibration rounds).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from calibrate.rubric import load_rubric
    >>> from calibrate.store import ConflictError, Store
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "s.db"
    >>> with Store.open(db) as s:
    ...     _ = s.add_rubric(rubric)
    >>> form = ScoreEntryForm(db, rubric, round_id="R1", submissions=["A01", "A02"], reviewers=["R1"])
    >>> form.reviewer.value, form.submission.value = "R1", "A01"
    >>> for c in form.criteria.values():
    ...     c.value = 3
    >>> form.save.click()
    >>> form.message.value.startswith("<span")
    True
    """

    def __init__(
        self,
        store: str | Path,
        rubric: Rubric,
        *,
        round_id: str,
        submissions: Sequence[str],
        reviewers: Sequence[str] | None = None,
        kind: Literal["anchor", "live", "seeded"] = "anchor",
    ):
        if not submissions:
            raise ValueError("submissions must list the round's anchors; got none")
        self.store_path = Path(store)
        self.rubric = rubric
        self.round_id = round_id
        self.kind = kind
        self.submissions = [str(s) for s in submissions]
        self.allowed_reviewers = None if reviewers is None else [str(r) for r in reviewers]
        self.reviewer: Any = (
            w.Text(description="Reviewer", placeholder="your reviewer id")
            if reviewers is None
            else w.Dropdown(description="Reviewer", options=self.allowed_reviewers, value=None)
        )
        self.submission = w.Dropdown(description="Anchor", options=self.submissions, value=None)
        self.criteria: dict[str, w.ToggleButtons] = {}
        rows: list[w.Widget] = []
        for c in rubric.criteria:
            buttons = w.ToggleButtons(
                options=[(f"{lv.score} {lv.label}", lv.score) for lv in c.levels],
                value=None,
                tooltips=[lv.descriptor or lv.label for lv in c.levels],
                style={"button_width": "auto"},
            )
            self.criteria[c.id] = buttons
            descriptors = "".join(
                f"<li><b>{lv.score} {html.escape(lv.label)}</b>: {html.escape(lv.descriptor)}</li>"
                for lv in c.levels
                if lv.descriptor
            )
            head = f"<b>{html.escape(c.name)}</b>" + (
                f" &mdash; {html.escape(c.description)}" if c.description else ""
            )
            rows += [w.HTML(head), buttons]
            if descriptors:
                rows.append(
                    w.HTML(f"<ul style='margin:0 0 .6em 0;font-size:90%'>{descriptors}</ul>")
                )
        self.rationale = w.Textarea(
            description="Rationale",
            placeholder="why these levels (optional)",
            layout=w.Layout(width="95%"),
        )
        self.save = w.Button(description="Save", button_style="primary", icon="check")
        self.message = w.HTML()
        self.save.on_click(lambda _button: self.save_entry())
        self.widget = w.VBox(
            [
                w.HBox([self.reviewer, self.submission]),
                *rows,
                self.rationale,
                w.HBox([self.save, self.message]),
            ]
        )

    @classmethod
    def for_round(cls, store: str | Path, rubric_id: str, round_id: str) -> ScoreEntryForm:
        """The form of a round assigned in the store (:meth:`Store.assign_round`)."""
        with Store.open(store, create=False) as s:
            rubric = s.rubric(rubric_id)
            assigned = s.round_assignment(rubric_id, round_id)
        if not assigned["anchors"]:
            raise ValueError(
                f"round {round_id!r} has no anchors assigned; use Store.assign_round first"
            )
        return cls(
            store,
            rubric,
            round_id=round_id,
            submissions=assigned["anchors"],
            reviewers=assigned["reviewers"] or None,
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def problems(self) -> list[str]:
        """Why the current entry cannot be saved (empty when it can)."""
        out = []
        reviewer = (self.reviewer.value or "").strip()
        if not reviewer:
            out.append("choose or type your reviewer id")
        elif self.allowed_reviewers is not None and reviewer not in self.allowed_reviewers:
            out.append(f"reviewer {reviewer!r} is not assigned to round {self.round_id!r}")
        if self.submission.value is None:
            out.append("choose the anchor you scored")
        elif self.submission.value not in self.submissions:
            out.append(
                f"submission {self.submission.value!r} is not an anchor of round {self.round_id!r}"
            )
        missing = [
            self.rubric.criterion(cid).name for cid, b in self.criteria.items() if b.value is None
        ]
        if missing:
            out.append("choose a level for " + ", ".join(missing))
        return out

    def save_entry(self) -> bool:
        """Save the entry (what *Save* does). Returns True when it was written."""
        problems = self.problems()
        if problems:
            self._say("Not saved: " + "; ".join(problems) + ".", ok=False)
            return False
        reviewer, submission = self.reviewer.value.strip(), self.submission.value
        scores = {cid: int(b.value) for cid, b in self.criteria.items()}
        try:
            with Store.open(self.store_path, create=False) as store:
                store.enter_scores(
                    self.rubric.id,
                    submission,
                    reviewer,
                    scores,
                    round_id=self.round_id,
                    kind=self.kind,
                    rationale=self.rationale.value,
                    version=self.rubric.version,
                )
        except ConflictError:
            # the stored scores are not quoted: a form may be open to other people
            self._say(
                f"Not saved: {reviewer} already has a score for {submission} in this round "
                "(a score is entered once; the lead can correct it).",
                ok=False,
            )
            return False
        except DataProblemError as exc:
            self._say("Not saved: " + "; ".join(p.message for p in exc.problems), ok=False)
            return False
        except (ValueError, RuntimeError) as exc:
            self._say(f"Not saved: {exc}", ok=False)
            return False
        self._say(f"Saved {len(scores)} scores of {submission} by {reviewer}.", ok=True)
        for b in self.criteria.values():
            b.value = None
        self.rationale.value = ""
        self.submission.value = None
        return True

    def _say(self, text: str, *, ok: bool) -> None:
        colour = "#276749" if ok else "#c53030"
        self.message.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"
