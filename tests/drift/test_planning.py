"""The seeding planner (``calibrate plan seeding``): its predictions against the full drift
monitor on synthetic programs, its curve's properties, its JSON, page and errors.

The check by simulation: programs from :func:`calibrate.synth.generate` whose live work
is single-scored (the rubric's review policy set to one reviewer, no calibration rounds),
so that the seeded anchors are the monitor's only evidence, as the planner assumes; a
quarter of the reviewers drift by half a level (harsher in some programs, more lenient
in others) half-way through the window. :class:`DriftMonitor` is fitted on each program
as ``calibrate drift`` fits it; the realised rates (drifters flagged within K reviews of
their onset, steady reviewers flagged at all) are compared with the planner's simulation
(:func:`seeded_signals`, the code :func:`seeding_plan` runs) for the same design: every
program reviewer's number of reviews, onset review and drift, each replicated with fresh
reviewers drawn as the generator draws them. Agreement is required within 3 combined
Monte Carlo standard errors.

Measured (12 programs, 180 drifters and 540 steady reviewers; seeding share 0.2, K = 100;
planner: 10 replicates of each reviewer's design): drifters flagged within 100 reviews,
realised 0.578 +- 0.037 against planned 0.559 +- 0.012; steady reviewers flagged, realised
0.050 +- 0.009 against planned 0.043 +- 0.003. The key levels matter: the generator's
seeded pool is top-heavy (about 39% of key scores at the top level, where a more lenient
drift is clipped), and with uniform key levels the planner over-predicts detection (0.704
against the realised 0.578, 3.3 combined standard errors off); drawing the key levels from
the program's key (``key=`` / ``--key``) removes the gap.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.drift import DriftMonitor, SeedingPlan, seeded_signals, seeding_plan
from calibrate.drift._planning import NEVER, draw_reviewers, key_level_rows
from calibrate.synth import SynthSpec, generate

RATE = 0.25  # seeded anchors per live review: a share of 0.25 / 1.25 = 0.2 of reviews
SHARE = RATE / (1 + RATE)
WITHIN = 100
N_PROGRAMS = 12
REPLICATES = 10


def _se(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-4) / n))


def _single_scored(rubric):
    policy = rubric.review_policy.model_copy(update={"reviewers": 1})
    return rubric.model_copy(update={"review_policy": policy})


def _realised(program, monitor: DriftMonitor) -> pd.DataFrame:
    """Per reviewer: reviews in the record, the onset's review index (NEVER: steady), the
    drift, and the review index of the monitor's flag (-1: none)."""
    reviews = (
        program.ratings.groupby(["reviewer_id", "submission_id"], observed=True)["rated_at"]
        .min()
        .reset_index()
    )
    flags = monitor.flags_.set_index("reviewer_id")
    rows = []
    for rid, g in reviews.groupby("reviewer_id", observed=True):
        times = np.sort(pd.DatetimeIndex(g["rated_at"]).asi8)
        truth = program.truth["reviewers"][str(rid)]
        onset = NEVER
        if truth["drift_onset"] is not None:
            onset = int(np.searchsorted(times, pd.Timestamp(truth["drift_onset"]).value))
        signal = -1
        if rid in flags.index:
            signal = int(np.searchsorted(times, flags.loc[rid, "signal_at"].value))
        rows.append(
            {
                "horizon": len(times),
                "onset": onset,
                "drift": truth["drift_size"],
                "signal": signal,
            }
        )
    return pd.DataFrame(rows)


def _rates(signal: np.ndarray, onset: np.ndarray) -> tuple[float, int, float, int]:
    drifter = onset != NEVER
    sig, on = signal[drifter], onset[drifter]
    detected = (sig >= on) & (sig - on + 1 <= WITHIN)
    return (
        float(detected.mean()),
        int(drifter.sum()),
        float((signal[~drifter] >= 0).mean()),
        int((~drifter).sum()),
    )


@pytest.fixture(scope="module")
def programs(evidence_rubric):
    rubric = _single_scored(evidence_rubric)
    out = []
    for seed in range(N_PROGRAMS):
        spec = SynthSpec(
            seed=seed,
            n_submissions=18000,  # 300 live reviews per reviewer on average
            n_reviewers=60,
            n_rounds=0,
            n_anchors=0,
            n_seeded_anchors=1500,  # the pool never runs out (each anchor once per reviewer)
            seeded_rate=RATE,
            n_drifting=15,
            drift_size=0.5 if seed % 2 else -0.5,
            drift_onset=0.5,
        )
        program = generate(rubric, spec)
        monitor = DriftMonitor(rng=0).fit(program.ratings_table(), program.answer_key())
        out.append((program, monitor))
    return out


