"""The size of a flagged drift and its interval: per source the mean residual after the onset
minus before, combined by inverse variance (weights 1 / var, var = scale^2 (1/n_before +
1/n_after)), SE = 1 / sqrt(sum of weights) -- the textbook fixed-effect combination
(e.g. Borenstein et al. 2009, *Introduction to Meta-Analysis*, eq. 11.3-11.5), computed here by
hand; and the flags' plain-words table carries it."""

from __future__ import annotations

import math

import numpy as np

from calibrate.drift._flags import _size
from calibrate.io import read_program


def test_size_and_se_are_the_inverse_variance_combination():
    times = np.arange(10, dtype=np.int64)
    src = np.array([0, 0, 0, 1, 1, 0, 0, 1, 1, 1])
    n = np.array([1, 2, 1, 1, 3, 2, 1, 1, 2, 1])
    y = np.array([0.1, -0.2, 0.0, 0.3, 0.1, 0.6, 0.8, 0.9, 0.5, 0.7])
    scale = np.array([0.5, 0.8])
    onset = 5
    est, w = [], []
    for c in (0, 1):
        b = (src == c) & (times < onset)
        a = (src == c) & (times >= onset)
        d = (y[a] * n[a]).sum() / n[a].sum() - (y[b] * n[b]).sum() / n[b].sum()
        est.append(d)
        w.append(1 / (scale[c] ** 2 * (1 / b.sum() + 1 / a.sum())))
    want = np.dot(w, est) / sum(w)
    shift, se, used = _size(times, src, n, y, onset, scale)
    assert math.isclose(shift, want, rel_tol=1e-12)
    assert math.isclose(se, 1 / math.sqrt(sum(w)), rel_tol=1e-12)
    assert used == ["key", "co_reviewers"]
    # a source without ratings on one side of the onset does not enter: at onset 3 the
    # co-reviewer steps (times 3, 4, 7, 8, 9) are all after it
    shift1, se1, used1 = _size(times, src, n, y, 3, scale)
    b, a = (src == 0) & (times < 3), (src == 0) & (times >= 3)
    d0 = (y[a] * n[a]).sum() / n[a].sum() - (y[b] * n[b]).sum() / n[b].sum()
    se0 = scale[0] * math.sqrt(1 / b.sum() + 1 / a.sum())
    assert used1 == ["key"] and math.isclose(shift1, d0) and math.isclose(se1, se0)
    none = _size(times[:3], src[:3], n[:3], y[:3], 100, scale)
    assert math.isnan(none[0]) and math.isnan(none[1]) and none[2] == []


def test_flags_carry_the_interval_and_say_it_in_words():
    from calibrate.drift import detect_drift

    program = read_program("data/synthetic/district")
    report = detect_drift(program.ratings, program.key, rng=0)
    f = report.flags
    assert len(f) >= 1
    assert np.allclose(f["shift_low"], f["shift"] - 1.959963984540054 * f["shift_se"])
    assert np.allclose(f["shift_high"], f["shift"] + 1.959963984540054 * f["shift_se"])
    words = report.flag_readable()
    for r, said in zip(f.itertuples(), words["drift"], strict=True):
        way = "more lenient" if r.direction == "more_lenient" else "harsher"
        assert said.startswith(f"{way} by {r.magnitude:.2f} points (95% interval ")
    assert set(words["whole group moved too"]) <= {"yes", "no"}
    assert "more_lenient" not in report._repr_html_() and "False" not in report._repr_html_()
