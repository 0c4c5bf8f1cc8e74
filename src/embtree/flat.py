"""Flat clustering benchmark: dimensionality reducers x clusterers (zs-ssl-clustering).

Implements the experimental grid of Lowe et al., *An empirical study into
clustering of unseen datasets with self-supervised encoders*
(``papers/004``; § 3.2, § 3.5, appendix E): embeddings are optionally reduced
(:func:`reduce`: ``none`` / ``pca`` / ``umap``), clustered (:func:`cluster`:
``kmeans``, ``spectral``, ``agglomerative-ward``, ``agglomerative-average``,
``affinity-propagation``, ``hdbscan``, ``hdbscan-sklearn``) and scored (:func:`evaluate`: AMI, the
primary metric, plus ARI, NMI, ACC, purity and the silhouette score in the
reduced space, § 3.4 and appendix C).

Defaults
--------
The registries :data:`REDUCERS` and :data:`CLUSTERERS` hold every tunable
hyper-parameter with the paper's value (appendix E.1 "initial parameters",
E.2 for the reducers). Any of them can be overridden by keyword; a name that is
not in the registry raises ``ValueError`` naming it (:func:`check_params`, also
used by the workflow to reject a bad config before any job runs). Seeds are
separate arguments, never registry entries.

Points the paper leaves open (decided here)
-------------------------------------------
* PCA keeps the components explaining 90 % of the variance of the z-scored
  features (the paper's per-encoder choices range over 0.8-0.95 and 100-200
  dims; 0.9 is its pick for raw pixels, the one input type with a
  PCA-selected default it shares with this project).
* ``n_components`` larger than the input allows (UMAP to 50 dims of 32-d data,
  PCA to more dims than samples) is clamped with a logged warning, so one config
  serves data sets of every width.
* ``agglomerative-average`` uses the cosine metric (the paper's choice with
  average linkage on PCA-reduced embeddings, appendix E tables); ``"euclidean"``
  is the alternative. On digits pixels, cosine matched or beat L2 on every
  reducer (AMI 0.74 vs 0.01 after PCA, where L2 average linkage chains into one
  giant cluster; 0.87 for both after UMAP).
* HDBSCAN (the ``hdbscan`` package) caps the largest cluster at
  ``max_cluster_fraction = 0.2`` of the samples (E.1 (3)); one cluster or only
  noise is a valid result. ``hdbscan-sklearn`` is scikit-learn's
  ``HDBSCAN(min_cluster_size=5)`` without a cap, what the zs-ssl-clustering code
  runs. The two differ in ``min_samples`` (default: ``min_cluster_size``): the
  ``hdbscan`` package takes the core distance at the ``min_samples``-th neighbour
  *besides* the point (its k-d tree query asks for ``min_samples + 1``), scikit-learn
  counts the point itself, so package ``min_samples=m`` equals scikit-learn
  ``min_samples=m+1``. On the shipped CIFAR-10 ResNet-20 features (10k x 64, no
  reduction) the package gives AMI 0.149 with 11 clusters (87 % noise, largest cluster
  466, so the 20 % cap never binds and ``max_cluster_fraction: null`` changes nothing),
  scikit-learn AMI 0.029 with 3 clusters (largest 2422); scikit-learn with
  ``min_samples=6`` reproduces the package's labels exactly, the package with
  ``min_samples=4`` scikit-learn's.
* Noise: label ``-1`` (HDBSCAN; Affinity Propagation when it does not converge).
  Scores treat all noise points as **one extra cluster** (paper § 3.2, and
  :mod:`embtree.metrics`), including the silhouette score, so noise is
  penalised, never dropped; ``noise_fraction`` is reported beside.

O(N^2) guard
------------
Affinity Propagation (three dense N x N float64 matrices), agglomerative
clustering (a condensed N x N distance matrix) and spectral clustering (an
eigen-problem whose cost grows quickly with N; dense with ``affinity="rbf"``)
take ``max_quadratic_samples``. Above it they are fitted on a uniform random
subsample of that size drawn with ``seed`` and every other sample is assigned to
the cluster of its nearest fitted sample (1-NN in the clusterer's metric; for
Affinity Propagation the nearest exemplar, its own assignment rule,
Frey & Dueck 2007). Memory then stays ``O(max_quadratic_samples^2)``: a 50k-sample
data set never materialises a 50k x 50k matrix. The guard is logged.

k-means at scale
----------------
scikit-learn's KMeans needs about two float32 copies of its input (it centres the data, and
its tolerance takes ``np.var`` of it) and its float32 k-means++ seeding runs past 40 minutes
at 1.28 M x 768 and k = 1,000 on two cores. Above ``max_sklearn_samples`` (100,000: every
data set of the paper setup stays on scikit-learn) ``kmeans`` runs :func:`embtree.kmeans.kmeans`,
the same algorithm and stopping rules in row blocks of the array, with k-means++ seeded on a
seeded subsample of ``max_sklearn_samples`` rows.

Over 600 lines on purpose: the reducer and clusterer registries with the subsample-and-assign
wrapper every quadratic clusterer goes through.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
from sklearn import cluster as skc
from sklearn import metrics as skm
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from embtree.validation import check_matrix
from embtree.merge_expand import DEFAULTS as _ME_DEFAULTS
from embtree.metrics import flat_scores

__all__ = [
    "REDUCERS",
    "CLUSTERERS",
    "NEEDS_N_CLUSTERS",
    "SEED_DEPENDENT_REDUCERS",
    "check_params",
    "reduce",
    "cluster",
    "silhouette",
    "evaluate",
]

log = logging.getLogger(__name__)

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
        # see _reduce_umap; above it UMAP's own NN-descent.
        "exact_knn_max_samples": 20_000,
    },
}

_DEFAULT_QUADRATIC_CAP = 10_000
# Affinity propagation keeps three dense N x N float64 matrices and iterates up to
# max_iter=1000 times over them: 809 s at N = 10,000 on this project's 2-core machine,
# so its own cap is lower (the workflow's flat.max_quadratic_samples never raises it).
_AP_QUADRATIC_CAP = 2_000

CLUSTERERS: dict[str, dict] = {
    # E.1: k-means++, one initialisation, max_iter raised to 1000.
    # Above max_sklearn_samples: embtree.kmeans, the same algorithm in row blocks (module docstring).
    "kmeans": {"init": "k-means++", "n_init": 1, "max_iter": 1000, "tol": 1e-4, "algorithm": "lloyd",
               "max_sklearn_samples": 100_000},
    # Paper 002, section 5: cosine k-means (L2-normalised inputs and centres); embtree.cosine_kmeans.
    "kmeans-cosine": {"n_init": 10, "max_iter": 300},
    # E.1 (1): nearest-neighbours affinity, cluster_qr assignment, arpack.
    "spectral": {
        "affinity": "nearest_neighbors",
        "n_neighbors": 10,
        "assign_labels": "cluster_qr",
        "eigen_solver": "arpack",
        "eigen_tol": 0.0,
        "n_components": None,
        "gamma": 1.0,
        "max_quadratic_samples": _DEFAULT_QUADRATIC_CAP,
    },
    # E.1 / E.7: "AC w/ C" (n_clusters given); distance_threshold switches to "AC w/o C".
    "agglomerative-ward": {"distance_threshold": None, "max_quadratic_samples": _DEFAULT_QUADRATIC_CAP},
    "agglomerative-average": {
        "metric": "cosine",
        "distance_threshold": None,
        "max_quadratic_samples": _DEFAULT_QUADRATIC_CAP,
    },
    # E.1 (2): damping 0.9, max_iter 1000, convergence_iter 15.
    "affinity-propagation": {
        "damping": 0.9,
        "max_iter": 1000,
        "convergence_iter": 15,
        "preference": None,
        "max_quadratic_samples": _AP_QUADRATIC_CAP,
    },
    # E.1 (3) / E.6: min_cluster_size 5, eom, largest cluster <= 20 % of samples.
    "hdbscan": {
        "min_cluster_size": 5,
        "min_samples": None,
        "max_cluster_fraction": 0.2,
        "metric": "euclidean",
        "cluster_selection_method": "eom",
        "cluster_selection_epsilon": 0.0,
        "alpha": 1.0,
        "allow_single_cluster": False,
        "algorithm": "best",
        "leaf_size": 40,
        "core_dist_n_jobs": 1,
    },
    # scikit-learn's HDBSCAN at its defaults (min_cluster_size 5, no size cap): what the
    # zs-ssl-clustering code runs, so its numbers can be reproduced; see module docstring.
    "hdbscan-sklearn": {
        "min_cluster_size": 5,
        "min_samples": None,
        "max_cluster_fraction": None,
        "metric": "euclidean",
        "cluster_selection_method": "eom",
        "cluster_selection_epsilon": 0.0,
        "alpha": 1.0,
        "allow_single_cluster": False,
        "algorithm": "auto",
        "leaf_size": 40,
    },
    # Merge & Expand (papers/003; embtree.merge_expand): finds k itself; embeddings input only.
    "merge-expand": {
        **{k: v for k, v in _ME_DEFAULTS.items() if k != "input"},
        "max_quadratic_samples": _DEFAULT_QUADRATIC_CAP,
    },
}

# Clusterers that need the number of clusters (AP and HDBSCAN find it; agglomerative
# does not when a distance_threshold is given).
NEEDS_N_CLUSTERS = frozenset({"kmeans", "kmeans-cosine", "spectral", "agglomerative-ward", "agglomerative-average"})
# Reducers whose output depends on the seed (``none`` is cached once for all seeds).
SEED_DEPENDENT_REDUCERS = frozenset({"pca", "umap"})

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
    registry = _KINDS[kind]
    if method not in registry:
        raise ValueError(f"unknown {kind} {method!r}; known: {sorted(registry)}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(registry[method]))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for {kind} {method!r}; "
            f"allowed: {sorted(registry[method])}"
        )
    return {**registry[method], **params}


def _check_features(features, arg="features") -> np.ndarray:
    return check_matrix(features, arg, min_rows=2)


# ----------------------------------------------------------------------------- reducers


def reduce(features, method, *, n_components=None, seed=0, **params) -> np.ndarray:
    """Reduce embeddings before clustering (paper § 3.5, appendix E.2).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Finite embeddings.
    method : {"none", "pca", "umap"}
    n_components : int or float, optional
        Output dims (``pca``, ``umap``); for ``pca`` a float in (0, 1) is the
        fraction of variance to keep. Default: the registry value (PCA 0.9,
        UMAP 50). Clamped to what the data allow, with a warning.
    seed : int
        Random state of PCA's randomised solver and of UMAP.
    **params
        Overrides of :data:`REDUCERS` ``[method]`` (``zscore``, UMAP's
        ``n_neighbors``, ``min_dist``, ...).

    Returns
    -------
    ndarray of shape (n_samples, n_components), float32
    """
    X = _check_features(features)
    if n_components is not None:
        if method == "none":
            raise ValueError("n_components is not a parameter of reducer 'none'")
        params = {**params, "n_components": n_components}
    p = check_params("reducer", method, params)
    if p.pop("zscore"):  # constant dimensions are centred only (StandardScaler: std 0 -> 1)
        X = StandardScaler().fit_transform(np.asarray(X, dtype=np.float64))
    return _REDUCE_IMPL[method](X, seed=seed, **p).astype(np.float32, copy=False)


def _reduce_none(X, *, seed):
    return np.asarray(X, dtype=np.float32)


def _reduce_pca(X, *, seed, n_components, **kw):
    n, d = X.shape
    if isinstance(n_components, float) and not isinstance(n_components, bool):
        if not 0.0 < n_components < 1.0:
            raise ValueError(f"pca n_components={n_components} must be an int >= 1 or a float in (0, 1)")
    elif isinstance(n_components, (int, np.integer)) and n_components >= 1:
        n_components = _clamp("pca n_components", int(n_components), min(n, d))
    else:
        raise ValueError(f"pca n_components={n_components!r} must be an int >= 1 or a float in (0, 1)")
    pca = PCA(n_components=n_components, random_state=seed, **kw)
    Y = pca.fit_transform(X)
    log.info(
        "PCA: %d -> %d dims, explained variance %.3f", d, Y.shape[1], pca.explained_variance_ratio_.sum()
    )
    return Y


def _reduce_umap(X, *, seed, n_components, n_neighbors, exact_knn_max_samples, **kw):
    import umap  # lazy: importing umap/numba costs seconds

    _cache_umap_kernels()
    n, d = X.shape
    if not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ValueError(f"umap n_components={n_components!r} must be an int >= 1")
    if n < 4:
        raise ValueError(f"umap needs >= 4 samples, got n_samples={n}")
    # Spectral initialisation solves for n_components + 1 eigenvectors: needs < n - 1.
    n_components = _clamp("umap n_components", int(n_components), min(d, n - 2))
    n_neighbors = _clamp("umap n_neighbors", int(n_neighbors), n - 1)
    if exact_knn_max_samples is not None and n <= exact_knn_max_samples and kw.get("metric") in _EXACT_KNN_METRICS:
        # UMAP's kNN graph from scikit-learn's exact search, given as precomputed_knn. UMAP's
        # own search for n >= 4096 is pynndescent, whose numba kernels take a distance function
        # as argument and so cannot be cached: every new process compiled them for ~25 s (2-core
        # machine) to then search 10,000 x 64 in 0.2 s. Exact search costs n^2 d flops (0.3 s at
        # 10,000 x 64) and gives the neighbours NN-descent approximates (below 4096 samples UMAP
        # itself is exact).
        kw["precomputed_knn"] = _exact_knn(X, n_neighbors, kw["metric"])
    reducer = umap.UMAP(
        n_components=n_components, n_neighbors=n_neighbors, random_state=seed, **kw
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state": single-threaded is the price of determinism.
        warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*")
        # precomputed_knn without a search index only disables UMAP.transform (unused here).
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        return reducer.fit_transform(X)


_UMAP_KERNEL_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.spectral")


def _cache_umap_kernels():
    """Give UMAP's own numba kernels an on-disk cache (``numba.njit(cache=True)``'s cache).

    Several of them (``smooth_knn_dist``, ``compute_membership_strengths``, the layout epoch)
    are compiled without one, so every new process compiled them again: ~12 s of a 20 s UMAP
    job on 1,797 x 64 digits (2-core machine; 6 s with the cache warm). The cache holds the
    same machine code numba compiles, so results are bit-identical with and without it
    (``tests/test_umap_knn.py``). It is written beside UMAP's sources, or under
    ``NUMBA_CACHE_DIR`` where that is set or the sources are read-only. Kernels that take other
    jitted functions as arguments (pynndescent's) cannot be cached this way and are left alone.
    """
    import importlib

    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    for name in _UMAP_KERNEL_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == name
                    and isinstance(obj._cache, NullCache)):
                obj.enable_caching()


# Metrics scikit-learn's NearestNeighbors computes exactly as UMAP defines them.
_EXACT_KNN_METRICS = frozenset({"euclidean", "manhattan", "chebyshev", "cosine"})


def _exact_knn(X, n_neighbors, metric):
    """UMAP's ``precomputed_knn``: (indices, distances, None), each sample its own first neighbour."""
    X = np.asarray(X, dtype=np.float32)
    dist, idx = NearestNeighbors(n_neighbors=n_neighbors, metric=metric).fit(X).kneighbors(X)
    # A duplicate of a sample may come before it; UMAP expects the sample itself in column 0.
    rows = np.arange(len(X))
    not_first = idx[:, 0] != rows
    if not_first.any():
        for i in np.flatnonzero(not_first):
            j = np.flatnonzero(idx[i] == i)
            k = j[0] if len(j) else n_neighbors - 1
            idx[i, 1:k + 1] = idx[i, :k].copy()
            dist[i, 1:k + 1] = dist[i, :k].copy()
            idx[i, 0], dist[i, 0] = i, 0.0
    return idx.astype(np.int32), dist.astype(np.float32), None


def _clamp(name, value, limit):
    if value > limit:
        log.warning("%s=%d exceeds what the data allow; using %d", name, value, limit)
        return limit
    return value


_REDUCE_IMPL = {"none": _reduce_none, "pca": _reduce_pca, "umap": _reduce_umap}


# ---------------------------------------------------------------------------- clusterers


def cluster(features, method, *, n_clusters=None, seed=0, **params) -> np.ndarray:
    """Cluster (reduced) embeddings with the paper's defaults (§ 3.2, appendix E).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Finite features (usually the output of :func:`reduce`).
    method : {"kmeans", "spectral", "agglomerative-ward", "agglomerative-average", \
"affinity-propagation", "hdbscan", "hdbscan-sklearn", "merge-expand"}
    n_clusters : int, optional
        Required by :data:`NEEDS_N_CLUSTERS` (``1 <= n_clusters <= n_samples``);
        ignored by ``affinity-propagation``, ``hdbscan`` and ``merge-expand`` (they find k) and by
        agglomerative clustering given a ``distance_threshold``.
    seed : int
        Random state of k-means, spectral, AP and of the O(N^2) guard's subsample.
    **params
        Overrides of :data:`CLUSTERERS` ``[method]``; ``max_quadratic_samples``
        bounds the O(N^2) clusterers (see module docstring).

    Returns
    -------
    ndarray of shape (n_samples,), int64
        Cluster ids ``>= 0``; ``-1`` marks noise (HDBSCAN, non-converged AP).
    """
    X = _check_features(features)
    p = check_params("clusterer", method, params)
    n = X.shape[0]
    if method in NEEDS_N_CLUSTERS and p.get("distance_threshold") is None:
        if n_clusters is None:
            raise ValueError(f"clusterer {method!r} needs n_clusters")
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
            raise ValueError(f"n_clusters={n_clusters!r} must be an int >= 1")
        if n_clusters > n:
            raise ValueError(f"n_samples={n} should be >= n_clusters={n_clusters}")
        n_clusters = int(n_clusters)
    else:
        n_clusters = None
    cap = p.pop("max_quadratic_samples", None)
    if method == "merge-expand":
        labels = _CLUSTER_IMPL[method](X, n_clusters=None, seed=seed, max_quadratic_samples=cap, **p)
    elif cap is None or n <= cap:
        labels = _CLUSTER_IMPL[method](X, n_clusters=n_clusters, seed=seed, **p)
    else:
        labels = _subsample_fit(X, method, cap, n_clusters=n_clusters, seed=seed, params=p)
    return np.asarray(labels, dtype=np.int64)


def _subsample_fit(X, method, cap, *, n_clusters, seed, params):
    """O(N^2) guard: fit on ``cap`` seeded samples, assign the rest to the nearest cluster."""
    n = X.shape[0]
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 2:
        raise ValueError(f"max_quadratic_samples={cap!r} must be an int >= 2")
    if n_clusters is not None and n_clusters > cap:
        raise ValueError(f"max_quadratic_samples={cap} should be >= n_clusters={n_clusters}")
    if n_clusters is not None and cap < 10 * n_clusters:
        log.warning("%s: max_quadratic_samples=%d leaves < 10 samples per cluster (k=%d)", method, cap, n_clusters)
    log.warning(
        "%s: n_samples=%d > max_quadratic_samples=%d: fitting a seeded subsample, "
        "assigning the rest to the nearest cluster",
        method,
        n,
        cap,
    )
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, size=int(cap), replace=False))
    rest = np.setdiff1d(np.arange(n), fit_idx, assume_unique=True)
    sub, extra = _CLUSTER_IMPL[method](X[fit_idx], n_clusters=n_clusters, seed=seed, return_extra=True, **params)
    labels = np.empty(n, dtype=np.int64)
    labels[fit_idx] = sub
    if method == "affinity-propagation":
        exemplars = extra  # indices into the subsample; empty if AP did not converge
        if len(exemplars) == 0:
            labels[rest] = -1
            return labels
        ref, ref_labels, metric = X[fit_idx][exemplars], sub[exemplars], "euclidean"
    else:
        keep = sub >= 0
        ref, ref_labels = X[fit_idx][keep], sub[keep]
        metric = params.get("metric", "euclidean")
    nn = NearestNeighbors(n_neighbors=1, metric=metric).fit(ref)
    idx = nn.kneighbors(X[rest], return_distance=False)[:, 0]
    labels[rest] = ref_labels[idx]
    return labels


