"""The synthetic program generator: determinism, the committed programs, the ratings
contract, the truth it plants being recoverable from its ratings, and bad settings."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.io import read_program
from calibrate.ratings import KINDS, RATING_COLUMNS
from calibrate.rubric import load_rubric
from calibrate.synth import SynthSpec, generate, program_files, write_program
from calibrate.synth.programs import PROGRAMS, build, main, write_programs

RUBRICS = ["evidence-4level", "discussion-hybrid", "met-not-yet"]


def rubric_of(name):
    return load_rubric(f"rubrics/{name}.yaml")


@pytest.fixture(scope="module", params=RUBRICS, ids=RUBRICS)
def medium(request):
    """A mid-sized program per rubric, with drift, seeded anchors and three rounds."""
    spec = SynthSpec(
        n_submissions=400,
        n_reviewers=10,
        n_rounds=3,
        n_anchors=5,
        n_seeded_anchors=6,
        seeded_rate=0.1,
        n_drifting=2,
        seed=11,
    )
    return generate(rubric_of(request.param), spec, name="medium")


def true_level_of_rows(program) -> np.ndarray:
    f = program.ratings
    true = program.truth["true_levels"]
    crit = f["criterion_id"].cat.codes.to_numpy()
    return np.array([true[s][c] for s, c in zip(f["submission_id"].astype(str), crit, strict=True)])


# ---- determinism --------------------------------------------------------------------


@pytest.mark.parametrize("rubric", RUBRICS, ids=RUBRICS)
def test_same_seed_gives_same_bytes_and_another_seed_does_not(rubric):
    spec = SynthSpec(n_submissions=80, n_reviewers=6, n_drifting=1, seed=5)
    a = program_files(generate(rubric_of(rubric), spec, rubric_path=f"rubrics/{rubric}.yaml"))
    b = program_files(generate(rubric_of(rubric), spec, rubric_path=f"rubrics/{rubric}.yaml"))
    assert a == b
    c = program_files(
        generate(
            rubric_of(rubric),
            dataclasses.replace(spec, seed=6),
            rubric_path=f"rubrics/{rubric}.yaml",
        )
    )
    assert c["ratings.csv"] != a["ratings.csv"] and c["truth.json"] != a["truth.json"]


@pytest.mark.parametrize("name", sorted(PROGRAMS), ids=sorted(PROGRAMS))
def test_committed_program_regenerates_byte_for_byte(name):
    files = program_files(build(name))
    folder = Path("data/synthetic") / name
    on_disk = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert set(files) == set(on_disk)
    for file, data in files.items():
        assert data == on_disk[file], f"{folder}/{file} differs from the generator: run `make data`"


def test_programs_command_checks_and_writes(tmp_path, capsys):
    assert main(["data/synthetic", "--check"]) == 0
    # written elsewhere (inside the checkout, so the rubric path resolves), then checked
    assert write_programs(tmp_path, ["pilot"]) == [
        "pilot/ratings.csv",
        "pilot/key.csv",
        "pilot/truth.json",
        "pilot/manifest.json",
    ]
    assert write_programs(tmp_path, ["pilot"], check=True) == []
    (tmp_path / "pilot" / "key.csv").write_text("changed\n")
    assert main([str(tmp_path), "pilot", "--check"]) == 1
    assert "pilot/key.csv" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "nonesuch"])


def test_committed_programs_are_small_and_synthetic():
    total = 0
    for name in PROGRAMS:
        for file in ("ratings.csv", "key.csv", "truth.json", "manifest.json"):
            data = (Path("data/synthetic") / name / file).read_bytes()
            total += len(data)
            assert b"\r" not in data
    assert total < 5_000_000


# ---- files and round trips ------------------------------------------------------------


def test_written_folder_reads_back_equal(tmp_path, medium):
    folder = write_program(medium, tmp_path / "prog")
    back = read_program(folder)
    pd.testing.assert_frame_equal(back.ratings.frame, medium.ratings)
    assert back.key is not None
    got = back.key.frame.assign(submission_id=back.key.frame["submission_id"].astype(str))
    want = medium.key.assign(submission_id=medium.key["submission_id"].astype(str))
    pd.testing.assert_frame_equal(got, want, check_categorical=False)
    assert back.truth == json.loads(json.dumps(medium.truth))
    # outside any checkout, the folder carries its rubric and names it
    assert back.manifest["rubric"]["path"] == "rubric.yaml"
    assert back.rubric == medium.rubric


def test_csv_layout(medium):
    files = program_files(medium)
    lines = files["ratings.csv"].decode().split("\n")
    assert lines[0] == ",".join(RATING_COLUMNS) and lines[-1] == ""
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$")
    for line in lines[1:-1:97]:
        sub, rev, crit, score, at, rnd, kind = line.split(",")
        assert re.fullmatch(r"A\d{3}|S\d{5}", sub) and re.fullmatch(r"R\d{3}", rev)
        assert stamp.match(at) and kind in KINDS and (rnd != "") == (kind == "anchor")
    key_lines = files["key.csv"].decode().split("\n")
    assert key_lines[0] == "submission_id,criterion_id,key_score,rationale"
    assert re.match(r'^A\d{3},\w+,\d,"?Key \d \(', key_lines[1])


def test_manifest_names_rubric_counts_and_settings():
    program = build("district")
    m = program.manifest
    assert m["rubric"] == {
        "path": "rubrics/discussion-hybrid.yaml",
        "id": "discussion-hybrid",
        "version": "1.2",
    }
    assert m["generator"]["seed"] == PROGRAMS["district"].spec.seed
    assert m["generator"]["parameters"] == PROGRAMS["district"].spec.to_dict()
    f = program.ratings
    c = m["counts"]
    assert (
        c["ratings"] == len(f) and c["rounds"] == 3 and c["reviewers"] == f["reviewer_id"].nunique()
    )
    assert c["submissions"] == f.loc[f["kind"] == "live", "submission_id"].nunique() == 600
    assert c["anchors"] == program.key["submission_id"].nunique()


# ---- the ratings contract -------------------------------------------------------------


def test_columns_kinds_and_no_duplicates(medium):
    f = medium.ratings
    assert f.columns.tolist() == list(RATING_COLUMNS)
    assert set(f["kind"].astype(str)) == set(KINDS)
    assert (f["round_id"].notna() == (f["kind"] == "anchor")).all()
    keys = f[["round_id", "submission_id", "reviewer_id", "criterion_id"]].astype(str)
    assert not keys.duplicated().any()
    # every scoring scores every criterion
    per = f.groupby(
        ["round_id", "submission_id", "reviewer_id"], observed=True, dropna=False
    ).size()
    assert (per == len(medium.rubric.criteria)).all()
    assert f["rated_at"].is_monotonic_increasing


def test_live_submissions_get_two_or_three_reviewers_and_third_only_when_triggered(medium):
    rubric = medium.rubric
    live = medium.ratings_table().select(kind="live")
    wide = live.wide().reset_index()
    when = live.frame.groupby(["submission_id", "reviewer_id"], observed=True)["rated_at"].first()
    wide["at"] = when.loc[
        list(zip(wide["submission_id"], wide["reviewer_id"], strict=True))
    ].to_numpy()
    wide = wide.sort_values(["submission_id", "at"])
    counts = wide.groupby("submission_id", observed=True).size()
    assert set(counts) <= {2, 3} and len(counts) == medium.spec.n_submissions
    trig = rubric.review_policy.third_review
    crit = list(rubric.criterion_ids)
    n_fired = 0
    for sid, g in wide.groupby("submission_id", observed=True):
        a, b = g[crit].to_numpy()[:2]
        ta, tb = a.sum(), b.sum()
        fired = bool(
            trig.decision_differs
            and rubric.decide(np.array([a]))[0] != rubric.decide(np.array([b]))[0]
        )
        if trig.criterion_differs_by is not None:
            fired |= bool(np.abs(a - b).max() >= trig.criterion_differs_by)
        if trig.total_within is not None:
            fired |= (
                min(abs(ta - rubric.pass_rule.min_total), abs(tb - rubric.pass_rule.min_total))
                <= trig.total_within
            )
        if trig.total_differs_by is not None:
            fired |= abs(ta - tb) >= trig.total_differs_by
        assert (len(g) == 3) == fired, sid
        if len(g) == 3:
            assert g["at"].iloc[2] > g["at"].iloc[:2].max()
        n_fired += fired
    assert n_fired == medium.manifest["counts"]["third_reviews"] > 0


def test_every_reviewer_scores_every_anchor_of_each_round(medium):
    f = medium.ratings
    reviewers = set(f["reviewer_id"].astype(str))
    anchors = f[f["kind"] == "anchor"]
    assert sorted(anchors["round_id"].dropna().unique()) == ["R1", "R2", "R3"]
    for rid, g in anchors.groupby("round_id", observed=True):
        want = set(medium.truth["rounds"][rid]["anchors"])
        assert set(g["submission_id"].astype(str)) == want
        cells = g.groupby(["submission_id", "reviewer_id"], observed=True).size()
        assert len(cells) == len(want) * len(reviewers)
        # a round takes the first two working days of its week
        start = pd.Timestamp(medium.truth["rounds"][rid]["starts_at"])
        assert (g["rated_at"] >= start).all() and (
            g["rated_at"] < start + pd.Timedelta(days=2)
        ).all()
    # rounds use their own anchors
    per_round = anchors.groupby("submission_id", observed=True)["round_id"].nunique()
    assert (per_round == 1).all()


def test_key_holds_every_anchor_at_its_true_level(medium):
    key, truth = medium.key, medium.truth
    anchors = sorted(
        {a for r in truth["rounds"].values() for a in r["anchors"]} | set(truth["seeded_anchors"])
    )
    assert sorted(key["submission_id"].astype(str).unique()) == anchors
    crit = list(medium.rubric.criterion_ids)
    for sid, c, k, why in key.itertuples(index=False):
        assert k == truth["true_levels"][sid][crit.index(c)]
        assert why.startswith(f"Key {k} ({medium.rubric.criterion(c).level(k).label})")
    f = medium.ratings
    seeded = f[f["kind"] == "seeded"]
    assert set(seeded["submission_id"].astype(str)) <= set(truth["seeded_anchors"])
    assert not seeded.duplicated(["submission_id", "reviewer_id", "criterion_id"]).any()
    assert not set(seeded["submission_id"].astype(str)) & {
        a for r in truth["rounds"].values() for a in r["anchors"]
    }


def test_times_fall_in_the_window_on_working_hours(medium):
    t = medium.ratings["rated_at"]
    window = medium.truth["window"]
    assert t.min() >= pd.Timestamp(window["start"]) and t.max() <= pd.Timestamp(window["end"])
    assert t.dt.day_of_week.max() <= 4 and t.dt.hour.between(8, 17).all()
    live = medium.ratings[medium.ratings["kind"] != "anchor"]["rated_at"]
    # live work spreads over the window, not just its start
    span = pd.Timestamp(window["end"]) - pd.Timestamp(window["start"])
    assert live.max() - live.min() > 0.7 * span


def test_scores_are_levels_of_their_criterion(medium):
    f = medium.ratings
    for c in medium.rubric.criteria:
        assert set(f.loc[f["criterion_id"] == c.id, "score"]) <= set(c.scores)


def test_one_reviewer_policy_and_three_reviewer_policy():
    base = rubric_of("evidence-4level")
    for n in (1, 3):
        rubric = base.model_copy(
            update={"review_policy": base.review_policy.model_copy(update={"reviewers": n})}
        )
        program = generate(rubric, SynthSpec(n_submissions=50, n_reviewers=4, seed=2))
        live = program.ratings[program.ratings["kind"] == "live"]
        per = live.groupby("submission_id", observed=True)["reviewer_id"].nunique()
        assert set(per) == {n}
        assert program.manifest["counts"]["third_reviews"] == 0


# ---- the truth is recoverable -----------------------------------------------------------


@pytest.mark.parametrize("rubric", RUBRICS, ids=RUBRICS)
@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_reviewer_severity_is_recoverable(rubric, seed):
    program = generate(
        rubric_of(rubric), SynthSpec(n_submissions=2000, n_reviewers=16, severity_sd=0.5, seed=seed)
    )
    dev = program.ratings["score"].to_numpy() - true_level_of_rows(program)
    mean_dev = pd.Series(dev).groupby(program.ratings["reviewer_id"].astype(str).to_numpy()).mean()
    severity = np.array([program.truth["reviewers"][r]["severity"] for r in mean_dev.index])
    assert np.corrcoef(mean_dev, -severity)[0, 1] > 0.9


@pytest.mark.parametrize("drift_size", [-0.8, 0.8], ids=["lenient", "harsh"])
def test_drift_shifts_a_drifting_reviewers_scores_by_about_drift_size(drift_size):
    spec = SynthSpec(
        n_submissions=3000,
        n_reviewers=12,
        severity_sd=0.2,
        central_tendency_range=(0.0, 0.0),
        n_drifting=3,
        drift_size=drift_size,
        drift_onset=0.4,
        seed=4,
    )
    program = generate(rubric_of("evidence-4level"), spec)
    f = program.ratings
    reviewers = program.truth["reviewers"]
    drifting = sorted(r for r, v in reviewers.items() if v["drift_onset"] is not None)
    assert len(drifting) == 3 and all(reviewers[r]["drift_size"] == drift_size for r in drifting)
    onset = pd.Timestamp(reviewers[drifting[0]]["drift_onset"])
    true = true_level_of_rows(program)
    # middle levels only: away from the ends of the scale, where clipping would blunt the shift
    d = pd.DataFrame(
        {
            "rev": f["reviewer_id"].astype(str),
            "dev": f["score"] - true,
            "after": f["rated_at"] >= onset,
        }
    )[np.isin(true, [2, 3])]
    means = d.groupby(["rev", "after"])["dev"].mean().unstack()
    change = means[True] - means[False]
    for r in change.index:
        want = -drift_size if r in drifting else 0.0
        assert abs(change[r] - want) < 0.25, (r, change[r], want)


@pytest.mark.parametrize("rubric", RUBRICS, ids=RUBRICS)
def test_true_pass_rate_hits_its_target_and_criteria_correlate(rubric):
    rates = []
    for seed in range(4):
        program = generate(
            rubric_of(rubric),
            SynthSpec(
                n_submissions=1500,
                n_reviewers=6,
                n_rounds=0,
                n_seeded_anchors=0,
                true_pass_rate=0.6,
                seed=seed,
            ),
        )
        true = np.array(list(program.truth["true_levels"].values()), dtype=float)
        rates.append(program.rubric.decide(true).mean())
        r = np.corrcoef(true.T)[np.triu_indices(true.shape[1], 1)]
        assert (r > 0.25).all() and (r < 0.9).all()
    # binomial SD of the mean of 4 x 1500 is 0.006; allow for the placement's own error
    assert abs(np.mean(rates) - 0.6) < 0.03


def test_central_tendency_avoids_the_extreme_levels():
    spec = SynthSpec(
        n_submissions=3000,
        n_reviewers=12,
        severity_sd=0.0,
        central_tendency_range=(0.0, 0.8),
        seed=8,
    )
    program = generate(rubric_of("evidence-4level"), spec)
    f = program.ratings
    extreme = f["score"].isin([1, 4]).groupby(f["reviewer_id"].astype(str).to_numpy()).mean()
    ct = np.array([program.truth["reviewers"][r]["central_tendency"] for r in extreme.index])
    assert np.corrcoef(extreme, ct)[0, 1] < -0.8


def test_halo_makes_a_reviewers_criteria_move_together():
    def within_scoring_corr(halo):
        spec = SynthSpec(
            n_submissions=3000,
            n_reviewers=8,
            halo_range=(halo, halo),
            central_tendency_range=(0.0, 0.0),
            seed=9,
        )
        program = generate(rubric_of("evidence-4level"), spec)
        f = program.ratings
        resid = pd.DataFrame(
            {
                "key": f["submission_id"].astype(str) + f["reviewer_id"].astype(str),
                "c": f["criterion_id"],
                "e": f["score"] - true_level_of_rows(program),
            }
        )
        w = resid.pivot(index="key", columns="c", values="e")
        return np.corrcoef(w.to_numpy(dtype=float).T)[0, 1]

    assert within_scoring_corr(0.6) > within_scoring_corr(0.0) + 0.2


# ---- settings -----------------------------------------------------------------------

BAD = [
    ({"n_submissions": 0}, "n_submissions must be an integer >= 1; got 0"),
    ({"n_submissions": 2.5}, "n_submissions must be an integer >= 1; got 2.5"),
    ({"n_submissions": True}, "n_submissions must be an integer >= 1; got True"),
    ({"n_reviewers": 1}, "n_reviewers must be an integer >= 2; got 1"),
    ({"seed": -1}, "seed must be an integer >= 0; got -1"),
    ({"seeded_rate": 0.7}, "seeded_rate must be a number in [0, 0.5]; got 0.7"),
    ({"true_pass_rate": 1.0}, "true_pass_rate must be a number in [0.02, 0.98]; got 1.0"),
    ({"severity_sd": float("nan")}, "severity_sd must be a number in [0, 5]; got nan"),
    ({"drift_onset": 1.0}, "drift_onset must be a number in (0, 1); got 1.0"),
    ({"drift_size": "big"}, "drift_size must be a number in [-5, 5]; got 'big'"),
    (
        {"noise_range": (0.6, 0.3)},
        "noise_range must be two numbers (low, high) with 0 <= low <= high <= 5",
    ),
    ({"noise_range": (0.3,)}, "noise_range must be two numbers (low, high)"),
    (
        {"central_tendency_range": (0.0, 1.0)},
        "central_tendency_range must be two numbers (low, high) with 0 <= low <= high < 1",
    ),
    ({"halo_range": 0.3}, "halo_range must be two numbers (low, high)"),
    ({"window_weeks": 0}, "window_weeks must be an integer from 1 to 520; got 0"),
    (
        {"start_date": "14/09/2026"},
        "start_date must be an ISO date YYYY-MM-DD from 1900 to 2199; got '14/09/2026'",
    ),
    ({"n_drifting": 20}, "n_drifting must be at most n_reviewers (12); got 20"),
    (
        {"n_rounds": 2, "n_anchors": 0},
        "n_anchors must be >= 1 when there are calibration rounds (n_rounds=2); got 0",
    ),
    ({"n_rounds": 5, "window_weeks": 4}, "n_rounds must be at most window_weeks (4)"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), BAD, ids=[next(iter(k)) + "-" + str(i) for i, (k, _) in enumerate(BAD)]
)
def test_bad_setting_names_the_parameter_the_allowed_values_and_the_value(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SynthSpec(**kwargs)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValueError) as exc:
        SynthSpec(n_submissions=0, seeded_rate=-1, drift_onset=0)
    text = str(exc.value)
    assert all(name in text for name in ("n_submissions", "seeded_rate", "drift_onset"))


def test_spec_is_frozen_strict_and_documented():
    spec = SynthSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="n_submission"):
        SynthSpec(n_submission=5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="seeded_rate"):
        dataclasses.replace(spec, seeded_rate=2.0)
    for f in dataclasses.fields(SynthSpec):
        assert f.metadata.get("help"), f.name
        assert f"{f.name} :" in SynthSpec.__doc__, f.name
    import datetime

    assert SynthSpec(start_date=datetime.date(2027, 1, 4)).start_date == "2027-01-04"
    assert json.loads(json.dumps(spec.to_dict())) == spec.to_dict()


def test_generate_checks_reviewers_against_the_review_policy_and_types():
    rubric = rubric_of("evidence-4level")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "n_reviewers must be at least 3 for rubric 'evidence-4level' (2 per submission plus a third when the reviews disagree); got 2"
        ),
    ):
        generate(rubric, SynthSpec(n_reviewers=2))
    with pytest.raises(TypeError, match="rubric must be a Rubric"):
        generate(42, SynthSpec())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="spec must be a SynthSpec"):
        generate(rubric, {"seed": 1})  # type: ignore[arg-type]


def test_programs_have_plausible_shapes():
    for name, want_rubric in [
        ("pilot", "evidence-4level"),
        ("district", "discussion-hybrid"),
        ("binary", "met-not-yet"),
    ]:
        program = build(name)
        assert program.rubric.id == want_rubric
        assert 0.5 <= program.truth["true_pass_rate"] <= 0.8
    district = build("district")
    assert sum(v["drift_onset"] is not None for v in district.truth["reviewers"].values()) == 3
    assert all(v["drift_onset"] is None for v in build("pilot").truth["reviewers"].values())


def test_a_program_without_anchors_has_no_key_file(tmp_path):
    program = generate(
        "rubrics/evidence-4level.yaml",
        SynthSpec(n_rounds=0, n_seeded_anchors=0, n_submissions=40, n_reviewers=4),
    )
    (tmp_path / "key.csv").write_text("left over\n")
    folder = write_program(program, tmp_path)
    assert not (folder / "key.csv").exists()
    back = read_program(folder)
    assert back.key is None and back.manifest["files"] == [
        "ratings.csv",
        "truth.json",
        "rubric.yaml",
    ]
    assert set(back.ratings.frame["kind"].astype(str)) == {"live"}