def test_planner_predicts_the_full_monitor_on_synthetic_programs(programs, evidence_rubric):
    realised = pd.concat([_realised(p, m) for p, m in programs], ignore_index=True)
    assert not any(m.group_.drifted for _, m in programs)  # individual drift, not group
    assert (realised["onset"].to_numpy() != NEVER).sum() == 15 * N_PROGRAMS  # every drifter charted
    det, n_d, fa, n_s = _rates(realised["signal"].to_numpy(), realised["onset"].to_numpy())

    key = programs[0][0].answer_key()
    design = realised.loc[realised.index.repeat(REPLICATES)]
    onset = design["onset"].to_numpy()
    rng = np.random.default_rng(20261204)
    model = draw_reviewers(len(design), rng, drift=design["drift"].to_numpy(), onset=onset)
    signal, _ = seeded_signals(
        evidence_rubric,
        model,
        design["horizon"].to_numpy(),
        [SHARE],
        rng,
        key_levels=key_level_rows(key),
    )
    p_det, m_d, p_fa, m_s = _rates(signal[0], onset)
    tol_det = 3 * np.hypot(_se(det, n_d), _se(p_det, m_d))
    tol_fa = 3 * np.hypot(_se(fa, n_s), _se(p_fa, m_s))
    msg = (
        f"detected within {WITHIN}: realised {det:.3f} (n={n_d}) vs planned {p_det:.3f} "
        f"(n={m_d}), tolerance {tol_det:.3f}; false alarm: realised {fa:.3f} (n={n_s}) vs "
        f"planned {p_fa:.3f} (n={m_s}), tolerance {tol_fa:.3f}"
    )
    assert abs(det - p_det) <= tol_det, msg
    assert abs(fa - p_fa) <= tol_fa, msg
    # the design holds for the full monitor too (its record false-alarm rate is 5%)
    assert fa <= 0.05 + 3 * _se(0.05, n_s), msg
    # and the prediction is informative: detection is neither certain nor absent here
    assert 0.3 < p_det < 0.9, msg


def test_key_levels_change_the_prediction(programs, evidence_rubric):
    # The top-heavy seeded pool hides a drift more often than uniform key levels do: the
    # planner without the key over-predicts (why --key exists).
    rows = key_level_rows(programs[0][0].answer_key())
    assert rows.shape[1] == len(evidence_rubric.criteria)
    assert np.mean(rows == 3) > 0.3  # the generator's pool: a third or more at the top
    common = {"shares": [SHARE], "horizon": 360, "n_sim": 1500, "rng": 3}
    uniform = seeding_plan(evidence_rubric, **common)
    keyed = seeding_plan(evidence_rubric, key=programs[0][0].answer_key(), **common)
    gap = float(uniform.curve["p_detect"].iloc[0] - keyed.curve["p_detect"].iloc[0])
    se = float(np.hypot(uniform.curve["p_detect_se"].iloc[0], keyed.curve["p_detect_se"].iloc[0]))
    assert gap > 3 * se, f"uniform minus keyed detection {gap:.3f} +- {se:.3f}"
    assert keyed.key_anchors == len(rows)


# ---- the curve ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plan(evidence_rubric) -> SeedingPlan:
    return seeding_plan(evidence_rubric, shares=[0.02, 0.05, 0.1, 0.2, 0.4], n_sim=800, rng=1)


def test_curve_properties(plan):
    c = plan.curve
    assert c["share"].tolist() == [0.02, 0.05, 0.1, 0.2, 0.4]
    # more seeding, more detection (common random numbers: nested seeded sets)
    assert (np.diff(c["p_detect"]) > -2 * c["p_detect_se"].iloc[1:]).all()
    assert c["p_detect"].iloc[-1] - c["p_detect"].iloc[0] > 0.5
    # the monitor's design over the record holds at every share (3 MC standard errors)
    assert (c["false_alarm"] <= plan.false_alarm_rate + 3 * c["false_alarm_se"].clip(0.004)).all()
    np.testing.assert_allclose(
        c["p_detect_se"], np.sqrt(c["p_detect"] * (1 - c["p_detect"]) / plan.n_sim)
    )
    # delays shrink as seeding grows, where defined
    d = c["median_delay"].dropna()
    assert len(d) >= 2 and d.is_monotonic_decreasing
    assert c["seeded_per_reviewer"].tolist() == [s * 400 for s in c["share"]]
    # the share needed is the smallest share meeting the power
    meets = c.loc[c["p_detect"] >= plan.power, "share"]
    assert plan.share_needed == (float(meets.min()) if len(meets) else None)


def test_steady_reviewers_do_not_depend_on_the_shift(evidence_rubric):
    a = seeding_plan(evidence_rubric, shares=[0.2], shift=0.5, n_sim=300, rng=5)
    b = seeding_plan(evidence_rubric, shares=[0.2], shift=1.0, n_sim=300, rng=5)
    assert a.curve["false_alarm"].iloc[0] == b.curve["false_alarm"].iloc[0]
    assert b.curve["p_detect"].iloc[0] > a.curve["p_detect"].iloc[0]


