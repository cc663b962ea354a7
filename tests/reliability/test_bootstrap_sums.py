"""The ICC and Conger's-kappa bootstrap engines (weighted per-unit sums): each resample's value
equals refitting the coefficient on the resampled ratings (each drawn copy a new submission),
on panel, ring and random designs, every ICC form; the draws equal the index engine's; and
95% intervals cover the population value at about the nominal rate over many seeds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import calibrate.reliability._bootstrap_sums as sums_mod
from calibrate.reliability import CodedRatings, bootstrap, conger_kappa, icc
from calibrate.reliability._bootstrap import _IndexEngine, _Progress
from calibrate.reliability._bootstrap_sums import sum_engine

FORMS = ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]


def _panel(seed: int, *, n: int = 14, panels: int = 3, size: int = 3, single: float = 0.2):
    """Small panels of reviewers (disconnected blocks), some submissions scored once, so
    resamples drop reviewers, split blocks and hit undefined cases."""
    g = np.random.default_rng(seed)
    us, rs, vs = [], [], []
    for u in range(n):
        p = g.integers(panels)
        k = 1 if g.random() < single else int(g.integers(2, size + 1))
        for r in g.choice(size, k, replace=False) + p * size:
            us.append(u)
            rs.append(r)
            vs.append(g.integers(0, 4))
    return CodedRatings.from_codes(
        np.array(us), np.array(rs), np.array(vs), categories=[1, 2, 3, 4]
    )


def _ring(seed: int, *, n: int = 120, m: int = 40):
    """Reviewers on a ring, each submission scored by 1-3 neighbours: one large sparse block."""
    g = np.random.default_rng(seed)
    us, rs, vs = [], [], []
    for u in range(n):
        j, k = g.integers(m), int(g.integers(1, 4))
        for r in (j + np.arange(k)) % m:
            us.append(u)
            rs.append(r)
            vs.append(g.integers(0, 4))
    return CodedRatings.from_codes(
        np.array(us), np.array(rs), np.array(vs), categories=[1, 2, 3, 4]
    )


def _compare(coded: CodedRatings, name: str, options: dict, seed: int, n_resamples: int = 15):
    fn = icc if name == "icc" else conger_kappa
    engine = sum_engine(name, coded, options)
    assert engine is not None
    index = _IndexEngine(coded, fn, options)
    g = np.random.default_rng(seed)
    draws = [g.integers(0, index.n, index.n) for _ in range(n_resamples)]
    counts = np.array([np.bincount(d, minlength=index.n) for d in draws], dtype=float)
    fast = engine.values(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # refits of degenerate resamples may warn
        slow = np.array([index._estimate(d) for d in draws])
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    ok = ~np.isnan(fast)
    # relative to the size of the value: near-zero denominators give ICCs in the hundreds
    np.testing.assert_allclose(fast[ok], slow[ok], rtol=1e-10, atol=1e-10)
    return int(ok.sum())


@pytest.mark.parametrize("form", FORMS)
def test_icc_engine_equals_refitting_on_panel_designs(form: str) -> None:
    defined = 0
    for seed in range(10):
        coded = _panel(seed)
        if np.isnan(icc(coded, form=form).estimate):
            continue
        defined += _compare(coded, "icc", {"form": form}, seed)
    assert defined > 100


@pytest.mark.parametrize("form", FORMS)
def test_icc_engine_equals_refitting_on_random_designs(form: str) -> None:
    for seed in range(4):
        g = np.random.default_rng(seed)
        x = np.where(g.random((40, 6)) < 0.5, np.nan, g.integers(1, 6, (40, 6)).astype(float))
        x[:, 0] = g.integers(1, 6, 40)  # every unit rated
        coded = CodedRatings.from_array(x)
        _compare(coded, "icc", {"form": form}, seed)
        _compare(coded, "icc", {"form": form, "k": 2.5}, seed)


def test_icc_engine_on_complete_data_and_anonymous_raters() -> None:
    g = np.random.default_rng(3)
    x = g.integers(1, 6, (15, 4)).astype(float)
    for form in FORMS:
        _compare(CodedRatings.from_array(x), "icc", {"form": form}, 1)
    counts = np.column_stack([g.integers(0, 3, 30) for _ in range(4)])
    counts[counts.sum(axis=1) < 2, 0] = 2
    anonymous = CodedRatings.from_counts(counts)
    for form in ("ICC(1,1)", "ICC(1,k)"):
        _compare(anonymous, "icc", {"form": form}, 2)


@pytest.mark.parametrize("form", ["ICC(2,1)", "ICC(3,k)", "ICC(1,1)"])
def test_icc_engine_banded_path_equals_refitting(
    monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """Reviewer groups above _DENSE_BLOCK with a small bandwidth go through the banded solver."""
    monkeypatch.setattr(sums_mod, "_DENSE_BLOCK", 8)
    for seed in range(6):
        coded = _ring(seed)
        engine = sum_engine("icc", coded, {"form": form})
        _compare(coded, "icc", {"form": form}, seed)
    assert engine is not None


@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic"])
def test_conger_engine_equals_refitting(weights: str) -> None:
    for seed in range(8):
        coded = _panel(seed, n=20, single=0.1)
        if np.isnan(conger_kappa(coded, weights=weights).estimate):
            continue
        _compare(coded, "conger_kappa", {"weights": weights}, seed)


def test_engines_draw_what_the_index_engine_draws() -> None:
    """Same seed, same resamples: bootstrap() values equal index resampling's refits."""
    coded = _panel(4, n=30, single=0.1)
    for name, options in (("icc", {"form": "ICC(2,1)"}), ("conger_kappa", {})):
        fn = icc if name == "icc" else conger_kappa
        res = bootstrap(name, coded, n_resamples=40, rng=7, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slow = _IndexEngine(coded, fn, options).resample(
                40, np.random.default_rng(7), _Progress(40, False, "")
            )
        np.testing.assert_allclose(res.bootstrap_estimates, slow, rtol=1e-10, atol=1e-12)


def _copy(coded: CodedRatings) -> CodedRatings:
    return CodedRatings.from_codes(
        coded.unit.copy(), coded.rater.copy(), coded.value.copy(), categories=coded.categories
    )


def test_shared_resamples_are_those_of_drawing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Conger's kappa after the ICC on the same ratings and generator state takes the ICC's
    resample counts: its values, and where it leaves the generator, equal drawing afresh
    (on a copy of the ratings, and with sharing switched off)."""
    coded = _panel(9, n=40, single=0.1)
    g_icc, g_shared = np.random.default_rng(11), np.random.default_rng(11)
    bootstrap("icc", coded, n_resamples=60, rng=g_icc, form="ICC(2,1)")
    assert sums_mod._SHARED[coded].resamples is not None  # the ICC kept its counts
    g_shared.bit_generator.state = np.random.default_rng(11).bit_generator.state
    shared = bootstrap("conger_kappa", coded, n_resamples=60, rng=g_shared)
    g_fresh = np.random.default_rng(11)
    fresh = bootstrap("conger_kappa", _copy(coded), n_resamples=60, rng=g_fresh)
    np.testing.assert_array_equal(shared.bootstrap_estimates, fresh.bootstrap_estimates)
    assert shared.ci == fresh.ci
    assert g_shared.integers(0, 2**62) == g_fresh.integers(0, 2**62)
    monkeypatch.setattr(sums_mod, "_SHARED_BYTES", 0)
    unshared = bootstrap("conger_kappa", coded, n_resamples=60, rng=11)
    np.testing.assert_array_equal(unshared.bootstrap_estimates, fresh.bootstrap_estimates)


def test_another_seed_is_not_taken_for_the_shared_one() -> None:
    coded = _panel(10, n=40, single=0.1)
    bootstrap("icc", coded, n_resamples=30, rng=1)
    other = bootstrap("conger_kappa", coded, n_resamples=30, rng=2)
    fresh = bootstrap("conger_kappa", _copy(coded), n_resamples=30, rng=2)
    np.testing.assert_array_equal(other.bootstrap_estimates, fresh.bootstrap_estimates)


def test_jackknife_is_leave_one_unit_out_and_grouped_above_the_limit() -> None:
    coded = _panel(5, n=30, single=0.1)
    engine = sum_engine("icc", coded, {"form": "ICC(3,1)"})
    assert engine is not None
    jack, weight, note = engine.jackknife(np.random.default_rng(0), 1000)
    assert note == "" and weight.sum() == engine.n
    loo = engine.values(1.0 - np.eye(engine.n))
    expected = np.sort(loo)
    got = np.sort(np.repeat(jack, weight.astype(int)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    jack, weight, note = engine.jackknife(np.random.default_rng(0), 10)
    assert len(jack) == 10 and "grouped jackknife (10 random groups" in note
    groups = np.random.default_rng(0).permutation(engine.n) % 10
    direct = engine.values(np.array([groups != g for g in range(10)], dtype=float))
    np.testing.assert_allclose(jack, direct, rtol=1e-12, atol=1e-12)


def test_reml_and_custom_statistics_stay_on_index_resampling() -> None:
    coded = _panel(6, n=20)
    assert sum_engine("icc", coded, {"estimator": "reml"}) is None
    assert sum_engine("fleiss_kappa", coded, {}) is None


# ---- operating characteristics --------------------------------------------------------------
def _population(n: int, rng: np.random.Generator) -> CodedRatings:
    """Submissions (true level + noise) scored by 2-3 of 8 reviewers, reviewer offsets."""
    truth = rng.normal(0, 1, n)
    per = rng.choice([2, 3], n)
    unit = np.repeat(np.arange(n), per)
    slot = np.arange(len(unit)) - np.repeat(np.cumsum(per) - per, per)
    rater = (np.repeat(rng.integers(0, 8, n), per) + slot) % 8
    offset = np.linspace(-0.4, 0.4, 8)
    latent = 2.5 + truth[unit] + offset[rater] + rng.normal(0, 0.7, len(unit))
    value = np.clip(np.rint(latent), 1, 4).astype(np.int64) - 1
    return CodedRatings.from_codes(unit, rater, value, categories=[1, 2, 3, 4])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "options", "n_units"),
    [
        ("icc", {"form": "ICC(2,1)"}, 400),
        ("icc", {"form": "ICC(1,k)"}, 200),
        ("conger_kappa", {"weights": "quadratic"}, 200),
    ],
)
def test_interval_covers_the_population_value(name: str, options: dict, n_units: int) -> None:
    """95% BCa intervals cover the population value (from 400,000 submissions) in 93-97%
    of 400 data sets (Monte Carlo SE of a 95% rate over 400: 1.1%). Observed: ICC(2,1)
    94.75% from 400 submissions, ICC(1,k) 94.5% and Conger's kappa 93.5% from 200.
    ICC(2,1) needs the larger samples: from 200 submissions it covers 92.75%, from 80
    90.5% (its reviewer variance, estimated from 8 reviewers, is the slowest part to
    settle; the unit bootstrap's small-sample undercoverage, Efron & Tibshirani 1993, 14.3)."""
    fn = icc if name == "icc" else conger_kappa
    truth = fn(_population(400_000, np.random.default_rng(0)), **options).estimate
    n_seeds, hits = 400, 0
    for seed in range(n_seeds):
        data = _population(n_units, np.random.default_rng(1000 + seed))
        res = bootstrap(name, data, n_resamples=400, rng=seed, **options)
        hits += res.ci[0] <= truth <= res.ci[1]
    assert 0.93 <= hits / n_seeds <= 0.97, hits / n_seeds
