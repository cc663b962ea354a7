"""Chart statistics against hand computation, and run lengths against published tables.

Published values, with their source:

- Lucas & Crosier (1982), *Technometrics* 24(3), Table 1: two-sided CUSUM, k = 0.5, h = 4:
  ARL 168 in control, 74.2 / 26.6 / 8.38 / 3.34 at shifts 0.25 / 0.5 / 1 / 2 SD.
- Brook & Evans (1972), *Biometrika* 59, section 4.3: one-sided CUSUM, k = 0.5, h = 3:
  L0 = 117.59, L1(1.5 SD) = 3.75 (their Markov chain).
- Waldmann (1986), *Technometrics* 28(1), Tables 1, 3, 5 and 6: one-sided k = 0.5, h = 3:
  117.4 (in control), 1963 (shift -0.5), 17.35 (shift 0.5); two-sided k = 0.6, h = 3,
  shift -0.2: 65.4.
- Montgomery, *Introduction to Statistical Quality Control*, Table 9.3 (tabular CUSUM,
  k = 1/2): ARL0 = 168 for h = 4 and 465 for h = 5.
- Lucas & Saccucci (1990), *Technometrics* 32(1), Table 3: two-sided EWMA with asymptotic
  limits: lambda = 0.5, L = 3.071: ARL 500 in control, 17.5 at a 1 SD shift;
  lambda = 0.03, L = 2.437: 500 and 12.6.
- Crowder (1987), *Technometrics* 29(4), Table 1: lambda = 0.5, L = 2: 26.45;
  lambda = 0.05, L = 2: 127.53.

The values from Lucas & Crosier, Brook & Evans, Waldmann, Lucas & Saccucci and Crowder
are as quoted (with their table numbers) in the examples of ``xcusum.arl`` and
``xewma.arl`` of the R package spc (S. Knoth), which reproduces them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from calibrate.drift import (
    cusum_arl,
    cusum_false_alarm_rate,
    cusum_limit,
    cusum_statistics,
    ewma_arl,
    ewma_false_alarm_rate,
    ewma_limit,
    ewma_statistic,
    self_starting_scores,
)

# ---- hand-computed statistics ----------------------------------------------------------


def test_cusum_hand_example() -> None:
    # C+_n = max(0, C+_{n-1} + x - k), C-_n = max(0, C-_{n-1} - x - k), k = 0.5
    x = [1.0, 0.8, -0.3, 2.0, -1.5, -1.2, 0.1]
    up, lo = cusum_statistics(x, k=0.5)
    assert up.tolist() == pytest.approx([0.5, 0.8, 0.0, 1.5, 0.0, 0.0, 0.0])
    assert lo.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.0, 1.0, 1.7, 1.1])


def test_cusum_matches_the_recursion_and_skips_missing_steps() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1, (5, 40))
    x[1, 10:13] = np.nan
    x[2, 30:] = np.nan  # a shorter stream (padding)
    up, lo = cusum_statistics(x, 0.4)
    for i in range(5):
        cu = cl = 0.0
        for j in range(40):
            if np.isnan(x[i, j]):
                assert np.isnan(up[i, j]) and np.isnan(lo[i, j])
                continue
            cu, cl = max(0.0, cu + x[i, j] - 0.4), max(0.0, cl - x[i, j] - 0.4)
            assert up[i, j] == pytest.approx(cu) and lo[i, j] == pytest.approx(cl)


def test_ewma_hand_example_and_recursion() -> None:
    z = ewma_statistic([2.0, 0.0, 1.0], lam=0.25)
    assert z.tolist() == pytest.approx([0.5, 0.375, 0.53125])
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 30))
    x[0, 5] = np.nan
    got = ewma_statistic(x, 0.2)
    for i in range(3):
        e = 0.0
        for j in range(30):
            if np.isnan(x[i, j]):
                assert np.isnan(got[i, j])
                continue
            e = 0.2 * x[i, j] + 0.8 * e
            assert got[i, j] == pytest.approx(e)


def test_self_starting_scores_hand_example() -> None:
    # prior_df = 0: Quesenberry's Q. Third value: t = (y3 - mean(y1, y2)) / (s * sqrt(1 + 1/2))
    y = [1.0, 3.0, 5.0, 0.0]
    u = self_starting_scores(y, prior_df=0.0)
    assert np.isnan(u[0]) and np.isnan(u[1])
    s = np.std([1.0, 3.0], ddof=1)
    t3 = (5.0 - 2.0) / (s * np.sqrt(1 + 1 / 2))
    assert u[2] == pytest.approx(stats.norm.ppf(stats.t.cdf(t3, 1)))
    s3 = np.std([1.0, 3.0, 5.0], ddof=1)
    t4 = (0.0 - 3.0) / (s3 * np.sqrt(1 + 1 / 3))
    assert u[3] == pytest.approx(stats.norm.ppf(stats.t.cdf(t4, 2)))


def test_self_starting_scores_are_standard_normal_in_control() -> None:
    # Quesenberry (1991): for an i.i.d. normal stream the Q statistics are i.i.d. N(0, 1),
    # whatever the stream's mean and SD.
    rng = np.random.default_rng(3)
    y = 7.0 + 0.2 * rng.standard_normal((4000, 30))
    u = self_starting_scores(y, prior_df=0.0)[:, 2:]
    flat = u.ravel()
    assert abs(flat.mean()) < 0.01 and abs(flat.var() - 1) < 0.02
    assert stats.kstest(flat[::7], "norm").pvalue > 0.01
    lag = np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]
    assert abs(lag) < 0.02


def test_self_starting_scores_ignore_a_steady_offset() -> None:
    rng = np.random.default_rng(4)
    y = rng.standard_normal((2, 50))
    a = self_starting_scores(y, prior_scale=1.0)
    b = self_starting_scores(y + np.array([[3.0], [-2.0]]), prior_scale=1.0)
    assert np.allclose(a, b, equal_nan=True)


# ---- run lengths against published values ----------------------------------------------

LUCAS_CROSIER = [(0.0, 168.0), (0.25, 74.2), (0.5, 26.6), (1.0, 8.38), (2.0, 3.34)]


@pytest.mark.parametrize(("shift", "published"), LUCAS_CROSIER, ids=lambda v: str(v))
def test_two_sided_cusum_arl_lucas_crosier_1982(shift: float, published: float) -> None:
    assert cusum_arl(0.5, 4.0, mean=shift, sided="two") == pytest.approx(published, rel=0.005)


@pytest.mark.parametrize(
    ("k", "h", "shift", "sided", "published"),
    [
        (0.5, 3.0, 0.0, "one", 117.59),  # Brook & Evans (1972)
        (0.5, 3.0, 1.5, "one", 3.75),  # Brook & Evans (1972)
        (0.5, 3.0, -0.5, "one", 1963.0),  # Waldmann (1986), Table 3
        (0.5, 3.0, 0.5, "one", 17.35),  # Waldmann (1986), Table 5
        (0.6, 3.0, -0.2, "two", 65.4),  # Waldmann (1986), Table 6
        (0.5, 5.0, 0.0, "two", 465.0),  # Montgomery, Table 9.3
    ],
    ids=["BE-L0", "BE-L1", "W-minus", "W-plus", "W-two", "Montgomery-h5"],
)
def test_cusum_arl_published(k, h, shift, sided, published) -> None:
    assert cusum_arl(k, h, mean=shift, sided=sided) == pytest.approx(published, rel=0.005)


@pytest.mark.parametrize(
    ("lam", "limit", "shift", "published", "n_states"),
    [
        (0.5, 3.071, 0.0, 500.0, 151),  # Lucas & Saccucci (1990), Table 3
        (0.5, 3.071, 1.0, 17.5, 151),
        (0.03, 2.437, 0.0, 500.0, 601),  # a small lambda needs a finer chain
        (0.03, 2.437, 1.0, 12.6, 601),
        (0.5, 2.0, 0.0, 26.45, 151),  # Crowder (1987), Table 1
        (0.05, 2.0, 0.0, 127.53, 601),
    ],
    ids=["LS-.5-0", "LS-.5-1", "LS-.03-0", "LS-.03-1", "Crowder-.5", "Crowder-.05"],
)
def test_ewma_arl_published(lam, limit, shift, published, n_states) -> None:
    got = ewma_arl(lam, limit, mean=shift, n_states=n_states)
    assert got == pytest.approx(published, rel=0.01)


def test_limits_invert_the_arl() -> None:
    assert cusum_limit(0.5, arl=168.0) == pytest.approx(4.0, abs=0.01)
    assert ewma_limit(0.5, arl=500.0) == pytest.approx(3.071, abs=0.005)


def test_false_alarm_rate_of_the_chain_matches_simulation() -> None:
    # The run-length distribution of the chain, checked by brute force: 40,000 in-control
    # N(0, 1) streams of 60 observations; tolerance 4 Monte Carlo SEs.
    k, n = 0.35, 60
    h = cusum_limit(k, false_alarm_rate=0.05, horizon=n)
    lam = 0.1
    c = ewma_limit(lam, false_alarm_rate=0.05, horizon=n)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40_000, n))
    up, lo = cusum_statistics(x, k)
    sim_cusum = float(((up >= h) | (lo >= h)).any(axis=1).mean())
    z = ewma_statistic(x, lam)
    sim_ewma = float((np.abs(z) >= c * np.sqrt(lam / (2 - lam))).any(axis=1).mean())
    se = np.sqrt(0.05 * 0.95 / len(x))
    assert cusum_false_alarm_rate(k, h, n) == pytest.approx(0.05, abs=1e-4)
    assert ewma_false_alarm_rate(lam, c, n) == pytest.approx(0.05, abs=1e-4)
    # the two-sided CUSUM rate is a Bonferroni bound: at most a little above the truth
    assert sim_cusum <= 0.05 + 4 * se and sim_cusum >= 0.05 - 8 * se
    assert abs(sim_ewma - 0.05) <= 4 * se


# ---- bad arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cusum_statistics([1.0], k=-1), "k must be a non-negative"),
        (lambda: cusum_statistics(np.zeros((2, 2, 2)), k=0.5), "x must be a stream"),
        (lambda: ewma_statistic([1.0], lam=1.5), "lam must be between 0 and 1"),
        (lambda: cusum_arl(0.5, 0.0), "h must be a positive"),
        (lambda: cusum_arl(0.5, 4.0, sided="both"), "sided must be 'one' or 'two'"),
        (lambda: cusum_limit(0.5), "give exactly one design"),
        (lambda: cusum_limit(0.5, arl=100.0, false_alarm_rate=0.1), "give exactly one design"),
        (lambda: cusum_limit(0.5, false_alarm_rate=0.05), "needs horizon"),
        (lambda: cusum_limit(0.5, false_alarm_rate=1.5, horizon=10), "false_alarm_rate must be"),
        (lambda: cusum_false_alarm_rate(0.5, 4.0, 0), "horizon must be an integer >= 1"),
        (lambda: ewma_limit(0.2, arl=0.5), "arl must be greater than 1"),
        (lambda: self_starting_scores([1.0, 2.0], prior_scale=0.0), "prior_scale must be positive"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_arguments_are_named(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="horizon must be an integer"):
        cusum_false_alarm_rate(0.5, 4.0, 10.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="k must be a number"):
        cusum_statistics([1.0], k="0.5")  # type: ignore[arg-type]
