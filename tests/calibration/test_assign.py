"""assign_anchors: exactly k reviewers per anchor, loads within one, pair counts a local
optimum (checked by brute force over every exchange), a uniform random order per reviewer,
the same seed giving the same assignment; balanced incomplete block designs found where
they exist (Fano plane, affine plane of order 3: Cochran & Cox 1957, Experimental Designs,
plans 11.7 and 11.8); clear refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from calibrate.calibration import AnchorAssignment, assign_anchors


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def blocks_of(a: AnchorAssignment) -> list[set[str]]:
    return [{r for r, given in a.items() if anchor in given} for anchor in a.anchors]


def pair_sum_of_squares(blocks: list[set[str]], reviewers: list[str]) -> int:
    counts = {p: 0 for p in itertools.combinations(reviewers, 2)}
    for b in blocks:
        for p in itertools.combinations(sorted(b, key=reviewers.index), 2):
            counts[p] += 1
    return sum(v * v for v in counts.values())


def off_diagonal(a: AnchorAssignment) -> np.ndarray:
    p = a.pair_counts().to_numpy()
    return p[np.triu_indices(len(p), 1)]


def _sizes(n_cases: int, seed: int) -> list[tuple[int, int, int]]:
    """(anchors, reviewers, k) drawn over the ranges a round has."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_cases):
        n, n_anchors = int(rng.integers(1, 11)), int(rng.integers(1, 21))
        low = -(-n // n_anchors)  # the smallest k giving every reviewer an anchor
        out.append((n_anchors, n, int(rng.integers(low, n + 1))))
    return out


SIZES = _sizes(40, 20261204) + [(1, 1, 1), (1, 5, 5), (5, 5, 1), (4, 8, 2), (3, 8, 3)]


@pytest.mark.parametrize(("n_anchors", "n_reviewers", "k"), SIZES, ids=str)
def test_every_anchor_k_reviewers_loads_within_one_and_a_local_optimum(n_anchors, n_reviewers, k):
    anchors, reviewers = ids("A", n_anchors), ids("R", n_reviewers)
    seed = n_anchors * 1000 + n_reviewers * 10 + k
    a = assign_anchors(anchors, reviewers, k, rng=seed)
    assert list(a) == reviewers and a.anchors == tuple(anchors) and a.k == k
    blocks = blocks_of(a)
    assert all(len(b) == k for b in blocks)  # exactly k distinct reviewers per anchor
    for given in a.values():
        assert len(set(given)) == len(given) and set(given) <= set(anchors)
    loads = [len(v) for v in a.values()]
    assert sum(loads) == n_anchors * k
    assert set(loads) <= {n_anchors * k // n_reviewers, -(-n_anchors * k // n_reviewers)}
    # no exchange of one reviewer between two anchors lowers the sum of squared pair counts
    best = pair_sum_of_squares(blocks, reviewers)
    for i, j in itertools.combinations(range(n_anchors), 2):
        for r in blocks[i] - blocks[j]:
            for s in blocks[j] - blocks[i]:
                trial = [set(b) for b in blocks]
                trial[i] = (trial[i] - {r}) | {s}
                trial[j] = (trial[j] - {s}) | {r}
                assert pair_sum_of_squares(trial, reviewers) >= best, (i, j, r, s)
    # the table and the pair counts say the same
    frame = a.to_frame()
    assert frame["n"].tolist() == loads
    pc = a.pair_counts()
    assert np.diag(pc.to_numpy()).tolist() == loads
    assert off_diagonal(a).sum() == n_anchors * k * (k - 1) // 2


@pytest.mark.parametrize(
    ("n_anchors", "n_reviewers", "k", "min_found"),
    [(7, 7, 3, 48), (12, 9, 3, 45), (6, 4, 2, 50)],
    ids=["fano-7-3-1", "affine-9-3-1", "complete-4-2"],
)
def test_balanced_designs_are_found_where_they_exist(n_anchors, n_reviewers, k, min_found):
    """A BIBD (every pair shares exactly lambda anchors) exists for these sizes; the
    search found one in 50/50, 48/50 and 50/50 seeds when this test was written (the
    bounds leave room for other seeds; the search guarantees only a local optimum)."""
    found = 0
    for seed in range(50):
        a = assign_anchors(ids("A", n_anchors), ids("R", n_reviewers), k, rng=seed)
        off = off_diagonal(a)
        found += int(off.min() == off.max())
    assert found >= min_found


def test_pair_counts_are_more_even_than_a_random_balanced_design():
    """Against the naive design (each anchor to k reviewers drawn at random among the
    least loaded): the mean spread (max - min pair count) over 40 seeds is smaller."""
    n_a, n, k = 15, 6, 2
    ours, naive = [], []
    for seed in range(40):
        off = off_diagonal(assign_anchors(ids("A", n_a), ids("R", n), k, rng=seed))
        ours.append(off.max() - off.min())
        rng, load, pairs = np.random.default_rng(seed), np.zeros(n, int), np.zeros((n, n), int)
        for _ in range(n_a):
            order = rng.permutation(n)
            pick = order[np.argsort(load[order], kind="stable")[:k]]
            load[pick] += 1
            pairs[np.ix_(pick, pick)] += 1
        off = pairs[np.triu_indices(n, 1)]
        naive.append(off.max() - off.min())
    assert np.mean(ours) < np.mean(naive) - 0.5, (np.mean(ours), np.mean(naive))


def test_each_reviewers_order_is_uniformly_random():
    """With k = n every reviewer scores all 3 anchors; over 1200 seeds the 6 orders of
    reviewer R000 are equally likely (chi-square goodness of fit, 5 df, p > 0.001: a
    correct shuffle fails this one time in a thousand, for these fixed seeds never)."""
    anchors = ids("A", 3)
    counts = dict.fromkeys(itertools.permutations(anchors), 0)
    for seed in range(1200):
        counts[assign_anchors(anchors, ["R000", "R001"], 2, rng=seed)["R000"]] += 1
    assert stats.chisquare(list(counts.values())).pvalue > 0.001, counts
    # and the two reviewers' orders are not the same shuffle
    same = sum(
        len(set(assign_anchors(anchors, ["R000", "R001"], 2, rng=s).values())) == 1
        for s in range(300)
    )
    assert 20 <= same <= 80  # 1/6 of 300 = 50, sd 6.5


def test_the_same_seed_gives_the_same_assignment_and_others_differ():
    anchors, reviewers = ids("A", 10), ids("R", 5)
    first = assign_anchors(anchors, reviewers, 2, rng=42)
    assert dict(first) == dict(assign_anchors(anchors, reviewers, 2, rng=42))
    assert dict(first) == dict(assign_anchors(anchors, reviewers, 2, rng=np.random.default_rng(42)))
    others = {tuple(assign_anchors(anchors, reviewers, 2, rng=s).items()) for s in range(10)}
    assert len(others) == 10


@pytest.mark.parametrize(
    ("anchors", "reviewers", "k", "error", "match"),
    [
        (
            ["A1"],
            ["R1", "R2"],
            3,
            ValueError,
            r"k \(reviewers per anchor\) must be between 1 and the 2 reviewers given; got 3",
        ),
        (["A1"], ["R1", "R2"], 0, ValueError, "must be between 1 and the 2 reviewers"),
        (
            ["A1", "A2"],
            ["R1", "R2", "R3"],
            1,
            ValueError,
            r"every reviewer needs at least one anchor: 2 anchors x k=1 give 2 places for 3 reviewers",
        ),
        (["A1"], ["R1"], True, TypeError, "k must be an integer; got bool"),
        (["A1"], ["R1"], 1.0, TypeError, "k must be an integer; got float"),
        ([], ["R1"], 1, ValueError, "anchors must name at least one anchor to assign; got none"),
        (["A1"], [], 1, ValueError, "reviewers must name at least one reviewer; got none"),
        (
            ["A1", "A2", "A1"],
            ["R1"],
            1,
            ValueError,
            r"anchors must not repeat an id; repeated: \['A1'\]",
        ),
        (["A1", " "], ["R1"], 1, ValueError, "anchors must be non-empty text ids; got"),
        ("A1", ["R1"], 1, TypeError, "anchors must be a sequence of ids; got str"),
        (["A1"], ["R1", 2], 1, ValueError, r"reviewers must be non-empty text ids; got \[2\]"),
    ],
    ids=[
        "k-above-n",
        "k-zero",
        "reviewer-left-out",
        "k-bool",
        "k-float",
        "no-anchors",
        "no-reviewers",
        "repeat",
        "blank",
        "str",
        "not-text",
    ],
)
def test_refusals_say_what_was_wrong(anchors, reviewers, k, error, match):
    with pytest.raises(error, match=match):
        assign_anchors(anchors, reviewers, k, rng=0)