def test_to_dict_is_the_json_contract(plan):
    doc = json.loads(json.dumps(plan.to_dict()))
    assert {
        "rubric_id",
        "shift",
        "within",
        "false_alarm_rate",
        "power",
        "curve",
        "share_needed",
    } <= set(doc)
    assert {
        "share",
        "p_detect",
        "p_detect_se",
        "false_alarm",
        "false_alarm_se",
        "median_delay",
    } <= set(doc["curve"][0])
    assert doc["rubric_id"] == "evidence-4level" and doc["within"] == 100


def test_same_seed_same_plan(evidence_rubric):
    a = seeding_plan(evidence_rubric, shares=[0.1], n_sim=100, rng=9)
    b = seeding_plan(evidence_rubric, shares=[0.1], n_sim=100, rng=9)
    pd.testing.assert_frame_equal(a.curve, b.curve)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"shift": 0}, ValueError, "shift must be a finite number > 0"),
        ({"within": 0}, ValueError, "within must be an integer >= 1"),
        ({"false_alarm_rate": 1.0}, ValueError, "false_alarm_rate must be"),
        ({"power": 0}, ValueError, "power must be"),
        ({"shares": []}, ValueError, "shares must name at least one share"),
        ({"shares": [0.1, 1.5]}, ValueError, "shares must be"),
        ({"horizon": 120}, ValueError, "horizon must leave room for the onset"),
        ({"n_sim": 0}, ValueError, "n_sim must be an integer >= 1"),
        ({"key": "key.csv"}, TypeError, "key must be a calibrate.ratings.AnswerKey"),
    ],
    ids=["shift", "within", "rate", "power", "no-shares", "share", "horizon", "n_sim", "key"],
)
def test_bad_settings_are_named(evidence_rubric, options, error, message):
    with pytest.raises(error, match=message):
        seeding_plan(evidence_rubric, **options)


def test_rubric_must_be_a_rubric():
    with pytest.raises(TypeError, match="rubric must be a calibrate.rubric.Rubric"):
        seeding_plan("rubrics/evidence-4level.yaml")  # type: ignore[arg-type]


# ---- command line ------------------------------------------------------------------------
ARGS = ["plan", "seeding", "--rubric", "rubrics/evidence-4level.yaml"]


def test_cli_json_and_text(capsys):
    small = ["--shares", "0.05,0.3", "--n-sim", "200", "--seed", "2"]
    assert main([*ARGS, *small, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["share"] for r in doc["curve"]] == [0.05, 0.3]
    assert doc["shift"] == 0.5 and doc["power"] == 0.8 and doc["false_alarm_rate"] == 0.05
    assert doc["curve"][1]["p_detect"] > doc["curve"][0]["p_detect"]
    assert main([*ARGS, *small, "--within", "150", "--power", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "P(flag <= 150)" in out and "flags 50% of drifters within 150 reviews" in out


def test_cli_key_and_html(tmp_path, capsys):
    page = tmp_path / "seeding.html"
    key = "data/synthetic/district/key.csv"  # the district program's anchors
    rubric = "rubrics/discussion-hybrid.yaml"
    args = ["plan", "seeding", "--rubric", rubric, "--key", key, "--shares", "0.2"]
    assert main([*args, "--n-sim", "100", "--html", str(page), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["html"] == str(page) and "anchors of the given key" in doc["model"]["key_levels"]
    text = page.read_text()
    assert "data:image/png;base64," in text and "Share needed" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shares", "0.1,abc"], "--shares takes numbers"),
        (["--shares", "0.1,1"], "--shares must each be between 0 and 1"),
        (["--within", "0"], "--within must be an integer >= 1"),
        (["--power", "1"], "--power must be between 0 and 1"),
        (["--false-alarm-rate", "0"], "--false-alarm-rate must be between 0 and 1"),
        (["--shift", "-1"], "--shift must be a number of levels"),
        (["--horizon", "50"], "horizon must leave room for the onset"),
    ],
    ids=["shares-text", "shares-range", "within", "power", "rate", "shift", "horizon"],
)
def test_cli_errors(capsys, extra, message):
    assert main([*ARGS, *extra, "--format", "json"]) == 2
    assert message in json.loads(capsys.readouterr().out)["error"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--format", "json"], "the following arguments are required: WHAT"),
        ([*ARGS, "--anchors", "10", "--format", "json"], "unrecognized arguments: --anchors"),
        (
            ["plan", "qualification", "--rubric", "rubrics/evidence-4level.yaml", "--shift", "1"]
            + ["--anchors", "5", "--format", "json"],
            "unrecognized arguments: --shift",
        ),
    ],
    ids=["no-plan", "seeding-anchors", "qualification-shift"],
)
def test_each_plan_has_its_own_options(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_seeding_curve_plot(plan):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from calibrate.plots import plot_seeding_curve

    fig, (left, right) = plt.subplots(1, 2)
    try:
        assert plot_seeding_curve(plan, ax=right) is fig
        assert right.has_data() and not left.has_data()
        assert len(right.lines) >= 4  # two curves, the power and the false-alarm design
    finally:
        plt.close(fig)
    with pytest.raises(TypeError, match="plan must be a calibrate.drift.SeedingPlan"):
        plot_seeding_curve("plan")  # type: ignore[arg-type]