def _cluster_kmeans(X, *, n_clusters, seed, return_extra=False, max_sklearn_samples, **kw):
    if isinstance(max_sklearn_samples, bool) or not isinstance(max_sklearn_samples, (int, np.integer)) \
            or max_sklearn_samples < n_clusters:
        raise ValueError(f"kmeans: max_sklearn_samples={max_sklearn_samples!r} must be an int >= n_clusters={n_clusters}")
    if len(X) <= max_sklearn_samples:
        labels = skc.KMeans(n_clusters=n_clusters, random_state=seed, **kw).fit_predict(X)
    else:
        from embtree.kmeans import kmeans

        if kw.get("init") != "k-means++":
            raise ValueError(f"kmeans: init={kw.get('init')!r} above max_sklearn_samples: only 'k-means++'")
        log.info("kmeans: n_samples=%d > max_sklearn_samples=%d: embtree.kmeans in row blocks, "
                 "k-means++ on a seeded subsample of %d", len(X), max_sklearn_samples, max_sklearn_samples)
        labels = kmeans(X, n_clusters, seed=seed, n_init=kw["n_init"], max_iter=kw["max_iter"], tol=kw["tol"],
                        init_max_samples=max_sklearn_samples)[0]
    return (labels, None) if return_extra else labels


def _cluster_kmeans_cosine(X, *, n_clusters, seed, return_extra=False, **kw):
    from embtree.cosine_kmeans import cosine_kmeans

    labels, _ = cosine_kmeans(X, n_clusters, seed=seed, **kw)
    return (labels, None) if return_extra else labels


