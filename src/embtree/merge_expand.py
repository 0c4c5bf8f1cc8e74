"""Merge & Expand (ME): clustering with a fixed embedding, and the clean / unclean demarcation.

Chen, Tiong & Yeang, *Clustering image data with a fixed embedding*
(``papers/003``, section II.B). Five phases on embeddings ``X`` [N, d]:

1. **Regions** (II.B.2): spectral clustering into ``n_regions`` small tight
   regions (:func:`make_regions`, through :func:`embtree.flat.cluster`, so
   above ``max_quadratic_samples`` it is fitted on a seeded subsample and the
   rest join the nearest fitted sample, as in the flat stage).
2. **Seed regions** (II.B.3, eq. 1): start from the two regions that are far
   apart and of similar size; add by the max-min criterion over the average
   inter-region distance; skip a candidate that could replace a seed with a
   similar partition; stop after ``max_skips`` consecutive skips
   (:func:`select_seeds`).
3. **Merging** (II.B.4, eq. 2-5): ``n_rounds`` K-class classifiers on the
   seed regions, the (K choose 2) merged-pair and the K leave-one-out
   classifiers, all trained together as one stacked model
   (:func:`train_stacked`, ``torch.func.vmap``); co-contribution M1
   (:func:`co_contribution`), leakage M2 (:func:`leakage_matrix`,
   :func:`leakage_scores`), replacement M3 (:func:`replacement_scores`);
   similarity / dissimilarity graphs (:func:`similarity_graphs`) and the
   partition of the seeds minimising the loss (:func:`choose_partition`).
4. **Expansion** (II.B.5): train on the merged seeds, predict everything, add
   the dominant-label members of every region whose homogeneity reaches
   ``homogeneity_threshold``, retrain, until no region is added
   (:func:`expand`). Final labels = last predictions; regions never added are
   **unclean**.

Everything is seeded: a fixed ``seed`` (and thread count) gives identical output.

Choices the paper leaves open (its supplement is not available) -- pinned here
-------------------------------------------------------------------------------
Every tunable lives in :data:`DEFAULTS` (mirrored, and documented, by the
``merge_expand:`` section of the config schema; a test keeps them equal).

* Phase 1. ``n_regions`` is capped at ``max(N // min_region_size, 2)`` (default 5
  members per region on average) for small data, with a warning
  (:func:`region_count`); e.g. 120 samples give 24 regions.
  Spectral clustering uses the flat stage's registry defaults (kNN affinity,
  10 neighbours, cluster_qr). Empty spectral clusters are dropped and the ids
  made contiguous. The paper's "periphery members / informative markers"
  (supplement) are not modelled.
* Distances: euclidean in the embedding space. d(r_i, r_j) of eq. 1 is the
  exact mean over member pairs of at most ``distance_samples_per_region``
  seeded members per region (exact for regions that small; bounded cost).
* Mixed-region filter F (label-free): a region's *neighbourhood agreement* is
  the mean, over its (sampled) members, of the fraction of their ``n_neighbors``
  nearest neighbours (among all N) lying in the same region. Regions below
  ``mixed_filter_ratio`` x the median agreement are filtered (members of a
  region straddling two classes have neighbours scattered over many regions).
* First seed pair: among unfiltered pairs whose size ratio min/max is at least
  ``seed_size_ratio``, the pair with the largest d.
* Eq. 1 is read with ``r' in S`` (the text's ``r' notin S`` is a typo: the
  distance to the *existing* seeds is maximised).
* Skip rule: the partition induced by a seed set assigns every region to its
  nearest seed (by d); points inherit their region's. A candidate c is skipped
  if, for some seed s that c could replace -- c lies within half the distance
  from s to its nearest other seed -- putting c in s's place gives a partition
  whose adjusted Rand index with the current one is >= ``skip_similarity``.
  (The nearness condition keeps a new group lying between covered ones from
  being skipped while K is small and the partition coarse; tested on separated
  groups.) (0.95: on digits
  the candidates that open a new class scored 0.2-0.94, most repeats of a
  covered class 0.95-1.0; :func:`replacement_similarity`). Skipped candidates
  join F. Selection also stops at ``max_seeds`` seeds (bounds phase 3's K^2
  classifiers); merging then has to bring the seeds down to the clusters.
* Classifiers: a one-hidden-layer MLP (``hidden`` units, ReLU) on the z-scored
  embeddings reduced by PCA to at most ``input_dims`` dims (speed; the paper's
  LeNet-5 sees images -- ``input: images`` uses a LeNet-5-sized CNN),
  Adam (``lr``, ``weight_decay``) for ``steps`` steps on seeded mini-batches
  of ``batch_size`` samples (the whole training set when smaller), so the cost
  of a training run does not grow with the training set. A model whose
  training accuracy stays below ``min_train_accuracy`` is "never converged":
  an error. The MLPs of one call are stacked weight tensors (batched matmul);
  the CNN is stacked with ``torch.func.stack_module_state`` + ``vmap``.
* Phase 3 trains on at most ``max_train_per_region`` seeded members of each
  seed region. ``n_rounds`` (5) rounds of the K-class model (different seeds);
  the consensus label y0 is the argmax of the mean output over rounds. The
  merged-pair and leave-one-out predictors are trained once each. All scores
  are computed over all N points.
* M2 (eq. 3-4): for column j the rows of L whose pair contains j are left out
  (j's own points trivially fall into a combined class containing j). m2_ij is
  the one-sided (greater) Wilcoxon rank-sum p-value
  (``scipy.stats.ranksums``) of the K-2 values L(R_i \\ {i u j}, j) against the
  background of all remaining rows (the paper's R_{1:K}, which includes R_i).
  With K < 4 no p-value can be small: no merge is possible (logged).
* Graphs: G_s links i and j when, for each of M1, M3 (high = similar) and M2
  (low = similar), j is among i's ``top_rank`` best partners and i among j's,
  and m1 >= ``m1_threshold``, m3 >= ``m3_threshold`` in both directions (M2's
  threshold acts through G_r). G_r links i and j when m2_ij > alpha and
  m2_ji > alpha. ``alpha`` = 0.25, lenient on purpose: each test has only K-2
  values against C(K-1, 2), so with K = 6 a clear leakage (fig. 2b) reaches
  p ~ 0.1-0.2 only; pairs of different classes sit near p = 0.5-1.
* Partition: each block is connected in G_s and holds no G_r edge. Loss,
  minimised lexicographically: (number of singleton blocks, sum over
  within-block pairs of the reduced rank score, sum over within-block pairs of
  the pairwise dissimilarity). Reduced rank score of (i, j): mean over the
  three scores and both directions of (rank - 1) / (K - 2), in [0, 1].
  Pairwise dissimilarity: mean of 1 - m1_sym, m2_sym, 1 - m3_sym (sym = mean
  of both directions). Components up to ``max_enumerate`` seeds are
  enumerated exhaustively; larger ones are merged greedily along G_s edges in
  order of increasing reduced rank score.
* Expansion: homogeneity of a region = fraction of its members with the
  dominant predicted label; regions with homogeneity >= ``homogeneity_threshold``
  (default 0.9) join the training data with their dominant-label members;
  each iteration retrains from a fresh seeded initialisation; at most
  ``max_expand_iterations`` iterations. "Clean" = every member of a region in
  the training data at the end (seed regions and added regions).

One module for the whole method (over 600 lines on purpose): its four phases pass regions, seeds
and score matrices to each other and are only meaningful together.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from sklearn.neighbors import NearestNeighbors

from embtree.validation import check_matrix

__all__ = [
    "DEFAULTS",
    "INPUTS",
    "MergeExpandResult",
    "check_params",
    "region_count",
    "merge_expand",
    "make_regions",
    "region_distances",
    "neighbourhood_agreement",
    "mixed_regions",
    "partition_ari",
    "replacement_similarity",
    "select_seeds",
    "train_stacked",
    "predict_stacked",
    "co_contribution",
    "leakage_matrix",
    "leakage_scores",
    "replacement_scores",
    "similarity_graphs",
    "reduced_rank_scores",
    "choose_partition",
    "merge_seeds",
    "expand",
    "consistent_neighbours",
]

log = logging.getLogger(__name__)

INPUTS = ("embeddings", "images")

# The config schema's ``merge_expand:`` section mirrors these (tests/test_merge_expand.py).
DEFAULTS: dict = {
    "input": "embeddings",
    "n_regions": 200,
    "min_region_size": 5,
    "distance_samples_per_region": 32,
    "n_neighbors": 10,
    "mixed_filter_ratio": 0.5,
    "seed_size_ratio": 0.5,
    "skip_similarity": 0.95,
    "max_skips": 5,
    "max_seeds": 30,
    "n_rounds": 5,
    "max_train_per_region": 64,
    "top_rank": 2,
    "m1_threshold": 0.01,
    "m3_threshold": 0.2,
    "alpha": 0.25,
    "max_enumerate": 8,
    "homogeneity_threshold": 0.9,
    "max_expand_iterations": 20,
    "input_dims": 64,
    "hidden": 32,
    "steps": 200,
    "batch_size": 256,
    "lr": 0.01,
    "weight_decay": 1e-4,
    "min_train_accuracy": 0.9,
}

_INT_MIN = {
    "n_regions": 2, "min_region_size": 1, "distance_samples_per_region": 1, "n_neighbors": 1,
    "max_skips": 1, "max_seeds": 2, "n_rounds": 1, "max_train_per_region": 1, "top_rank": 1,
    "max_enumerate": 1, "max_expand_iterations": 1, "input_dims": 1, "hidden": 1, "steps": 1,
    "batch_size": 1,
}
_UNIT = ("mixed_filter_ratio", "seed_size_ratio", "skip_similarity", "m1_threshold", "m3_threshold",
         "alpha", "homogeneity_threshold", "min_train_accuracy")


def check_params(params=None) -> dict:
    """:data:`DEFAULTS` updated with ``params``; unknown names or bad values raise ``ValueError``.

    Error messages name the config key (``merge_expand.<name>``).
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown merge_expand parameter(s) {unknown}; allowed: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    for key, least in _INT_MIN.items():
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"merge_expand.{key}={v!r} must be an int >= {least}")
    for key in _UNIT:
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"merge_expand.{key}={v!r} must be a number in [0, 1]")
    for key in ("lr", "weight_decay"):
        v = p[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (key == "lr" and v == 0):
            raise ValueError(f"merge_expand.{key}={v!r} must be a number {'> 0' if key == 'lr' else '>= 0'}")
    if p["input"] not in INPUTS:
        raise ValueError(f"merge_expand.input={p['input']!r} must be one of {list(INPUTS)}")
    return p


# ------------------------------------------------------------------------- phase 1


def region_count(n_samples, n_regions, min_region_size=5) -> int:
    """The number of phase-1 regions used for ``n_samples`` samples: ``n_regions`` capped at
    ``max(n_samples // min_region_size, 2)`` (and at ``n_samples``), so small data sets run
    with fewer, larger regions instead of failing."""
    return int(min(n_regions, max(n_samples // min_region_size, 2), n_samples))


def make_regions(X, n_regions, *, seed=0, max_quadratic_samples=10_000, min_region_size=5):
    """Phase 1 (II.B.2): spectral clustering of the embeddings into small tight regions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_regions : int >= 2, capped at ``max(n_samples // min_region_size, 2)`` with a warning
        (:func:`region_count`)
    seed : int
    max_quadratic_samples : int
        Above this many samples spectral clustering is fitted on a seeded
        subsample and the rest join the nearest fitted sample
        (:func:`embtree.flat.cluster`).

    Returns
    -------
    ndarray of shape (n_samples,), int64, contiguous region ids ``0 .. n_R-1``
    """
    from embtree import flat

    n = X.shape[0]
    if n < 2:
        raise ValueError(f"n_samples={n}: phase 1 needs at least 2 samples")
    capped = region_count(n, n_regions, min_region_size)
    if capped < n_regions:
        log.warning("merge_expand.n_regions=%d capped at max(n_samples // min_region_size, 2) = %d // %d = %d "
                    "for this small data set", n_regions, n, min_region_size, capped)
        n_regions = capped
    if max_quadratic_samples < n_regions:
        raise ValueError(
            f"max_quadratic_samples={max_quadratic_samples} should be >= n_regions={n_regions}"
        )
    labels = flat.cluster(
        X, "spectral", n_clusters=int(n_regions), seed=seed, max_quadratic_samples=int(max_quadratic_samples)
    )
    _, labels = np.unique(labels, return_inverse=True)  # drop empty clusters
    return labels.astype(np.int64)


# ------------------------------------------------------------------------- phase 2


def _region_sample(regions, per_region, seed):
    """Seeded subsample of at most ``per_region`` members of every region (sorted indices)."""
    rng = np.random.default_rng(seed)
    # Random keys, then the first ``per_region`` of each region in key order: vectorised.
    key = rng.random(len(regions))
    order = np.lexsort((key, regions))
    r_sorted = regions[order]
    start = np.searchsorted(r_sorted, r_sorted, side="left")
    rank = np.arange(len(order)) - start
    return np.sort(order[rank < per_region])


def region_distances(X, regions, *, samples_per_region=32, seed=0):
    """Average inter-region distances d(r_i, r_j) of eq. 1, euclidean.

    d(r_i, r_j) = mean over x in r_i, x* in r_j of ||x - x*||, on at most
    ``samples_per_region`` seeded members per region; computed as P^T D P with
    the column-normalised membership matrix P (no loop over members).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    regions : ndarray of shape (n_samples,), ids 0..n_R-1

    Returns
    -------
    ndarray of shape (n_R, n_R), float64 (diagonal: mean within-region distance)
    """
    from sklearn.metrics import pairwise_distances

    n_r = int(regions.max()) + 1
    idx = _region_sample(regions, samples_per_region, seed)
    r = regions[idx]
    D = pairwise_distances(np.asarray(X[idx], dtype=np.float64), metric="euclidean")
    counts = np.bincount(r, minlength=n_r).astype(np.float64)
    P = np.zeros((len(idx), n_r))
    P[np.arange(len(idx)), r] = 1.0 / counts[r]
    out = P.T @ D @ P
    return (out + out.T) / 2


def neighbourhood_agreement(X, regions, *, n_neighbors=10, samples_per_region=32, seed=0):
    """Per region: mean fraction of a member's ``n_neighbors`` nearest neighbours in the same region.

    Label-free "mixed region" statistic (module docstring). Members are
    subsampled as in :func:`region_distances`; neighbours are searched among all
    samples (the query point itself excluded).

    Returns
    -------
    ndarray of shape (n_R,), float64 in [0, 1]
    """
    n = X.shape[0]
    k = min(n_neighbors, n - 1)
    idx = _region_sample(regions, samples_per_region, seed)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    nbr = nn.kneighbors(X[idx], return_distance=False)
    # Drop the query itself wherever it appears (duplicates may push it off column 0).
    same = regions[nbr] == regions[idx][:, None]
    self_hit = nbr == idx[:, None]
    frac = (same & ~self_hit).sum(axis=1) / np.maximum((~self_hit).sum(axis=1), 1)
    n_r = int(regions.max()) + 1
    total = np.bincount(regions[idx], weights=frac, minlength=n_r)
    return total / np.maximum(np.bincount(regions[idx], minlength=n_r), 1)


def mixed_regions(agreement, ratio):
    """Filtered regions F: agreement below ``ratio`` x the median agreement. Bool (n_R,)."""
    agreement = np.asarray(agreement, dtype=np.float64)
    return agreement < ratio * np.median(agreement)


def partition_ari(a, b, weights):
    """Adjusted Rand index of two region-level labelings, each region weighted by its size.

    Equals ``sklearn.metrics.adjusted_rand_score`` on the point-level labels
    ``a[regions]``, ``b[regions]`` without materialising them (the skip rule
    evaluates it for every candidate x seed).

    Parameters
    ----------
    a, b : ndarray of shape (n_R,), int labels
    weights : ndarray of shape (n_R,), region sizes (integers)
    """
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    C = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(C, (a, b), np.asarray(weights, dtype=np.float64))
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    n = C.sum()
    sum_ij = comb(C).sum()
    sum_a, sum_b = comb(C.sum(axis=1)).sum(), comb(C.sum(axis=0)).sum()
    expected = sum_a * sum_b / comb(n) if n > 1 else 0.0
    max_index = (sum_a + sum_b) / 2
    if max_index == expected:  # both trivial partitions: identical by convention (as sklearn)
        return 1.0
    return float((sum_ij - expected) / (max_index - expected))


def replacement_similarity(D, seeds, cand, sizes):
    """Skip rule: for every seed s, ARI of the partition with c in s's place against the current one.

    The partition induced by a seed set assigns each region to its nearest seed
    (by ``D``); points inherit their region's assignment (:func:`partition_ari`).

    Parameters
    ----------
    D : ndarray of shape (n_R, n_R)
    seeds : ndarray of shape (K,), current seed regions
    cand : int, candidate region
    sizes : ndarray of shape (n_R,)

    Returns
    -------
    ndarray of shape (K,), float64
    """
    S = np.asarray(seeds)
    K = len(S)
    Ds = D[:, S]  # (n_R, K)
    current = np.argmin(Ds, axis=1)
    alt = np.repeat(Ds[None], K, axis=0)  # alt[s]: distances with seed s replaced by c
    alt[np.arange(K), :, np.arange(K)] = D[:, cand][None, :]
    alt_assign = np.argmin(alt, axis=2)  # (K, n_R), all K alternatives at once
    return np.asarray([partition_ari(current, a, sizes) for a in alt_assign])


def select_seeds(D, sizes, filtered, *, seed_size_ratio=0.5, skip_similarity=0.8, max_skips=5, max_seeds=30):
    """Phase 2 (II.B.3): seed regions by the max-min criterion of eq. 1 with the skip rule.

    Parameters
    ----------
    D : ndarray of shape (n_R, n_R), average inter-region distances
    sizes : ndarray of shape (n_R,), region sizes
    filtered : ndarray of shape (n_R,), bool, the filtered regions F

    Returns
    -------
    seeds : ndarray of shape (K,), int64 region ids in selection order
    skipped : ndarray, int64 region ids skipped (added to F)
    """
    D = np.asarray(D, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    n_r = len(sizes)
    ok = ~np.asarray(filtered, dtype=bool)
    if ok.sum() < 2:
        raise ValueError(
            f"only {int(ok.sum())} region(s) left after the mixed-region filter "
            "(merge_expand.mixed_filter_ratio too high, or too few merge_expand.n_regions)"
        )
    ratio = np.minimum.outer(sizes, sizes) / np.maximum(np.maximum.outer(sizes, sizes), 1e-12)
    pair_ok = np.outer(ok, ok) & (ratio >= seed_size_ratio)
    np.fill_diagonal(pair_ok, False)
    if not pair_ok.any():
        raise ValueError(
            f"no seed pair found: no two unfiltered regions with size ratio >= "
            f"merge_expand.seed_size_ratio={seed_size_ratio}"
        )
    i, j = np.unravel_index(np.argmax(np.where(pair_ok, D, -np.inf)), D.shape)
    seeds = [int(min(i, j)), int(max(i, j))]
    available = ok.copy()
    available[seeds] = False
    min_d = D[:, seeds].min(axis=1)
    skipped, run = [], 0
    while run < max_skips and len(seeds) < max_seeds and available.any():
        cand = int(np.argmax(np.where(available, min_d, -np.inf)))  # eq. 1
        available[cand] = False
        S = np.asarray(seeds)
        Dss = D[np.ix_(S, S)] + np.diag(np.full(len(S), np.inf))
        # c "can replace" s: within half of s's distance to its nearest other seed, and the swap
        # keeps the partition (module docstring).
        near = D[cand, S] < 0.5 * Dss.min(axis=1)
        sim = replacement_similarity(D, seeds, cand, sizes)
        best = float(np.max(np.where(near, sim, -1.0)))
        if best >= skip_similarity:
            skipped.append(cand)
            run += 1
            log.info("seed candidate %d skipped (replaces a seed, ARI %.3f)", cand, best)
        else:
            seeds.append(cand)
            min_d = np.minimum(min_d, D[:, cand])
            run = 0
    if len(seeds) >= max_seeds:
        log.warning("seed selection stopped at merge_expand.max_seeds=%d", max_seeds)
    return np.asarray(seeds, dtype=np.int64), np.asarray(skipped, dtype=np.int64)


# ---------------------------------------------------------------------- classifiers


class _StackedMLP:
    """B one-hidden-layer MLPs (ReLU) as stacked weight tensors: one batched matmul per layer.

    Cheaper than ``vmap`` for these tiny models (no per-call functional overhead);
    initialisation as ``torch.nn.Linear`` (uniform +-1/sqrt(fan_in)).
    """

    def __init__(self, n_models, n_in, hidden, n_out, generator):
        import torch

        def u(shape, fan_in):
            bound = 1.0 / math.sqrt(fan_in)
            return ((torch.rand(shape, generator=generator) * 2 - 1) * bound).requires_grad_(True)

        self.params = [u((n_models, n_in, hidden), n_in), u((n_models, 1, hidden), n_in),
                       u((n_models, hidden, n_out), hidden), u((n_models, 1, n_out), hidden)]

    def __call__(self, X):
        import torch

        W1, b1, W2, b2 = self.params
        return torch.baddbmm(b2, torch.relu(torch.matmul(X, W1) + b1), W2)  # (B, n, C)


class _StackedModule:
    """B copies of a ``torch.nn.Module`` stacked with ``torch.func`` and called through ``vmap``."""

    def __init__(self, n_models, arch, generator):
        import torch
        from torch.func import stack_module_state

        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        params, self.buffers = stack_module_state([arch() for _ in range(n_models)])
        self.names = list(params)
        self.params = [params[k].detach().clone().requires_grad_(True) for k in self.names]
        self.base = arch().to("meta")

    def __call__(self, X):
        from torch.func import functional_call, vmap

        def call(params, buffers, x):
            return functional_call(self.base, ({**dict(zip(self.names, params)), **buffers}), (x,))

        return vmap(call, in_dims=(0, 0, None))(self.params, self.buffers, X)


def _lenet(in_shape, n_out):
    """LeNet-5-sized CNN (LeCun 1998; the paper's 7-layer classifier), padded for small images."""
    import torch.nn as nn

    c, h, w = in_shape
    hh, ww = h // 2 // 2, w // 2 // 2
    if hh < 1 or ww < 1:
        raise ValueError(f"images of shape {in_shape} are too small for the LeNet-5 classifier (need >= 4x4)")
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * hh * ww, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, n_out),
    )


def _make_models(arch, n_models, n_in, n_out, generator):
    """``arch``: ("mlp", hidden) -> :class:`_StackedMLP`; ("cnn", in_shape) -> LeNet-5 through vmap."""
    kind, spec = arch
    if kind == "mlp":
        return _StackedMLP(n_models, n_in, spec, n_out, generator)
    return _StackedModule(n_models, lambda: _lenet(spec, n_out), generator)


def train_stacked(X, Y, class_mask, *, arch=("mlp", 32), seed=0, steps=200, lr=0.01, weight_decay=1e-4,
                  batch_size=256, min_train_accuracy=0.9):
    """Train B classifiers at once as one stacked model (not a Python loop of training runs).

    Every model sees the same inputs with its own targets; a target ``-1``
    leaves that sample out of that model's loss (leave-one-out predictors), and
    ``class_mask`` switches classes off per model (merged-pair predictors). The
    loss is the sum over models of their mean cross entropy, so one Adam step on
    the stacked parameters is B independent Adam steps (Adam is elementwise).

    Parameters
    ----------
    X : torch.Tensor of shape (n, n_in) or (n, C, H, W), float32, shared inputs
    Y : torch.Tensor of shape (B, n), int64 targets in 0..C-1, or -1 (excluded)
    class_mask : torch.Tensor of shape (B, C), bool, classes each model may predict
    arch : ("mlp", hidden) or ("cnn", (C, H, W))
    steps, batch_size : Adam steps on seeded mini-batches (whole set when n <= batch_size)

    Returns
    -------
    the trained stacked model (callable: X -> logits (B, n, C))

    Raises
    ------
    RuntimeError
        When a model's training accuracy stays below ``min_train_accuracy``.
    """
    import torch

    B, n = Y.shape
    n_out = class_mask.shape[1]
    gen = torch.Generator().manual_seed(int(seed))
    model = _make_models(arch, B, X.shape[1] if X.ndim == 2 else None, n_out, gen)
    opt = torch.optim.Adam(model.params, lr=lr, weight_decay=weight_decay)
    w = (Y >= 0).float()
    Yc = Y.clamp(min=0)
    neg = torch.where(class_mask, 0.0, float("-inf"))[:, None, :]  # (B, 1, C)
    for _ in range(steps):
        b = slice(None) if n <= batch_size else torch.randint(0, n, (batch_size,), generator=gen)
        logp = torch.log_softmax(model(X[b]) + neg, dim=-1)
        nll = -logp.gather(-1, Yc[:, b, None])[..., 0]
        wb = w[:, b]
        loss = ((nll * wb).sum(dim=1) / wb.sum(dim=1).clamp(min=1)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    pred = predict_stacked(model, X, class_mask)[1]
    keep = Y >= 0
    acc = ((pred == Y) & keep).sum(dim=1).float() / keep.sum(dim=1).clamp(min=1)
    worst = float(acc.min())
    if worst < min_train_accuracy:
        raise RuntimeError(
            f"classifier did not converge: training accuracy {worst:.3f} < merge_expand.min_train_accuracy="
            f"{min_train_accuracy} after merge_expand.steps={steps} (raise steps or lr)"
        )
    return model


def predict_stacked(model, X, class_mask, chunk=2048):
    """Softmax outputs (B, n, C) float32 and argmax labels (B, n) int64, in chunks of ``chunk`` rows."""
    import torch

    neg = torch.where(class_mask, 0.0, float("-inf"))[:, None, :]
    probs = []
    with torch.no_grad():
        for start in range(0, X.shape[0], chunk):
            probs.append(torch.softmax(model(X[start:start + chunk]) + neg, dim=-1))
    P = torch.cat(probs, dim=1)
    return P, P.argmax(dim=-1)


# -------------------------------------------------------------------- phase 3 scores


def co_contribution(probs):
    """Co-contribution M1 (eq. 2).

    m1_ij = 1 / (|T_i| n_r) sum_{x in T_i} sum_l f_j^l(x), T_i = points whose
    consensus label (argmax of the mean output over rounds) is i.

    Parameters
    ----------
    probs : ndarray of shape (n_rounds, n_samples, K), classifier outputs

    Returns
    -------
    M1 : ndarray of shape (K, K) (rows of empty T_i are 0)
    y0 : ndarray of shape (n_samples,), consensus labels
    """
    probs = np.asarray(probs, dtype=np.float64)
    mean = probs.mean(axis=0)
    K = mean.shape[1]
    y0 = mean.argmax(axis=1)
    onehot = np.zeros((len(y0), K))
    onehot[np.arange(len(y0)), y0] = 1.0
    sums = onehot.T @ mean
    count = onehot.sum(axis=0)
    return sums / np.maximum(count, 1)[:, None], y0


def _pairs(K):
    return np.asarray(list(itertools.combinations(range(K), 2)), dtype=np.int64).reshape(-1, 2)


def leakage_matrix(y0, merged, pairs, K):
    """Leakage matrix L of eq. 3: L[p, j] = |{x : y0(x) = j, y_{pair p}(x) = the combined class}|.

    Parameters
    ----------
    y0 : ndarray of shape (n_samples,), K-class consensus labels
    merged : ndarray of shape (P, n_samples), bool: predicted into the combined class by pair p's model
    pairs : ndarray of shape (P, 2), the merged pairs (i, k)

    Returns
    -------
    ndarray of shape (P, K), int64
    """
    onehot = np.zeros((len(y0), K), dtype=np.int64)
    onehot[np.arange(len(y0)), y0] = 1
    return np.asarray(merged, dtype=np.int64) @ onehot


def leakage_scores(L, pairs, K):
    """Leakage score M2 (eq. 4): one-sided Wilcoxon rank-sum p-values (``scipy.stats.ranksums``).

    m2_ij = p-value of "L(R_i, j) is larger than the background L(R_{1:K}, j)",
    both without the rows whose pair contains j (module docstring). All (i, j)
    are tested in one vectorised call. Diagonal: 1.

    Parameters
    ----------
    L : ndarray of shape (K*(K-1)/2, K), rows in ``itertools.combinations`` order
    pairs : ndarray of shape (K*(K-1)/2, 2)

    Returns
    -------
    ndarray of shape (K, K), float64 (all 1 for K < 3)
    """
    M2 = np.ones((K, K))
    if K < 3:
        return M2
    L = np.asarray(L, dtype=np.float64)
    P = len(pairs)
    has = np.zeros((P, K), dtype=bool)
    has[np.arange(P), pairs[:, 0]] = True
    has[np.arange(P), pairs[:, 1]] = True
    # For each (i, j), i != j: rows containing i but not j (K-2 of them); background for j:
    # rows not containing j (C(K-1, 2) of them). Index arrays of fixed width, built once.
    rows_i_not_j = np.zeros((K, K, K - 2), dtype=np.int64)
    bg = np.zeros((K, (K - 1) * (K - 2) // 2), dtype=np.int64)
    for j in range(K):  # K small index builds (not the hot path: the test below is vectorised)
        bg[j] = np.nonzero(~has[:, j])[0]
        for i in range(K):
            if i != j:
                rows_i_not_j[i, j] = np.nonzero(has[:, i] & ~has[:, j])[0]
    cols = np.arange(K)
    x = L[rows_i_not_j, cols[None, :, None]]  # (K, K, K-2): x[i, j] = L(R_i \ j, j)
    y = np.broadcast_to(L[bg, cols[:, None]][None], (K, K, bg.shape[1]))  # (K, K, C(K-1,2))
    p = stats.ranksums(x, y, alternative="greater", axis=-1).pvalue
    M2 = np.where(np.eye(K, dtype=bool), 1.0, p)
    return np.nan_to_num(M2, nan=1.0)


def replacement_scores(y0, y_loo):
    """Replacement score M3 (eq. 5): m3_ij = |{y0 = i, y_{-i} = j}| / |{y0 = i}|.

    Parameters
    ----------
    y0 : ndarray of shape (n_samples,), K-class consensus labels
    y_loo : ndarray of shape (K, n_samples), labels (original ids) of the model without seed i

    Returns
    -------
    ndarray of shape (K, K), float64 (rows of empty classes 0; diagonal 0)
    """
    y_loo = np.asarray(y_loo)
    K = y_loo.shape[0]
    M3 = np.zeros((K, K))
    rows = np.broadcast_to(np.arange(K)[:, None], y_loo.shape)
    sel = y0[None, :] == rows  # (K, n): x with y0 = i, in row i
    np.add.at(M3, (rows[sel], y_loo[sel]), 1.0)
    count = np.bincount(y0, minlength=K).astype(np.float64)
    M3 = M3 / np.maximum(count, 1)[:, None]
    np.fill_diagonal(M3, 0.0)
    return M3


def _partner_ranks(M, higher_is_better):
    """rank[i, j] = rank (1 = best, ties 'min') of j among i's partners (j != i); diagonal 0."""
    K = M.shape[0]
    S = np.asarray(M, dtype=np.float64) * (-1.0 if higher_is_better else 1.0)
    S = np.where(np.eye(K, dtype=bool), np.inf, S)
    R = stats.rankdata(S, method="min", axis=1).astype(np.int64)
    np.fill_diagonal(R, 0)
    return R


def reduced_rank_scores(M1, M2, M3):
    """Reduced rank score of each pair: mean over scores and both directions of (rank-1)/(K-2). (K, K)."""
    K = M1.shape[0]
    ranks = [_partner_ranks(M1, True), _partner_ranks(M2, False), _partner_ranks(M3, True)]
    denom = max(K - 2, 1)
    R = sum(np.clip(r - 1, 0, None) + np.clip(r.T - 1, 0, None) for r in ranks) / (6.0 * denom)
    np.fill_diagonal(R, 0.0)
    return R


def similarity_graphs(M1, M2, M3, *, top_rank=2, m1_threshold=0.01, m3_threshold=0.2, alpha=0.25):
    """G_s (similarity) and G_r (dissimilarity) adjacency matrices of the seeds (II.B.4 d).

    Returns
    -------
    G_s, G_r : ndarray of shape (K, K), bool, symmetric, zero diagonal
    """
    K = M1.shape[0]
    top = np.ones((K, K), dtype=bool)
    for M, hib in ((M1, True), (M2, False), (M3, True)):
        r = _partner_ranks(M, hib)
        top &= (r >= 1) & (r <= top_rank) & (r.T >= 1) & (r.T <= top_rank)
    strong = (np.minimum(M1, M1.T) >= m1_threshold) & (np.minimum(M3, M3.T) >= m3_threshold)
    G_s = top & strong
    G_r = np.minimum(M2, M2.T) > alpha
    np.fill_diagonal(G_s, False)
    np.fill_diagonal(G_r, False)
    return G_s, G_r


def _connected(block, G):
    block = list(block)
    seen, stack = {block[0]}, [block[0]]
    members = set(block)
    while stack:
        u = stack.pop()
        for v in members:
            if v not in seen and G[u, v]:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(block)


def _set_partitions(nodes, G_r):
    """All set partitions of ``nodes`` with no G_r edge inside a block (restricted growth, pruned)."""
    def rec(i, blocks):
        if i == len(nodes):
            yield [list(b) for b in blocks]
            return
        u = nodes[i]
        for b in blocks:
            if not any(G_r[u, v] for v in b):
                b.append(u)
                yield from rec(i + 1, blocks)
                b.pop()
        blocks.append([u])
        yield from rec(i + 1, blocks)
        blocks.pop()

    yield from rec(0, [])


def _loss(blocks, R, Q):
    singles = sum(len(b) == 1 for b in blocks)
    pairs = [(u, v) for b in blocks for u, v in itertools.combinations(b, 2)]
    return (singles, round(sum(R[u, v] for u, v in pairs), 12), round(sum(Q[u, v] for u, v in pairs), 12))


def choose_partition(G_s, G_r, M1, M2, M3, *, max_enumerate=8):
    """The partition of the seeds respecting G_s and G_r that minimises the loss (II.B.4 d).

    Blocks lie inside connected components of G_s, are connected in G_s and hold
    no G_r edge; loss (lexicographic): singletons, sum of reduced rank scores,
    sum of pairwise dissimilarities over within-block pairs (module docstring).

    Returns
    -------
    ndarray of shape (K,), int64 block id of every seed (0.. in order of first seed)
    """
    from scipy.sparse.csgraph import connected_components

    K = G_s.shape[0]
    R = reduced_rank_scores(M1, M2, M3)
    Q = ((1 - (M1 + M1.T) / 2) + (M2 + M2.T) / 2 + (1 - (M3 + M3.T) / 2)) / 3
    _, comp = connected_components(G_s.astype(np.int8), directed=False)
    blocks_all = []
    for c in np.unique(comp):
        nodes = [int(v) for v in np.nonzero(comp == c)[0]]
        if len(nodes) == 1:
            blocks_all.append(nodes)
            continue
        if len(nodes) <= max_enumerate:
            cands = (p for p in _set_partitions(nodes, G_r) if all(_connected(b, G_s) for b in p))
            best = min(cands, key=lambda p: _loss(p, R, Q))
        else:
            log.warning("G_s component of %d seeds > max_enumerate=%d: greedy merging", len(nodes), max_enumerate)
            best = _greedy_partition(nodes, G_s, G_r, R)
        blocks_all.extend(best)
    label = np.empty(K, dtype=np.int64)
    for b, members in enumerate(sorted(blocks_all, key=min)):
        label[members] = b
    return label


def _greedy_partition(nodes, G_s, G_r, R):
    block = {u: {u} for u in nodes}
    edges = sorted(((R[u, v], u, v) for u, v in itertools.combinations(nodes, 2) if G_s[u, v]))
    for _, u, v in edges:
        bu, bv = block[u], block[v]
        if bu is bv or any(G_r[a, b] for a in bu for b in bv):
            continue
        merged = bu | bv
        for w in merged:
            block[w] = merged
    return [sorted(b) for b in {id(b): b for b in block.values()}.values()]


def merge_seeds(inputs, regions, seeds, *, arch=("mlp", 32), seed=0, n_rounds=5, max_train_per_region=64,
                top_rank=2, m1_threshold=0.01, m3_threshold=0.2, alpha=0.25, max_enumerate=8, train_kw=None):
    """Phase 3 (II.B.4): score the seed pairs (eq. 2-5) and merge them.

    Trains, as one stacked model, ``n_rounds`` K-class classifiers, the
    (K choose 2) merged-pair and the K leave-one-out classifiers on at most
    ``max_train_per_region`` members of each seed region, predicts all samples,
    and derives M1, M2, M3, G_s, G_r and the partition (module docstring).

    Parameters
    ----------
    inputs : torch.Tensor of shape (n_samples, ...), classifier inputs
    regions : ndarray of shape (n_samples,), region ids
    seeds : ndarray of shape (K,), seed region ids

    Returns
    -------
    m1, m2, m3 : ndarray of shape (K, K)
    g_s, g_r : ndarray of shape (K, K), bool
    partition : ndarray of shape (K,), int64 merged block of every seed
    """
    import torch

    train_kw = dict(train_kw or {})
    K = len(seeds)
    n_r = int(regions.max()) + 1
    if K < 3:
        log.warning("only K=%d seeds: nothing to merge", K)
        eye = np.eye(K)
        none = np.zeros((K, K), dtype=bool)
        return eye, eye.copy(), eye.copy(), none, none.copy(), np.arange(K, dtype=np.int64)
    seed_of_region = np.full(n_r, -1, dtype=np.int64)
    seed_of_region[seeds] = np.arange(K)
    sub = _region_sample(regions, max_train_per_region, seed + 1)
    sub = sub[seed_of_region[regions[sub]] >= 0]
    y_sub = seed_of_region[regions[sub]]
    pairs = _pairs(K)
    # One stacked model: n_rounds K-class + C(K,2) merged-pair + K leave-one-out predictors.
    # Every model keeps K outputs (original seed ids); merged pair (i, k): k's samples are
    # labelled i and class k is switched off; without i: i's samples excluded, class i off.
    Y = [y_sub] * n_rounds + [np.where(y_sub == k, i, y_sub) for i, k in pairs] + \
        [np.where(y_sub == i, -1, y_sub) for i in range(K)]
    masks = np.ones((len(Y), K), dtype=bool)
    masks[n_rounds + np.arange(len(pairs)), pairs[:, 1]] = False
    masks[n_rounds + len(pairs) + np.arange(K), np.arange(K)] = False
    Y, masks = torch.as_tensor(np.stack(Y)), torch.as_tensor(masks)
    models = train_stacked(inputs[torch.as_tensor(sub)], Y, masks, arch=arch, seed=seed, **train_kw)
    probs, pred = predict_stacked(models, inputs, masks)
    probs, pred = probs.numpy(), pred.numpy()
    m1, y0 = co_contribution(probs[:n_rounds])
    merged = pred[n_rounds:n_rounds + len(pairs)] == pairs[:, :1]  # the combined class keeps id i
    m2 = leakage_scores(leakage_matrix(y0, merged, pairs, K), pairs, K)
    m3 = replacement_scores(y0, pred[n_rounds + len(pairs):])
    if K < 4:
        log.warning("K=%d seeds: the rank-sum leakage test cannot reach significance; no merge", K)
    g_s, g_r = similarity_graphs(m1, m2, m3, top_rank=top_rank, m1_threshold=m1_threshold,
                                 m3_threshold=m3_threshold, alpha=alpha)
    partition = choose_partition(g_s, g_r, m1, m2, m3, max_enumerate=max_enumerate)
    return m1, m2, m3, g_s, g_r, partition


# ------------------------------------------------------------------------- phase 4


def expand(inputs, regions, train_idx, train_labels, n_classes, *, arch=("mlp", 32), seed=0, homogeneity_threshold=0.9,
           max_expand_iterations=20, train_kw=None):
    """Phase 4 (II.B.5): grow the training data by homogeneous regions until none is added.

    Parameters
    ----------
    inputs : torch.Tensor of shape (n_samples, ...), classifier inputs
    regions : ndarray of shape (n_samples,), region ids
    train_idx : ndarray, indices of the merged seed regions' members
    train_labels : ndarray, their pseudo labels 0..n_classes-1
    arch : see :func:`train_stacked`

    Returns
    -------
    labels : ndarray of shape (n_samples,), final predictions
    included : ndarray of shape (n_R,), int64: -1 never added, 0 in the initial training
        data, t >= 1 added in iteration t
    n_iterations : int
    """
    import torch

    train_kw = dict(train_kw or {})
    n_r = int(regions.max()) + 1
    included = np.full(n_r, -1, dtype=np.int64)
    included[np.unique(regions[train_idx])] = 0
    target = np.full(len(regions), -1, dtype=np.int64)
    target[train_idx] = train_labels
    mask = torch.ones(1, n_classes, dtype=torch.bool)
    it = 0
    while True:
        it += 1
        model = train_stacked(inputs, torch.as_tensor(target)[None], mask, arch=arch, seed=seed + it, **train_kw)
        pred = predict_stacked(model, inputs, mask)[1][0].numpy().astype(np.int64)
        counts = np.zeros((n_r, n_classes), dtype=np.int64)
        np.add.at(counts, (regions, pred), 1)
        dominant = counts.argmax(axis=1)
        homog = counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1)
        add = (included < 0) & (homog >= homogeneity_threshold)
        log.info("expansion iteration %d: %d region(s) added", it, int(add.sum()))
        if not add.any():
            break
        included[add] = it
        new = add[regions] & (pred == dominant[regions])
        target[new] = pred[new]
        if it >= max_expand_iterations:
            log.warning("expansion stopped at merge_expand.max_expand_iterations=%d", max_expand_iterations)
            model = train_stacked(inputs, torch.as_tensor(target)[None], mask, arch=arch, seed=seed + it + 1,
                                  **train_kw)
            pred = predict_stacked(model, inputs, mask)[1][0].numpy().astype(np.int64)
            break
    return pred, included, it


# ------------------------------------------------------------------------- driver


@dataclass
class MergeExpandResult:
    """Output of :func:`merge_expand` (shapes: N samples, n_R regions, K seeds)."""

    labels: np.ndarray  # (N,) int64 cluster ids 0..n_clusters-1
    clean: np.ndarray  # (N,) bool
    regions: np.ndarray  # (N,) int64
    seeds: np.ndarray  # (K,) int64 region ids
    filtered: np.ndarray  # (n_R,) bool, F (mixed-region filter, before skips)
    skipped: np.ndarray  # int64 region ids skipped in seed selection
    partition: np.ndarray  # (K,) int64 merged block of each seed
    m1: np.ndarray  # (K, K)
    m2: np.ndarray  # (K, K)
    m3: np.ndarray  # (K, K)
    g_s: np.ndarray  # (K, K) bool
    g_r: np.ndarray  # (K, K) bool
    included: np.ndarray  # (n_R,) int64 expansion iteration (-1 never)
    n_iterations: int
    seconds: dict = field(default_factory=dict)  # per phase; for logs only, never result files

    @property
    def n_clusters(self) -> int:
        return int(len(np.unique(self.labels)))


def _zscore_pca(X, dims, seed):
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    Z = (X - X.mean(axis=0)) / std
    if Z.shape[1] > dims:
        Z = PCA(n_components=dims, random_state=seed).fit_transform(Z)
        Z = Z / Z[:, :1].std()  # keep the scale of a z-scored input
    return Z.astype(np.float32)


def _check_images(images, n):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[0] != n:
        raise ValueError(f"images must have shape (n_samples, C, H, W) with n_samples={n}, got {images.shape}")
    if not np.issubdtype(images.dtype, np.number) or not np.isfinite(images).all():
        raise ValueError("images must be finite real numbers")
    x = images.astype(np.float32)
    return (x - x.mean()) / max(float(x.std()), 1e-12)


def merge_expand(features, *, images=None, seed=0, max_quadratic_samples=10_000, **params) -> MergeExpandResult:
    """Run Merge & Expand (section II.B) on embeddings.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        The fixed embedding (phases 1-2 always work on it).
    images : ndarray of shape (n_samples, C, H, W) or (n_samples, H, W), optional
        Required when ``input="images"``: phases 3-4 then train the
        LeNet-5-sized CNN on the (globally standardised) images.
    seed : int
    max_quadratic_samples : int
        Phase 1's spectral clustering subsample cap (the flat stage's key).
    **params
        Overrides of :data:`DEFAULTS` (see the module docstring).

    Returns
    -------
    MergeExpandResult
    """
    import torch

    p = check_params(params)
    X = check_matrix(features, "features", min_rows=2)
    n = X.shape[0]
    if p["input"] == "images" and images is None:
        raise ValueError("merge_expand.input='images' needs images; this data set has none (use 'embeddings')")
    secs = {}

    t = time.perf_counter()
    regions = make_regions(X, p["n_regions"], seed=seed, max_quadratic_samples=max_quadratic_samples,
                           min_region_size=p["min_region_size"])
    n_r = int(regions.max()) + 1
    sizes = np.bincount(regions, minlength=n_r)
    secs["regions"] = time.perf_counter() - t
    log.info("phase 1: %d regions (sizes %d-%d) in %.1f s", n_r, sizes.min(), sizes.max(), secs["regions"])

    t = time.perf_counter()
    D = region_distances(X, regions, samples_per_region=p["distance_samples_per_region"], seed=seed)
    agree = neighbourhood_agreement(X, regions, n_neighbors=p["n_neighbors"],
                                    samples_per_region=p["distance_samples_per_region"], seed=seed)
    filtered = mixed_regions(agree, p["mixed_filter_ratio"])
    seeds, skipped = select_seeds(D, sizes, filtered, seed_size_ratio=p["seed_size_ratio"],
                                  skip_similarity=p["skip_similarity"], max_skips=p["max_skips"],
                                  max_seeds=p["max_seeds"])
    K = len(seeds)
    secs["seeds"] = time.perf_counter() - t
    log.info("phase 2: %d filtered regions, %d seeds, %d skipped in %.1f s", int(filtered.sum()), K, len(skipped),
             secs["seeds"])

    t = time.perf_counter()
    torch_threads = torch.get_num_threads()
    if p["input"] == "images":
        inputs = torch.as_tensor(_check_images(images, n))
        arch = ("cnn", tuple(inputs.shape[1:]))
    else:
        inputs = torch.as_tensor(_zscore_pca(X, p["input_dims"], seed))
        arch = ("mlp", p["hidden"])
    train_kw = {k: p[k] for k in ("steps", "lr", "weight_decay", "batch_size", "min_train_accuracy")}
    seed_of_region = np.full(n_r, -1, dtype=np.int64)
    seed_of_region[seeds] = np.arange(K)
    m1, m2, m3, g_s, g_r, partition = merge_seeds(
        inputs, regions, seeds, arch=arch, seed=seed, train_kw=train_kw,
        **{k: p[k] for k in ("n_rounds", "max_train_per_region", "top_rank", "m1_threshold", "m3_threshold",
                             "alpha", "max_enumerate")},
    )
    n_merged = int(partition.max()) + 1
    secs["merge"] = time.perf_counter() - t
    log.info("phase 3: %d seeds -> %d merged seed regions in %.1f s (torch threads %d)", K, n_merged,
             secs["merge"], torch_threads)

    t = time.perf_counter()
    in_seed = seed_of_region[regions] >= 0
    train_idx = np.nonzero(in_seed)[0]
    train_labels = partition[seed_of_region[regions[train_idx]]]
    labels, included, n_it = expand(inputs, regions, train_idx, train_labels, n_merged, arch=arch,
                                    seed=seed + 1000, homogeneity_threshold=p["homogeneity_threshold"],
                                    max_expand_iterations=p["max_expand_iterations"], train_kw=train_kw)
    _, labels = np.unique(labels, return_inverse=True)
    clean = included[regions] >= 0
    secs["expand"] = time.perf_counter() - t
    log.info("phase 4: %d iterations, clean fraction %.3f, %d clusters in %.1f s", n_it, clean.mean(),
             len(np.unique(labels)), secs["expand"])
    return MergeExpandResult(
        labels=labels.astype(np.int64), clean=clean, regions=regions, seeds=seeds, filtered=filtered,
        skipped=skipped, partition=partition, m1=m1, m2=m2, m3=m3, g_s=g_s, g_r=g_r, included=included,
        n_iterations=int(n_it), seconds=secs,
    )


# ----------------------------------------------------------------------- evaluation


def consistent_neighbours(X, labels_true, *, k=10):
    """Fig. 4c: for every sample, how many of its ``k`` nearest neighbours share its true label.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), euclidean
    labels_true : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_samples,), int64 in 0..k
    """
    X = check_matrix(X, "X", min_rows=2)
    y = np.asarray(labels_true)
    if y.shape != (X.shape[0],):
        raise ValueError(f"labels_true has shape {y.shape}, expected ({X.shape[0]},)")
    k = int(k)
    if not 1 <= k < X.shape[0]:
        raise ValueError(f"k={k} must be in 1..n_samples-1={X.shape[0] - 1}")
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    nbr = nn.kneighbors(X, return_distance=False)
    idx = np.arange(X.shape[0])[:, None]
    # Remove the query itself (normally column 0; with duplicates it may sit elsewhere).
    is_self = nbr == idx
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(nbr, dtype=bool)
    keep[np.arange(len(nbr)), drop] = False
    nbr = nbr[keep].reshape(len(nbr), k)
    return (y[nbr] == y[:, None]).sum(axis=1).astype(np.int64)


def clean_scores(labels_true, labels_pred, clean):
    """ACC (Hungarian) / NMI / ARI / AMI over all, clean and unclean samples (table I's last row).

    Returns a dict; the scores of an empty subset are NaN.
    """
    from embtree.metrics import flat_scores

    labels_true, labels_pred, clean = np.asarray(labels_true), np.asarray(labels_pred), np.asarray(clean, bool)
    out = {}
    for name, m in (("all", np.ones_like(clean)), ("clean", clean), ("unclean", ~clean)):
        if m.sum() == 0:
            out.update({f"{k}_{name}": math.nan for k in ("acc", "nmi", "ari", "ami")})
            continue
        s = flat_scores(labels_true[m], labels_pred[m])
        out.update({f"{k}_{name}": s[k] for k in ("acc", "nmi", "ari", "ami")})
    return out
