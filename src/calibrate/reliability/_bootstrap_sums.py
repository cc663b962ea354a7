"""Bootstrap engines for the ICC (ANOVA / Henderson III) and Conger's kappa from weighted per-unit sums.

A resample is a vector of unit counts ``c`` (how often each submission was drawn; each
copy is a distinct submission). Both coefficients depend on the resample only through
sums over units weighted by ``c``: sums of squares, per-rater sums, the reviewer-by-
reviewer matrix ``N' diag(c / n_i) N`` of the reduced normal equations (from per-unit
reviewer-pair lists), and per-rater category counts. Units with the same reviewers and
scores contribute identically, so they are grouped into K *types* and a batch of
resamples is one product ``counts (B x K) @ features (K x d)``; each resample then costs
one solve of the reduced normal equations, block by block over the connected reviewer
groups of the design. The value for a resample equals refitting the coefficient on the
resampled ratings (round-off aside). The resamples draw unit indices exactly as the
index engine does, so a seed gives the same resamples on both paths.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.csgraph

from calibrate.reliability._data import CodedRatings
from calibrate.reliability._icc_forms import _CANONICAL
from calibrate.reliability._weights import resolve_weights

# Resamples per batch (the count matrix of a batch is batch x types).
_BATCH = 50
# Entries of a batch's stacked reviewer systems (bounds memory for large reviewer blocks).
_SYSTEM_ENTRIES = 4_000_000
# Larger connected reviewer groups are solved as banded systems when their bandwidth allows.
_DENSE_BLOCK = 64
# Bytes of resample type counts kept for the next engine on the same ratings (see _Shared).
_SHARED_BYTES = 256 * 2**20


class _Shared:
    """What engines on the same :class:`CodedRatings` share: its unit types (by whether
    raters matter) and the type counts of the last resamples drawn, keyed by the
    generator's state before the draws. An engine handed a generator in a state already
    drawn from (as :func:`reliability_table` does for every coefficient of a group) takes
    the counts and moves the generator to where the draws left it: the values are those
    of drawing again, without the draws (ICC and Conger's kappa of one criterion share
    their unit types, so 1,000 resamples of 100,000 submissions are drawn once)."""

    def __init__(self) -> None:
        self.types: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
        self.resamples: tuple[object, np.ndarray, Mapping[str, Any]] | None = None


_SHARED: weakref.WeakKeyDictionary[CodedRatings, _Shared] = weakref.WeakKeyDictionary()


def _shared(coded: CodedRatings) -> _Shared:
    slot = _SHARED.get(coded)
    if slot is None:
        slot = _SHARED[coded] = _Shared()
    return slot


def _state_key(gen: np.random.Generator) -> str:
    return repr(gen.bit_generator.state)


@dataclass
class _SumEngine:
    """Units grouped into types; ``features`` (K x d) summed with type counts give all
    ``from_sums`` needs. ``unit_type`` maps each rated unit (in unit-code order) to its type."""

    unit_type: np.ndarray
    features: sp.csr_matrix
    from_sums: Callable[[np.ndarray], np.ndarray]
    #: The ratings and type kind the unit types came from (resamples are shared on them).
    source: tuple[CodedRatings, bool] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.unit_type)

    @property
    def n_types(self) -> int:
        return int(self.features.shape[0])

    def sums(self, type_counts: np.ndarray) -> np.ndarray:
        """(B x K) counts -> (B x d) weighted sums."""
        ct = np.ascontiguousarray(type_counts.T, dtype=np.float64)
        return np.asarray(self._features_t @ ct).T

    def __post_init__(self) -> None:
        self._features_t = self.features.T.tocsr()
        self._unit_type = self.unit_type.astype(np.intp)

    def values(self, unit_counts: np.ndarray) -> np.ndarray:
        """The coefficient for each row of unit counts (B x n units)."""
        k = self.n_types
        b = unit_counts.shape[0]
        flat = (np.arange(b)[:, None] * k + self.unit_type[None, :]).ravel()
        tc = np.bincount(flat, weights=unit_counts.ravel(), minlength=b * k).reshape(b, k)
        return np.asarray(self.from_sums(self.sums(tc)))

    def resample(self, n_resamples: int, gen: np.random.Generator, bar: Any) -> np.ndarray:
        n, k = self.n, self.n_types
        out = np.empty(n_resamples)
        batch = max(1, min(_BATCH, 4_000_000 // max(k, 1)))
        counts = self._shared_counts(n_resamples, gen)
        unit_type = self._unit_type
        drawn = np.empty(n, dtype=np.intp)
        for start in range(0, n_resamples, batch):
            b = min(batch, n_resamples - start)
            if counts is not None and counts.filled > start:
                tc = counts.rows[start : start + b].astype(np.float64)
            else:
                tc = np.empty((b, k), dtype=np.float64)
                for i in range(b):
                    # the same draws as the index engine: one integers() call per resample;
                    # one resample's type counts at a time (its bins stay in cache)
                    np.take(unit_type, gen.integers(0, n, n), out=drawn, mode="clip")
                    tc[i] = np.bincount(drawn, minlength=k)
                if counts is not None:
                    counts.rows[start : start + b] = tc
                    counts.filled = start + b
            out[start : start + b] = self.from_sums(self.sums(tc))
            bar.update(b)
        if counts is not None:
            counts.finish(gen)
        return out

    def _shared_counts(self, n_resamples: int, gen: np.random.Generator) -> _Counts | None:
        """The type counts of these resamples when another engine drew them (the generator
        is then moved past them), else a place to keep them for the next; None when they
        would not fit in ``_SHARED_BYTES``."""
        if self.source is None or n_resamples * self.n_types * 4 > _SHARED_BYTES:
            return None
        coded, with_raters = self.source
        slot = _shared(coded)
        key = (with_raters, n_resamples, _state_key(gen))
        if slot.resamples is not None and slot.resamples[0] == key:
            kept = slot.resamples[1]
            gen.bit_generator.state = slot.resamples[2]
            return _Counts(kept, n_resamples, None, slot, key)
        rows = np.empty((n_resamples, self.n_types), dtype=np.uint32)
        slot.resamples = None  # one set kept per ratings: the older one goes now
        return _Counts(rows, 0, gen, slot, key)

    def jackknife(
        self, gen: np.random.Generator, max_groups: int
    ) -> tuple[np.ndarray, np.ndarray, str]:
        """Leave-one-unit-out values (one per type, weighted by its units), or, above
        ``max_groups`` units, leave-one-group-out over random groups as the index engine."""
        k = self.n_types
        mult = np.bincount(self.unit_type, minlength=k).astype(np.float64)
        total = self.features.T @ mult
        if self.n <= max_groups:
            drop = self.features
            weight, note = mult, ""
        else:
            groups = gen.permutation(self.n) % max_groups
            member = sp.csr_matrix(
                (np.ones(self.n), (groups, self.unit_type)), shape=(max_groups, k)
            )
            drop = member @ self.features
            weight = np.ones(max_groups)
            note = (
                f"BCa acceleration from a grouped jackknife ({max_groups} random groups of units)"
            )
        out = np.empty(drop.shape[0])
        for start in range(0, drop.shape[0], _BATCH):
            stop = min(drop.shape[0], start + _BATCH)
            block = drop[start:stop]
            dense = block.toarray() if sp.issparse(block) else np.asarray(block)
            out[start:stop] = self.from_sums(total[None, :] - dense)
        return out, weight, note


@dataclass
class _Counts:
    """Resample type counts being drawn (``filled`` rows so far) or taken from another engine."""

    rows: np.ndarray
    filled: int
    drawing: np.random.Generator | None
    slot: _Shared
    key: object

    def finish(self, gen: np.random.Generator) -> None:
        if self.drawing is not None and self.filled == len(self.rows):
            self.slot.resamples = (self.key, self.rows, gen.bit_generator.state)


def _types(coded: CodedRatings, with_raters: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_unit_types`, computed once per ratings and kind."""
    slot = _shared(coded)
    if with_raters not in slot.types:
        slot.types[with_raters] = _unit_types(coded, with_raters)
    return slot.types[with_raters]