def _cluster_spectral(X, *, n_clusters, seed, return_extra=False, n_neighbors, **kw):
    n_neighbors = _clamp("spectral n_neighbors", int(n_neighbors), X.shape[0] - 1)
    n_eig = kw.get("n_components") or n_clusters
    if kw.get("eigen_solver") == "arpack" and X.shape[0] < 5 * n_eig + 1:
        # ARPACK for k eigenvectors of an n-node graph costs ~ n * (2k)^2 per restart: with
        # k a large share of n (1,000 classes on a 4,000-sample subsample) it ran minutes
        # where a dense eigh of the same Laplacian takes seconds. Below n = 5k + 1 sklearn's
        # lobpcg branch solves exactly that dense problem (scipy.linalg.eigh), so it is the
        # same spectral embedding, exact, at O(n^3) bounded by max_quadratic_samples.
        log.info("spectral: %d eigenvectors of a %d-sample graph: dense eigh instead of arpack", n_eig, X.shape[0])
        kw = {**kw, "eigen_solver": "lobpcg"}
    model = skc.SpectralClustering(n_clusters=n_clusters, n_neighbors=n_neighbors, random_state=seed, **kw)
    with warnings.catch_warnings():
        # "Graph is not fully connected": spectral embedding still works; the
        # disconnected components simply become (parts of) clusters.
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        labels = model.fit_predict(X)
    return (labels, None) if return_extra else labels


