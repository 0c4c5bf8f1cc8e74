"""Merge & Expand (ME): clustering with a fixed embedding, and the clean / unclean demarcation.

Chen, Tiong & Yeang, *Clustering image data with a fixed embedding* (paper 003, section II.B).
What the paper says, what it leaves open and what embtree chose: ``docs/methods/merge-expand.md``.

:func:`merge_expand` -> :class:`MergeExpandResult`
    The whole method on embeddings; everything seeded.
:mod:`~embtree.merge_expand.params`
    :data:`DEFAULTS`, :data:`INPUTS`, :func:`check_params`, :func:`region_count`.
:mod:`~embtree.merge_expand.regions` (phase 1 and what phase 2 reads)
    :func:`make_regions`, :func:`region_sample`, :func:`region_distances`,
    :func:`neighbourhood_agreement`, :func:`mixed_regions`.
:mod:`~embtree.merge_expand.seeds` (phase 2)
    :func:`select_seeds`, :func:`replacement_similarity`, :func:`partition_ari`.
:mod:`~embtree.merge_expand.stacked` (the classifiers of phases 3-4)
    :func:`train_stacked`, :func:`predict_stacked`.
:mod:`~embtree.merge_expand.pair_scores` (phase 3 scores, eq. 2-5)
    :func:`co_contribution`, :func:`seed_pairs`, :func:`leakage_matrix`, :func:`leakage_scores`,
    :func:`replacement_scores`.
:mod:`~embtree.merge_expand.merging` (phase 3)
    :func:`merge_seeds`, :func:`similarity_graphs`, :func:`reduced_rank_scores`, :func:`choose_partition`.
:mod:`~embtree.merge_expand.expansion` (phase 4)
    :func:`expand`.
:mod:`~embtree.merge_expand.clean` (evaluation)
    :func:`consistent_neighbours`, :func:`clean_scores`, :func:`neighbourhood_examples` (fig. 4a/b).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import PCA

from embtree.merge_expand.clean import clean_scores, consistent_neighbours, neighbourhood_examples
from embtree.merge_expand.expansion import expand
from embtree.merge_expand.merging import choose_partition, merge_seeds, reduced_rank_scores, similarity_graphs
from embtree.merge_expand.pair_scores import (
    co_contribution,
    leakage_matrix,
    leakage_scores,
    replacement_scores,
    seed_pairs,
)
from embtree.merge_expand.params import DEFAULTS, INPUTS, check_params, region_count
from embtree.merge_expand.regions import (
    make_regions,
    mixed_regions,
    neighbourhood_agreement,
    region_distances,
    region_sample,
)
from embtree.merge_expand.seeds import partition_ari, replacement_similarity, select_seeds
from embtree.merge_expand.stacked import predict_stacked, train_stacked
from embtree.validation import check_matrix

__all__ = [
    "DEFAULTS",
    "INPUTS",
    "MergeExpandResult",
    "check_params",
    "region_count",
    "merge_expand",
    "make_regions",
    "region_sample",
    "region_distances",
    "neighbourhood_agreement",
    "mixed_regions",
    "partition_ari",
    "replacement_similarity",
    "select_seeds",
    "train_stacked",
    "predict_stacked",
    "co_contribution",
    "seed_pairs",
    "leakage_matrix",
    "leakage_scores",
    "replacement_scores",
    "similarity_graphs",
    "reduced_rank_scores",
    "choose_partition",
    "merge_seeds",
    "expand",
    "consistent_neighbours",
    "neighbourhood_examples",
    "clean_scores",
]

log = logging.getLogger(__name__)


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
    eval_labels: np.ndarray | None = None  # (n_eval,) int64, a held-out set's clusters (eval_features)

    @property
    def n_clusters(self) -> int:
        return int(len(np.unique(self.labels)))


def _zscore_pca(X, dims, seed):
    """Classifier inputs of phases 3-4: z-scored features, PCA to ``dims`` (float32), and the same
    map for new samples (a held-out evaluation set), fitted on ``X`` alone."""
    X = np.asarray(X, dtype=np.float64)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0
    Z = (X - mean) / std
    pca, scale = None, 1.0
    if Z.shape[1] > dims:
        pca = PCA(n_components=dims, random_state=seed)
        Z = pca.fit_transform(Z)
        scale = Z[:, :1].std()
        Z = Z / scale  # keep the scale of a z-scored input

    def transform(Xn):
        Zn = (np.asarray(Xn, dtype=np.float64) - mean) / std
        return ((pca.transform(Zn) if pca is not None else Zn) / scale).astype(np.float32)

    return Z.astype(np.float32), transform


def _as_images(images, n, arg="images"):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[0] != n:
        raise ValueError(f"{arg} must have shape (n_samples, C, H, W) with n_samples={n}, got {images.shape}")
    if not np.issubdtype(images.dtype, np.number) or not np.isfinite(images).all():
        raise ValueError(f"{arg} must be finite real numbers")
    return images.astype(np.float32)


def _check_images(images, n):
    """Globally standardised images, and the same map for new images (fitted on ``images``)."""
    x = _as_images(images, n)
    mean, std = x.mean(), max(float(x.std()), 1e-12)

    def transform(new):
        new = np.asarray(new)
        return (_as_images(new, len(new), "eval_images") - mean) / std

    return (x - mean) / std, transform


def merge_expand(features, *, images=None, seed=0, max_quadratic_samples=10_000, check_input=True,
                 eval_features=None, eval_images=None, **params) -> MergeExpandResult:
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
    check_input : bool
        Check that ``features`` is a finite real 2-D array (a pass over every value). False
        where the caller has checked it already (:func:`embtree.flat.cluster`).
    eval_features : ndarray of shape (n_eval, n_features), optional
        A held-out evaluation set: the final classifier of phase 4 (trained on ``features``
        only) assigns its samples to the clusters (``result.eval_labels``). Its inputs go
        through the maps fitted on ``features`` (z-score and PCA, or the image standardisation).
    eval_images : ndarray of shape (n_eval, C, H, W), optional
        The evaluation set's images, required with ``input="images"`` and ``eval_features``.
    **params
        Overrides of :data:`DEFAULTS` (``docs/methods/merge-expand.md``).

    Returns
    -------
    MergeExpandResult
    """
    import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    p = check_params(params)
    X = check_matrix(features, "features", min_rows=2) if check_input else features
    n = X.shape[0]
    if p["input"] == "images" and images is None:
        raise ValueError("merge_expand.input='images' needs images; this data set has none (use 'embeddings')")
    if eval_features is not None:
        eval_features = check_matrix(eval_features, "eval_features", min_rows=1)
        if eval_features.shape[1] != X.shape[1]:
            raise ValueError(f"eval_features has {eval_features.shape[1]} columns, features {X.shape[1]}")
        if p["input"] == "images" and eval_images is None:
            raise ValueError("merge_expand.input='images' with eval_features needs eval_images")
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
        inputs, to_inputs = _check_images(images, n)
        inputs = torch.as_tensor(inputs)
        arch = ("cnn", tuple(inputs.shape[1:]))
    else:
        inputs, to_inputs = _zscore_pca(X, p["input_dims"], seed)
        inputs = torch.as_tensor(inputs)
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
    labels, included, n_it, model = expand(
        inputs, regions, train_idx, train_labels, n_merged, arch=arch, seed=seed + 1000,
        homogeneity_threshold=p["homogeneity_threshold"], max_expand_iterations=p["max_expand_iterations"],
        train_kw=train_kw, return_model=True,
    )
    used, labels = np.unique(labels, return_inverse=True)
    eval_labels = None
    if eval_features is not None:
        held = torch.as_tensor(to_inputs(eval_images if p["input"] == "images" else eval_features))
        held_pred = predict_stacked(model, held, torch.ones(1, n_merged, dtype=torch.bool))[1][0].numpy()
        # The fit set's cluster ids; a class no fit sample was given gets an id after them.
        ids = np.full(n_merged, -1, dtype=np.int64)
        ids[used] = np.arange(len(used))
        unused = ids < 0
        ids[unused] = len(used) + np.arange(int(unused.sum()))
        eval_labels = ids[held_pred.astype(np.int64)]
    clean = included[regions] >= 0
    secs["expand"] = time.perf_counter() - t
    log.info("phase 4: %d iterations, clean fraction %.3f, %d clusters in %.1f s", n_it, clean.mean(),
             len(np.unique(labels)), secs["expand"])
    return MergeExpandResult(
        labels=labels.astype(np.int64), clean=clean, regions=regions, seeds=seeds, filtered=filtered,
        skipped=skipped, partition=partition, m1=m1, m2=m2, m3=m3, g_s=g_s, g_r=g_r, included=included,
        n_iterations=int(n_it), seconds=secs, eval_labels=eval_labels,
    )
