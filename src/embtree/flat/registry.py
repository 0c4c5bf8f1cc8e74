"""The flat grid's registries: every reducer and clusterer with its paper defaults (paper 004, appendix E).

:data:`REDUCERS`, :data:`CLUSTERERS`
    Every tunable hyper-parameter with its default; :data:`CLUSTERERS` is
    :data:`embtree.clustering.CLUSTERERS` plus ``merge-expand`` (paper 003, :mod:`embtree.merge_expand`).
:data:`NEEDS_N_CLUSTERS`, :data:`SEED_DEPENDENT_REDUCERS`
:func:`check_params`
    Defaults updated with overrides; an unknown name, or an agglomerative linkage / metric /
    threshold outside paper 004's search (:func:`embtree.clustering.check_agglomerative`), raises
    ``ValueError`` (the workflow calls it at parse time, so a bad config stops before any job).
"""

from __future__ import annotations

from embtree import clustering
from embtree.clustering import NEEDS_N_CLUSTERS
from embtree.merge_expand import DEFAULTS as ME_DEFAULTS

__all__ = ["REDUCERS", "CLUSTERERS", "NEEDS_N_CLUSTERS", "SEED_DEPENDENT_REDUCERS", "check_params"]

# Every tunable hyper-parameter with its paper default (appendix E.1 / E.2).
REDUCERS: dict[str, dict] = {
    # Raw embeddings; zscore=True gives the paper's "z-score only" input (table 3).
    "none": {"zscore": False},
    # E.2: z-score each dimension, then sklearn's PCA without whitening.
    "pca": {"n_components": 0.9, "zscore": True, "whiten": False, "svd_solver": "auto"},
    # E.2 / § 5: 50 dims, n_neighbors 30, min_dist 0 (McInnes 2018), euclidean.
    "umap": {
        "n_components": 50,
        "n_neighbors": 30,
        "min_dist": 0.0,
        "metric": "euclidean",
        "zscore": False,
        "n_epochs": None,
        "init": "spectral",
        "spread": 1.0,
        # embtree's, not UMAP's: up to this many samples the kNN graph is exact (scikit-learn),
        # see embtree.flat.reducers; above it UMAP's own NN-descent.
        "exact_knn_max_samples": 20_000,
    },
    # E.2: the authors' implementation (`pacmap`) without its PCA preprocessing, otherwise its
    # defaults: n_neighbors None = pacmap's own rule (10 up to 10,000 samples, then
    # 10 + 15 (log10 n - 4)); 50 dims as UMAP (the paper found PaCMAP worse than UMAP at every
    # width it searched, 2-200, so it names no width of its own).
    "pacmap": {
        "n_components": 50,
        "n_neighbors": None,
        "MN_ratio": 0.5,
        "FP_ratio": 2.0,
        "distance": "euclidean",
        "lr": 1.0,
        "num_iters": [100, 100, 250],
        "init": "pca",
        "apply_pca": False,
        "zscore": False,
    },
}

CLUSTERERS: dict[str, dict] = {
    **clustering.CLUSTERERS,
    # Merge & Expand (paper 003; embtree.merge_expand): finds k itself; embeddings input only.
    "merge-expand": {
        **{k: v for k, v in ME_DEFAULTS.items() if k != "input"},
        "max_quadratic_samples": clustering.DEFAULT_QUADRATIC_CAP,
    },
}

# Reducers whose output depends on the seed (``none`` is cached once for all seeds).
SEED_DEPENDENT_REDUCERS = frozenset({"pca", "umap", "pacmap"})

_KINDS = {"reducer": REDUCERS, "clusterer": CLUSTERERS}


def check_params(kind, method, params=None) -> dict:
    """Registry defaults of ``method`` updated with ``params``; reject unknown names.

    Parameters
    ----------
    kind : {"reducer", "clusterer"}
    method : str
        A key of :data:`REDUCERS` or :data:`CLUSTERERS`.
    params : dict or None
        Overrides; every key must be a registry parameter of ``method``.

    Returns
    -------
    dict
        The full parameter set (a new dict).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind={kind!r} must be one of {sorted(_KINDS)}")
    full = clustering.registry_params(_KINDS[kind], kind, method, params)
    if kind == "clusterer":  # linkage x metric x threshold of the agglomerative ones (paper E.7)
        clustering.check_agglomerative(method, full)
    return full