def _unit_types(coded: CodedRatings, with_raters: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rated units (codes in order) and each one's type: its (rater, value) pairs, or its
    sorted values when raters do not matter. Returns (type of each rated unit, one
    representative unit of each type)."""
    per_unit = np.bincount(coded.unit, minlength=coded.n_units)
    units = np.flatnonzero(per_unit > 0)
    q = coded.n_categories
    if with_raters:
        key = coded._require_raters("types").astype(np.int64) * q + coded.value
    else:
        key = coded.value.astype(np.int64)
    order = np.lexsort((key, coded.unit))
    u_sorted = coded.unit[order]
    width = int(per_unit.max()) if len(units) else 1
    start = np.concatenate([[0], np.cumsum(per_unit)[:-1]])
    slot = np.arange(len(order)) - start[u_sorted]
    rows = np.full((coded.n_units, width), -1, dtype=np.int64)
    rows[u_sorted, slot] = key[order]
    rows = rows[units]
    base = int(key.max()) + 2 if len(key) else 2
    if width * math.log2(base) < 62:
        # one integer per unit (its sorted keys as digits) instead of unique rows
        packed = np.zeros(len(units), dtype=np.int64)
        for col in range(width):
            packed = packed * base + (rows[:, col] + 1)
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return inverse.ravel().astype(np.int64), units[first]


def _type_ratings(
    coded: CodedRatings, unit_type: np.ndarray, rep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratings of each type's representative unit: (type, rater or -1, value code)."""
    units = np.flatnonzero(np.bincount(coded.unit, minlength=coded.n_units) > 0)
    type_of = np.full(coded.n_units, -1, dtype=np.int64)
    is_rep = np.zeros(coded.n_units, dtype=bool)
    is_rep[rep] = True
    type_of[units] = unit_type
    keep = is_rep[coded.unit]
    rater = coded.rater[keep] if coded.rater is not None else np.full(int(keep.sum()), -1)
    return type_of[coded.unit[keep]], rater.astype(np.int64), coded.value[keep]


# ----------------------------------------------------------------------------------------
# ICC
# ----------------------------------------------------------------------------------------
def icc_engine(coded: CodedRatings, options: dict[str, Any]) -> _SumEngine:
    """Engine for :func:`icc` with ``estimator="anova"`` (one-way ANOVA or Henderson III)."""
    sf = _CANONICAL[options.get("form", "ICC(2,1)")]
    k_given = options.get("k")
    twoway = not sf.startswith("ICC(1")
    unit_type, rep = _types(coded, with_raters=twoway)
    t, rater, value = _type_ratings(coded, unit_type, rep)
    n_types = len(rep)
    cats = coded.categories.astype(np.float64)
    q = len(cats)
    scores = cats[coded.value]
    centre = float(scores.mean())
    y = cats[value] - centre
    n_u = np.bincount(t, minlength=n_types).astype(np.float64)
    s_u = np.bincount(t, weights=y, minlength=n_types)
    y2_u = np.bincount(t, weights=y * y, minlength=n_types)
    mean_u = s_u / n_u
    q_u = np.bincount(t, weights=(y - mean_u[t]) ** 2, minlength=n_types)
    scalar = np.column_stack(
        [np.ones(n_types), n_u, (n_u >= 2).astype(float), 1.0 / n_u, y2_u, s_u, q_u, n_u**2]
    )
    scalar = np.column_stack([scalar, s_u**2 / n_u])
    cat_count = sp.csr_matrix(
        (np.ones(len(t)), (t, value)), shape=(n_types, q)
    )  # ratings per category (the all-equal check)
    blocks = [sp.csr_matrix(scalar), cat_count]
    n_scalar = scalar.shape[1]
    if not twoway:
        features = sp.hstack(blocks).tocsr()

        def oneway(s: np.ndarray) -> np.ndarray:
            return _icc_oneway(s, n_scalar, q, sf, k_given)

        return _SumEngine(unit_type, features, oneway, (coded, False))

    m = coded.n_raters
    rating_y = sp.csr_matrix((y, (t, rater)), shape=(n_types, m))
    rating_mean = sp.csr_matrix((mean_u[t], (t, rater)), shape=(n_types, m))
    rating_one = sp.csr_matrix((np.ones(len(t)), (t, rater)), shape=(n_types, m))
    rating_inv = sp.csr_matrix((1.0 / n_u[t], (t, rater)), shape=(n_types, m))
    # reviewer pairs (j1 < j2) within each type's unit, weight 1 / n_u
    order = np.lexsort((rater, t))
    ts, rs = t[order], rater[order]
    same = ts[:, None] == ts[None, :] if len(ts) <= 2000 else None
    if same is not None:
        i1, i2 = np.nonzero(np.triu(same, 1))
    else:
        i1, i2 = _pairs_within(ts)
    pair_key = rs[i1] * m + rs[i2]
    keys, pair_col = np.unique(pair_key, return_inverse=True)
    pair_mat = sp.csr_matrix(
        (1.0 / n_u[ts[i1]], (ts[i1], pair_col.ravel())), shape=(n_types, len(keys))
    )
    blocks += [rating_y, rating_mean, rating_one, rating_inv, pair_mat]
    features = sp.hstack(blocks).tocsr()
    system = _RaterSystem(m, keys // m, keys % m)

    def twoway_fn(s: np.ndarray) -> np.ndarray:
        return _icc_twoway(s, n_scalar, q, m, system, sf, k_given)

    return _SumEngine(unit_type, features, twoway_fn, (coded, True))


def _pairs_within(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of sorted group labels ``ts`` with equal labels."""
    sizes = np.bincount(ts)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    i1s, i2s = [], []
    for a in range(int(sizes.max()) if len(sizes) else 0):
        for b in range(a + 1, int(sizes.max())):
            ok = sizes > b
            i1s.append(start[ok] + a)
            i2s.append(start[ok] + b)
    if not i1s:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(i1s), np.concatenate(i2s)


def _common(s: np.ndarray, n_scalar: int, q: int) -> dict[str, np.ndarray]:
    n, big_n, n2, inv_n, y2, s_y, q_w, n_sq, s2n = (s[:, i] for i in range(9))
    cats_used = np.count_nonzero(s[:, n_scalar : n_scalar + q] > 0.5, axis=1)
    yy = y2 - s_y**2 / big_n
    equal_n = n * n_sq == big_n**2
    k_harm = np.where(equal_n, big_n / n, n / inv_n)
    ok = (n >= 2) & (n2 > 0) & (cats_used > 1)
    return {
        "n": n,
        "N": big_n,
        "yy": yy,
        "y2": y2,
        "s_y": s_y,
        "ss_w": q_w,
        "n_sq": n_sq,
        "s2n": s2n,
        "k": k_harm,
        "ok": ok,
    }


def _icc_from_components(
    sf: str, var_unit: np.ndarray, var_rater: np.ndarray, var_e: np.ndarray, k: np.ndarray
) -> np.ndarray:
    error = var_rater + var_e if sf.startswith("ICC(2") else var_e
    per = k if sf.endswith("k)") else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = var_unit + error / per
        out = var_unit / denom
    return np.where(np.isfinite(denom) & (denom > 0), out, np.nan)


def _icc_oneway(s: np.ndarray, n_scalar: int, q: int, sf: str, k_given: Any) -> np.ndarray:
    c = _common(s, n_scalar, q)
    n, big_n = c["n"], c["N"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ss_w = np.where(c["ss_w"] <= 1e-12 * c["yy"], 0.0, c["ss_w"])
        ss_b = c["s2n"] - c["s_y"] ** 2 / big_n
        ms_b, ms_w = ss_b / (n - 1), ss_w / (big_n - n)
        k0 = (big_n - c["n_sq"] / big_n) / (n - 1)
        var_unit = (ms_b - ms_w) / k0
    k = c["k"] if k_given is None else np.full(len(s), float(k_given))
    out = _icc_from_components(sf, var_unit, np.zeros(len(s)), ms_w, k)
    return np.where(c["ok"], out, np.nan)


@dataclass(frozen=True)
class _Block:
    """Connected reviewer groups of one size, solved together: ``members`` (g x size)
    reviewer codes, in reverse Cuthill-McKee order when ``bandwidth`` is set (a large,
    sparse group solved as a banded system)."""

    members: np.ndarray
    pair: np.ndarray  # indices of the pairs inside these groups
    group: np.ndarray  # group of each such pair
    low: np.ndarray  # local positions of the pair's reviewers, low < high
    high: np.ndarray
    bandwidth: int | None


class _RaterSystem:
    """The reviewer pairs that share a unit somewhere in the data and the connected reviewer
    groups they form: every resample's reduced system is block diagonal in these groups
    (a resample can only split a group further or leave reviewers out)."""

    def __init__(self, m: int, j1: np.ndarray, j2: np.ndarray):
        self.m, self.j1, self.j2 = m, j1, j2
        graph = sp.csr_matrix((np.ones(len(j1)), (j1, j2)), shape=(m, m))
        graph = (graph + graph.T).tocsr()
        _, label = scipy.sparse.csgraph.connected_components(graph, directed=False)
        sizes = np.bincount(label)
        order = np.argsort(label, kind="stable")
        local = np.zeros(m, dtype=np.int64)
        dense: dict[int, list[np.ndarray]] = {}
        banded: list[tuple[np.ndarray, int]] = []
        for mem in np.split(order, np.cumsum(sizes)[:-1]):
            size = len(mem)
            if size < 2:
                continue
            if size > _DENSE_BLOCK:
                sub = graph[mem][:, mem]
                perm = scipy.sparse.csgraph.reverse_cuthill_mckee(sub, symmetric_mode=True)
                mem = mem[perm]
                local[mem] = np.arange(size)
                inv = sub[perm][:, perm].tocoo()
                bw = int(np.max(np.abs(inv.row - inv.col))) if inv.nnz else 0
                if bw <= size // 4:
                    banded.append((mem, bw))
                    continue
            local[mem] = np.arange(size)
            dense.setdefault(size, []).append(mem)
        self.blocks: list[_Block] = []
        groups: list[tuple[np.ndarray, int | None]] = [
            (np.array(g), None) for _, g in sorted(dense.items())
        ]
        groups += [(mem[None, :], width) for mem, width in banded]
        for members, band in groups:
            gid = np.full(m, -1, dtype=np.int64)
            gid[members.ravel()] = np.repeat(np.arange(len(members)), members.shape[1])
            pair = np.flatnonzero(gid[j1] >= 0)
            l1, l2 = local[j1[pair]], local[j2[pair]]
            self.blocks.append(
                _Block(members, pair, gid[j1[pair]], np.minimum(l1, l2), np.maximum(l1, l2), band)
            )

    def solve(
        self, diag: np.ndarray, pair_w: np.ndarray, rhs: np.ndarray, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Solve each resample's reduced system ``C beta = rhs`` with one reference
        reviewer per connected block fixed at 0; returns (beta, number of blocks)."""
        b, m = diag.shape
        # connected blocks of each resample (pairs whose shared units were all left out
        # drop; inactive reviewers are their own components and are not counted)
        present = pair_w > 0
        rows = (np.arange(b)[:, None] * m + self.j1[None, :])[present]
        cols = (np.arange(b)[:, None] * m + self.j2[None, :])[present]
        graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(b * m, b * m))
        _, label = scipy.sparse.csgraph.connected_components(graph, directed=False)
        _, first = np.unique(label, return_index=True)
        fixed = np.zeros(b * m, dtype=bool)
        fixed[first] = True
        fixed = fixed.reshape(b, m) | ~active
        n_blocks = np.bincount(first // m, minlength=b) - np.count_nonzero(~active, axis=1)
        beta = np.zeros((b, m))
        for blk in self.blocks:
            solve = _solve_banded if blk.bandwidth is not None else _solve_dense
            beta[:, blk.members.ravel()] = solve(blk, diag, pair_w, rhs, fixed)
        return beta, n_blocks


def _solve_dense(
    blk: _Block, diag: np.ndarray, pair_w: np.ndarray, rhs: np.ndarray, fixed: np.ndarray
) -> np.ndarray:
    """Stacked dense solves of equal-size groups, a fixed reviewer's row and column set to
    the identity's (its rhs 0)."""
    b = len(diag)
    g, size = blk.members.shape
    out = np.empty((b, g * size))
    idx = np.arange(size)
    step = max(1, _SYSTEM_ENTRIES // (g * size * size))
    for s0 in range(0, b, step):
        s1 = min(b, s0 + step)
        a = np.zeros((s1 - s0, g, size, size))
        a[:, :, idx, idx] = diag[s0:s1][:, blk.members]
        w = pair_w[s0:s1][:, blk.pair]
        a[:, blk.group, blk.low, blk.high] = -w
        a[:, blk.group, blk.high, blk.low] = -w
        fix = fixed[s0:s1][:, blk.members]
        bi, gi, li = np.nonzero(fix)
        a[bi, gi, li, :] = 0.0
        a[bi, gi, :, li] = 0.0
        a[bi, gi, li, li] = 1.0
        r = np.where(fix, 0.0, rhs[s0:s1][:, blk.members])
        out[s0:s1] = np.linalg.solve(a, r[..., None])[..., 0].reshape(s1 - s0, -1)
    return out


def _solve_banded(
    blk: _Block, diag: np.ndarray, pair_w: np.ndarray, rhs: np.ndarray, fixed: np.ndarray
) -> np.ndarray:
    """One large sparse group as a symmetric banded system (lower form), per resample."""
    b = len(diag)
    mem = blk.members[0]
    size, bw = len(mem), int(blk.bandwidth or 0)
    fix = fixed[:, mem]
    ab = np.zeros((b, bw + 1, size))
    ab[:, 0, :] = np.where(fix, 1.0, diag[:, mem])
    w = pair_w[:, blk.pair]
    w = np.where(fix[:, blk.low] | fix[:, blk.high], 0.0, w)
    ab[:, blk.high - blk.low, blk.low] = -w
    r = np.where(fix, 0.0, rhs[:, mem])
    # the resamples' systems side by side as one block-diagonal banded system (the
    # entries that would couple two systems are the zero padding of each one's band)
    stacked = ab.transpose(1, 0, 2).reshape(bw + 1, b * size)
    out = scipy.linalg.solveh_banded(stacked, r.ravel(), lower=True, check_finite=False)
    return out.reshape(b, size)


def _icc_twoway(
    s: np.ndarray, n_scalar: int, q: int, m: int, system: _RaterSystem, sf: str, k_given: Any
) -> np.ndarray:
    c = _common(s, n_scalar, q)
    n, big_n = c["n"], c["N"]
    at = n_scalar + q
    t_j, mean_j, n_j, inv_j = (s[:, at + i * m : at + (i + 1) * m] for i in range(4))
    pair_w = s[:, at + 4 * m :]
    n_j = np.rint(n_j)
    active = n_j > 0
    m_act = np.count_nonzero(active, axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss_wr = c["y2"] - np.sum(np.where(active, t_j**2 / n_j, 0.0), axis=1)
    diag = np.where(active, n_j - inv_j, 1.0)
    rhs = np.where(active, t_j - mean_j, 0.0)
    beta, n_blocks = system.solve(diag, pair_w, rhs, active)
    r_raters = np.sum(beta * rhs, axis=1)
    ss_wu = c["ss_w"]
    sse = ss_wu - r_raters
    tiny = 1e-12 * c["yy"]
    sse = np.where(sse <= tiny, 0.0, sse)
    r_units = ss_wr - sse
    r_units = np.where(np.abs(r_units) <= tiny, 0.0, r_units)
    r_raters = ss_wu - sse
    r_raters = np.where(np.abs(r_raters) <= tiny, 0.0, r_raters)
    blocks = n_blocks.astype(np.float64)
    df_s, df_r, df_e = n - blocks, m_act - blocks, big_n - n - m_act + blocks
    with np.errstate(divide="ignore", invalid="ignore"):
        ms_e = sse / df_e
        ms_s = r_units / df_s
        c_s = (big_n - m_act) / df_s
        ms_r = r_raters / df_r
        c_r = (big_n - n) / df_r
        var_r = np.where(df_r > 0, (ms_r - ms_e) / c_r, np.nan)
        var_unit = (ms_s - ms_e) / c_s
    k = c["k"] if k_given is None else np.full(len(s), float(k_given))
    out = _icc_from_components(sf, var_unit, var_r, ms_e, k)
    return np.where(c["ok"] & (df_e > 0), out, np.nan)


# ----------------------------------------------------------------------------------------
# Conger's kappa
# ----------------------------------------------------------------------------------------
def conger_engine(coded: CodedRatings, options: dict[str, Any]) -> _SumEngine:
    """Engine for :func:`conger_kappa`: pairwise agreement and each rater's category counts."""
    coded._require_raters("conger_kappa")
    w, _ = resolve_weights(options.get("weights", "identity"), coded.categories)
    unit_type, rep = _types(coded, with_raters=True)
    t, rater, value = _type_ratings(coded, unit_type, rep)
    n_types, q, m = len(rep), coded.n_categories, coded.n_raters
    counts = np.bincount(t * q + value, minlength=n_types * q).reshape(n_types, q).astype(float)
    r_u = counts.sum(axis=1)
    pairable = r_u >= 2
    agree = np.einsum("ik,ik->i", counts, counts @ w.T - 1.0)
    pa_u = np.divide(agree, r_u * (r_u - 1.0), out=np.zeros_like(r_u), where=pairable)
    by_rater = sp.csr_matrix((np.ones(len(t)), (t, rater * q + value)), shape=(n_types, m * q))
    features = sp.hstack(
        [sp.csr_matrix(np.column_stack([pairable.astype(float), pa_u])), by_rater]
    ).tocsr()

    def from_sums(s: np.ndarray) -> np.ndarray:
        n2 = s[:, 0]
        br = s[:, 2:].reshape(len(s), m, q)
        ng = br.sum(axis=2)
        active = ng > 0.5
        r = np.count_nonzero(active, axis=1).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            pa = s[:, 1] / n2
            share = np.where(active[..., None], br / ng[..., None], 0.0)
            p_bar = share.sum(axis=1) / r[:, None]
            pair_sum = r[:, None, None] ** 2 * p_bar[:, :, None] * p_bar[:, None, :] - np.einsum(
                "bgk,bgl->bkl", share, share
            )
            pe = np.einsum("kl,bkl->b", w, pair_sum) / (r * (r - 1.0))
            kappa = (pa - pe) / (1.0 - pe)
        return np.where((r >= 2) & (n2 > 0) & (1.0 - pe > 1e-12), kappa, np.nan)

    return _SumEngine(unit_type, features, from_sums, (coded, True))


def sum_engine(name: str, coded: CodedRatings, options: dict[str, Any]) -> _SumEngine | None:
    """The engine for ``name`` with these options, or None (left to index resampling)."""
    if name == "conger_kappa" and coded.rater is not None:
        return conger_engine(coded, options)
    if name == "icc":
        estimator = options.get("estimator") or options.get("method") or "anova"
        if estimator != "anova" or coded.categories.dtype.kind not in "iuf":
            return None
        if not math.isfinite(float(np.max(np.abs(coded.categories)))):
            return None
        return icc_engine(coded, options)
    return None