def _standardise_for_threshold(X, metric):
    """Paper E.7: centre, divide by the mean per-dim std, and by sqrt(d) (L2) or d (L1).

    Makes a distance threshold comparable across data sets and reduced widths.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    scale = X.std(axis=0).mean()
    X = X / (scale if scale > 0 else 1.0)
    d = X.shape[1]
    if metric in ("euclidean", "l2"):
        X = X / math.sqrt(d)
    elif metric in ("manhattan", "l1", "cityblock"):
        X = X / d
    return X


def _agglomerative(X, *, n_clusters, linkage, metric, distance_threshold):
    if distance_threshold is not None:
        X = _standardise_for_threshold(X, metric)
    model = skc.AgglomerativeClustering(
        n_clusters=n_clusters, linkage=linkage, metric=metric, distance_threshold=distance_threshold
    )
    return model.fit_predict(X)


def _cluster_ward(X, *, n_clusters, seed, return_extra=False, distance_threshold):
    labels = _agglomerative(
        X, n_clusters=n_clusters, linkage="ward", metric="euclidean", distance_threshold=distance_threshold
    )
    return (labels, None) if return_extra else labels


def _cluster_average(X, *, n_clusters, seed, return_extra=False, metric, distance_threshold):
    labels = _agglomerative(
        X, n_clusters=n_clusters, linkage="average", metric=metric, distance_threshold=distance_threshold
    )
    return (labels, None) if return_extra else labels


def _cluster_ap(X, *, n_clusters, seed, return_extra=False, **kw):
    model = skc.AffinityPropagation(affinity="euclidean", random_state=seed, **kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        labels = model.fit_predict(X)
    exemplars = np.asarray(model.cluster_centers_indices_, dtype=np.int64)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        # sklearn labels every sample -1 only when no exemplar emerged; otherwise it returns
        # the (possibly unstable) clusters of the last iteration.
        if len(exemplars) == 0:
            log.warning("affinity-propagation did not converge (max_iter=%s) and found no exemplar: "
                        "all samples noise", kw.get("max_iter"))
        else:
            log.warning("affinity-propagation did not converge within max_iter=%s; keeping the %d "
                        "clusters of the last iteration (they may be unstable)", kw.get("max_iter"),
                        len(exemplars))

    return (labels, exemplars) if return_extra else labels


def _cluster_hdbscan(X, *, n_clusters, seed, return_extra=False, max_cluster_fraction, **kw):
    import hdbscan  # the hdbscan package (McInnes & Healy 2017), as the paper

    n = X.shape[0]
    max_size = _hdbscan_max_size(max_cluster_fraction, n)  # hdbscan: 0 means no cap
    if kw["min_cluster_size"] > n:
        raise ValueError(f"hdbscan min_cluster_size={kw['min_cluster_size']} exceeds n_samples={n}")
    model = hdbscan.HDBSCAN(max_cluster_size=max_size, **kw)
    labels = model.fit_predict(np.asarray(X, dtype=np.float64))
    _warn_few_clusters("hdbscan", labels)
    return (labels, None) if return_extra else labels


def _cluster_hdbscan_sklearn(X, *, n_clusters, seed, return_extra=False, max_cluster_fraction, **kw):
    n = X.shape[0]
    max_size = _hdbscan_max_size(max_cluster_fraction, n)
    if kw["min_cluster_size"] > n:
        raise ValueError(f"hdbscan-sklearn min_cluster_size={kw['min_cluster_size']} exceeds n_samples={n}")
    model = skc.HDBSCAN(max_cluster_size=max_size or None, copy=True, **kw)
    labels = model.fit_predict(np.asarray(X, dtype=np.float64))
    _warn_few_clusters("hdbscan-sklearn", labels)
    return (labels, None) if return_extra else labels


def _hdbscan_max_size(max_cluster_fraction, n):
    """Largest cluster allowed, from the fraction of the samples; 0 = no cap."""
    if max_cluster_fraction is None:
        return 0
    if isinstance(max_cluster_fraction, bool) or not 0.0 < max_cluster_fraction <= 1.0:
        raise ValueError(f"hdbscan max_cluster_fraction={max_cluster_fraction!r} must be in (0, 1] or None")
    return max(int(round(max_cluster_fraction * n)), 2)


def _warn_few_clusters(name, labels):
    found = len(np.unique(labels[labels >= 0]))
    if found <= 1:
        log.warning("%s found %d cluster(s) (noise fraction %.2f)", name, found, float(np.mean(labels < 0)))


def _cluster_merge_expand(X, *, n_clusters, seed, return_extra=False, max_quadratic_samples, **kw):
    from embtree.merge_expand import merge_expand

    # ME subsamples its own O(N^2) step (phase 1), so it takes the cap as a parameter.
    labels = merge_expand(X, seed=seed, max_quadratic_samples=max_quadratic_samples, **kw).labels
    return (labels, None) if return_extra else labels


_CLUSTER_IMPL = {
    "kmeans": _cluster_kmeans,
    "kmeans-cosine": _cluster_kmeans_cosine,
    "spectral": _cluster_spectral,
    "agglomerative-ward": _cluster_ward,
    "agglomerative-average": _cluster_average,
    "affinity-propagation": _cluster_ap,
    "hdbscan": _cluster_hdbscan,
    "hdbscan-sklearn": _cluster_hdbscan_sklearn,
    "merge-expand": _cluster_merge_expand,
}

assert set(_CLUSTER_IMPL) == set(CLUSTERERS) and set(_REDUCE_IMPL) == set(REDUCERS)


# ------------------------------------------------------------------------------ scoring


def silhouette(features, labels, *, sample_size=None, seed=0) -> float:
    """Mean silhouette coefficient (Rousseeuw 1987; paper appendix C.2, eq. 3), euclidean.

    Computed in the space the clusterer saw (the paper's label-free proxy for AMI,
    § 4.6). Noise (``-1``) counts as one cluster (module docstring). For
    ``n_samples > sample_size`` a seeded random subsample of ``sample_size``
    samples is scored (sklearn's ``sample_size`` with ``random_state=seed``).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
    sample_size : int, optional
    seed : int

    Returns
    -------
    float in [-1, 1], or NaN when the (sampled) partition has fewer than 2 or
    more than ``n - 1`` distinct labels (silhouette undefined).
    """
    X = _check_features(features)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels has shape {labels.shape}, expected ({X.shape[0]},)")
    if sample_size is not None and (isinstance(sample_size, bool) or int(sample_size) < 2):
        raise ValueError(f"sample_size={sample_size!r} must be an int >= 2")
    n = X.shape[0]
    sample_size = None if sample_size is None or n <= sample_size else int(sample_size)
    k = len(np.unique(labels))
    if not 2 <= k <= (sample_size or n) - 1:
        return float("nan")
    try:
        return float(skm.silhouette_score(X, labels, metric="euclidean", sample_size=sample_size,
                                          random_state=seed))
    except ValueError as exc:  # the subsample lost all but one label (or kept n distinct ones)
        if "Number of labels" not in str(exc):
            raise
        return float("nan")


def evaluate(features, labels_true, labels_pred, *, silhouette_sample_size=None, seed=0) -> dict:
    """Flat scores of a clustering: AMI (primary), ARI, NMI, ACC, purity, silhouette, k, noise.

    The supervised scores come from :func:`embtree.metrics.flat_scores` (noise is
    one extra cluster there); ``silhouette`` is :func:`silhouette` on ``features``.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        The (reduced) features that were clustered.
    labels_true, labels_pred : ndarray of shape (n_samples,)

    Returns
    -------
    dict with keys ami, ari, nmi, acc, purity, silhouette, n_clusters, noise_fraction
    """
    scores = flat_scores(labels_true, labels_pred)
    scores["silhouette"] = silhouette(features, labels_pred, sample_size=silhouette_sample_size, seed=seed)
    order = ["ami", "ari", "nmi", "acc", "purity", "silhouette", "n_clusters", "noise_fraction"]
    return {k: scores[k] for k in order}
