"""A synthetic program split at mid-window into two rubric versions (no true change):
version 1.0 names the artifacts criterion ``classroom_artifacts`` and scores 0-3, version
2.0 is the program's rubric (``artifacts``, scores 1-4) with ``replaces`` saying so."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import Rubric, load_rubric
from calibrate.synth import generate
from calibrate.synth.programs import PROGRAMS

RENAMED = ("classroom_artifacts", "artifacts")


def versions(rubric: Rubric) -> tuple[Rubric, Rubric]:
    """(1.0, 2.0): 1.0 renames ``artifacts`` and shifts its scores down by one."""
    data = rubric.model_dump(mode="json")
    old = dict(data, version="1.0", scale=None, replaces=None)
    old["criteria"] = [
        dict(c, id=RENAMED[0], levels=[dict(lv, score=lv["score"] - 1) for lv in c["levels"]])
        if c["id"] == RENAMED[1]
        else c
        for c in data["criteria"]
    ]
    scores = rubric.criterion(RENAMED[1]).scores
    new = dict(
        data,
        version="2.0",
        replaces={
            "version": "1.0",
            "criteria": {RENAMED[0]: RENAMED[1]},
            "levels": {RENAMED[1]: {s - 1: s for s in scores}},
        },
    )
    return Rubric.model_validate(old), Rubric.model_validate(new)


def split_program(seed: int, name: str = "pilot", **spec: object):
    """(unsplit table, [1.0 table, 2.0 table], program) of one generated program."""
    named = PROGRAMS[name]
    program = generate(load_rubric(named.rubric_path), replace(named.spec, seed=seed, **spec))
    table = program.ratings_table()
    old, new = versions(table.rubric)
    f = table.frame
    cut = f["rated_at"].min() + (f["rated_at"].max() - f["rated_at"].min()) / 2
    early = (f["rated_at"] < cut).to_numpy()
    parts = []
    for rubric, rows in ((old, early), (new, ~early)):
        part = f.loc[rows]
        crit = part["criterion_id"].astype(str).to_numpy()
        score = part["score"].to_numpy().copy()
        if rubric is old:
            score[crit == RENAMED[1]] -= 1
            crit = np.where(crit == RENAMED[1], RENAMED[0], crit)
        frame = canonical_frame(
            part["submission_id"].astype(str),
            part["reviewer_id"].astype(str),
            crit,
            score,
            rubric,
            rated_at=part["rated_at"],
            round_id=part["round_id"].astype(object).where(part["round_id"].notna(), None),
            kind=part["kind"].astype(object).where(part["kind"].notna(), None),
        )
        parts.append(RatingsTable(frame, rubric))
    return table, parts, program
