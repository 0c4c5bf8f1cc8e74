"""The basic clusterers of the flat grid, with paper 004's defaults (appendix E.1).

:data:`CLUSTERERS`
    Every tunable parameter of ``kmeans``, ``kmeans-cosine``, ``spectral``,
    ``agglomerative-ward``, ``agglomerative-average``, ``affinity-propagation``, ``hdbscan``
    and ``hdbscan-sklearn`` with its default.
:data:`NEEDS_N_CLUSTERS`
    The clusterers that need ``n_clusters``.
:data:`KMEANS_BACKENDS`
    The ``backend`` values of ``kmeans`` / ``kmeans-cosine`` (embtree's own, or faiss).
:func:`check_params`, :func:`registry_params`, :func:`check_n_clusters`
    Parameter checks (also used by :mod:`embtree.flat`, whose registry adds merge-expand).
:func:`cluster`
    Labels of one clusterer; the O(N^2) ones (spectral, agglomerative, affinity propagation)
    are fitted on a seeded subsample above ``max_quadratic_samples`` and the rest join the
    nearest fitted sample, so memory stays bounded.

Choices and their reasons: ``docs/methods/flat.md``.
"""

from __future__ import annotations

import logging
import math
import warnings

import hdbscan
import numpy as np
from sklearn import cluster as skc
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors

from embtree.cosine_kmeans import cosine_kmeans
from embtree.faiss_kmeans import faiss_kmeans
from embtree.kmeans import kmeans
from embtree.validation import check_matrix

__all__ = [
    "DEFAULT_QUADRATIC_CAP",
    "KMEANS_BACKENDS",
    "CLUSTERERS",
    "NEEDS_N_CLUSTERS",
    "LINKAGES",
    "AGGLOMERATIVE_METRICS",
    "AGGLOMERATIVE_OPTIONS",
    "AGGLOMERATIVE",
    "check_agglomerative",
    "registry_params",
    "check_params",
    "check_n_clusters",
    "cluster",
]

log = logging.getLogger(__name__)

#: Values of the k-means clusterers' ``backend``: embtree's own (scikit-learn's KMeans up to
#: max_sklearn_samples, embtree.kmeans / embtree.cosine_kmeans) or faiss (embtree.faiss_kmeans).
KMEANS_BACKENDS = ("embtree", "faiss")
# Samples the O(N^2) clusterers are fitted on at most (the guard of :func:`cluster`).
DEFAULT_QUADRATIC_CAP = 10_000
# Affinity propagation keeps three dense N x N float64 matrices and iterates up to
# max_iter=1000 times over them: 809 s at N = 10,000 on this project's 2-core machine,
# so its own cap is lower (the workflow's flat.max_quadratic_samples never raises it).
_AP_QUADRATIC_CAP = 2_000

# Every tunable hyper-parameter with its paper default (appendix E.1).
CLUSTERERS: dict[str, dict] = {
    # E.1: k-means++, one initialisation, max_iter raised to 1000.
    # Above max_sklearn_samples: embtree.kmeans, the same algorithm in row blocks (docs/methods/flat.md).
    # backend "faiss": embtree.faiss_kmeans at every size (k-means++ on <= max_sklearn_samples rows;
    # faiss stops when its objective no longer changes, so tol and algorithm do not apply).
    "kmeans": {"init": "k-means++", "n_init": 1, "max_iter": 1000, "tol": 1e-4, "algorithm": "lloyd",
               "max_sklearn_samples": 100_000, "backend": "embtree"},
    # Paper 002, section 5: cosine k-means (L2-normalised inputs and centres); embtree.cosine_kmeans,
    # or with backend "faiss" faiss's spherical k-means (embtree.faiss_kmeans; paper 002, appendix A).
    "kmeans-cosine": {"n_init": 10, "max_iter": 300, "backend": "embtree"},
    # E.1 (1): nearest-neighbours affinity, cluster_qr assignment, arpack.
    "spectral": {
        "affinity": "nearest_neighbors",
        "n_neighbors": 10,
        "assign_labels": "cluster_qr",
        "eigen_solver": "arpack",
        "eigen_tol": 0.0,
        "n_components": None,
        "gamma": 1.0,
        "max_quadratic_samples": DEFAULT_QUADRATIC_CAP,
    },
    # E.1 / E.7: "AC w/ C" (n_clusters given); distance_threshold switches to "AC w/o C".
    "agglomerative-ward": {"distance_threshold": None, "max_quadratic_samples": DEFAULT_QUADRATIC_CAP},
    "agglomerative-average": {
        "metric": "cosine",
        "distance_threshold": None,
        "max_quadratic_samples": DEFAULT_QUADRATIC_CAP,
    },
    # E.7: any of the 13 linkage x metric options the paper searched (AGGLOMERATIVE_OPTIONS),
    # "AC w/ C" (scikit-learn's default, ward / L2, the number of clusters given) ...
    "agglomerative": {
        "linkage": "ward",
        "metric": "euclidean",
        "distance_threshold": None,
        "max_quadratic_samples": DEFAULT_QUADRATIC_CAP,
    },
    # ... and "AC w/o C": no number of clusters, merging stops at a distance threshold on the
    # E.7-standardised features. 2.0: the threshold the paper chose most often for ward on
    # UMAP-reduced embeddings (tables 3-4; it chose per encoder, from 0.2 to 10); choose per
    # encoder with a clusterer variant per threshold and the report's flat_threshold_choice.
    "agglomerative-threshold": {
        "linkage": "ward",
        "metric": "euclidean",
        "distance_threshold": 2.0,
        "max_quadratic_samples": DEFAULT_QUADRATIC_CAP,
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
    # zs-ssl-clustering code runs, so its numbers can be reproduced; see docs/methods/flat.md.
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
}

# Clusterers that need the number of clusters (AP and HDBSCAN find it; agglomerative
# does not when a distance_threshold is given).
NEEDS_N_CLUSTERS = frozenset(
    {"kmeans", "kmeans-cosine", "spectral", "agglomerative-ward", "agglomerative-average", "agglomerative"}
)

# Paper 004, E.7: the linkages and metrics of its agglomerative search (L1, L2, L-infinity,
# cosine; ward only with L2): 13 options.
LINKAGES = ("ward", "complete", "average", "single")
AGGLOMERATIVE_METRICS = ("euclidean", "manhattan", "chebyshev", "cosine")
AGGLOMERATIVE_OPTIONS = (("ward", "euclidean"),) + tuple(
    (link, m) for link in LINKAGES[1:] for m in AGGLOMERATIVE_METRICS
)
# The clusterers that take a distance_threshold (AC w/o C when it is set).
AGGLOMERATIVE = frozenset({"agglomerative-ward", "agglomerative-average", "agglomerative", "agglomerative-threshold"})


def check_agglomerative(method, params):
    """Check an agglomerative clusterer's full parameter set (:func:`check_params`); raise ``ValueError``.

    ``linkage`` one of :data:`LINKAGES`, ``metric`` one of :data:`AGGLOMERATIVE_METRICS`
    (ward: euclidean only), ``distance_threshold`` None or a number > 0 (required by
    ``agglomerative-threshold``). Other methods pass unchecked.
    """
    if method not in AGGLOMERATIVE:
        return
    linkage = params.get("linkage", "ward" if method == "agglomerative-ward" else "average")
    metric = params.get("metric", "euclidean")
    if linkage not in LINKAGES:
        raise ValueError(f"{method}: linkage={linkage!r} must be one of {list(LINKAGES)}")
    if metric not in AGGLOMERATIVE_METRICS:
        raise ValueError(f"{method}: metric={metric!r} must be one of {list(AGGLOMERATIVE_METRICS)}")
    if linkage == "ward" and metric != "euclidean":
        raise ValueError(f"{method}: ward linkage needs metric='euclidean', got {metric!r}")
    t = params.get("distance_threshold")
    if t is None:
        if method == "agglomerative-threshold":
            raise ValueError("agglomerative-threshold needs a distance_threshold (a number > 0)")
    elif isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not 0 < t < math.inf:
        raise ValueError(f"{method}: distance_threshold={t!r} must be a number > 0 or None")


def registry_params(registry, kind, method, params=None) -> dict:
    """``registry[method]`` updated with ``params``; an unknown method or parameter raises ``ValueError``.

    Parameters
    ----------
    registry : dict of str -> dict
        Defaults of every method (e.g. :data:`CLUSTERERS`).
    kind : str
        What a method is, for the error messages ("clusterer", "reducer").
    method : str
        A key of ``registry``.
    params : dict or None
        Overrides; every key must be a parameter of ``registry[method]``.

    Returns
    -------
    dict
        The full parameter set (a new dict).
    """
    if method not in registry:
        raise ValueError(f"unknown {kind} {method!r}; known: {sorted(registry)}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(registry[method]))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for {kind} {method!r}; "
            f"allowed: {sorted(registry[method])}"
        )
    full = {**registry[method], **params}
    if "backend" in full and full["backend"] not in KMEANS_BACKENDS:
        raise ValueError(f"backend={full['backend']!r} of {kind} {method!r} must be one of {list(KMEANS_BACKENDS)}")
    return full


def check_params(method, params=None) -> dict:
    """:data:`CLUSTERERS` ``[method]`` updated with ``params``; unknown names raise ``ValueError``."""
    return registry_params(CLUSTERERS, "clusterer", method, params)


def check_n_clusters(method, n_clusters, n_samples, params):
    """``n_clusters`` as an int where ``method`` needs it, else None.

    :data:`NEEDS_N_CLUSTERS` need ``1 <= n_clusters <= n_samples`` unless ``params`` (the
    full set, :func:`check_params`) holds a ``distance_threshold``; the others find k.
    """
    if method in NEEDS_N_CLUSTERS and params.get("distance_threshold") is None:
        if n_clusters is None:
            raise ValueError(f"clusterer {method!r} needs n_clusters")
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
            raise ValueError(f"n_clusters={n_clusters!r} must be an int >= 1")
        if n_clusters > n_samples:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}")
        return int(n_clusters)
    return None


def cluster(features, method, *, n_clusters=None, seed=0, check_input=True, **params) -> np.ndarray:
    """Cluster (reduced) embeddings with paper 004's defaults (§ 3.2, appendix E).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Finite features (usually the output of :func:`embtree.flat.reduce`).
    method : {"kmeans", "kmeans-cosine", "spectral", "agglomerative-ward", \
"agglomerative-average", "agglomerative", "agglomerative-threshold", "affinity-propagation", "hdbscan", \
"hdbscan-sklearn"}
    n_clusters : int, optional
        Required by :data:`NEEDS_N_CLUSTERS` (``1 <= n_clusters <= n_samples``);
        ignored by ``affinity-propagation`` and ``hdbscan`` (they find k) and by
        agglomerative clustering given a ``distance_threshold``.
    seed : int
        Random state of k-means, spectral, AP and of the O(N^2) guard's subsample.
    check_input : bool
        Check that ``features`` is a finite real 2-D array of >= 2 rows (a scan of every
        value). False where the caller has checked it already (:func:`embtree.flat.cluster`).
    **params
        Overrides of :data:`CLUSTERERS` ``[method]``; ``max_quadratic_samples``
        bounds the O(N^2) clusterers (module docstring).

    Returns
    -------
    ndarray of shape (n_samples,), int64
        Cluster ids ``>= 0``; ``-1`` marks noise (HDBSCAN, non-converged AP).
    """
    X = check_matrix(features, "features", min_rows=2) if check_input else features
    p = check_params(method, params)
    check_agglomerative(method, p)
    n = X.shape[0]
    n_clusters = check_n_clusters(method, n_clusters, n, p)
    if method in AGGLOMERATIVE and p.get("distance_threshold") is not None:
        # E.7's standardisation, from every sample (before the O(N^2) guard's subsample, so the
        # 1-NN assignment of the rest sees the same space)
        X = _standardise_for_threshold(X, "euclidean" if method == "agglomerative-ward" else p["metric"])
    cap = p.pop("max_quadratic_samples", None)
    if cap is None or n <= cap:
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


def _clamp(name, value, limit):
    if value > limit:
        log.warning("%s=%d exceeds what the data allow; using %d", name, value, limit)
        return limit
    return value


def _cluster_kmeans(X, *, n_clusters, seed, return_extra=False, max_sklearn_samples, backend="embtree", **kw):
    if isinstance(max_sklearn_samples, bool) or not isinstance(max_sklearn_samples, (int, np.integer)) \
            or max_sklearn_samples < n_clusters:
        raise ValueError(f"kmeans: max_sklearn_samples={max_sklearn_samples!r} must be an int >= n_clusters={n_clusters}")
    if backend == "faiss":
        if kw.get("init") != "k-means++":
            raise ValueError(f"kmeans: init={kw.get('init')!r} with backend 'faiss': only 'k-means++'")
        labels = faiss_kmeans(X, n_clusters, seed=seed, n_init=kw["n_init"], max_iter=kw["max_iter"],
                              init_max_samples=max_sklearn_samples, check_input=False)[0]
    elif len(X) <= max_sklearn_samples:
        labels = skc.KMeans(n_clusters=n_clusters, random_state=seed, **kw).fit_predict(X)
    else:
        if kw.get("init") != "k-means++":
            raise ValueError(f"kmeans: init={kw.get('init')!r} above max_sklearn_samples: only 'k-means++'")
        log.info("kmeans: n_samples=%d > max_sklearn_samples=%d: embtree.kmeans in row blocks, "
                 "k-means++ on a seeded subsample of %d", len(X), max_sklearn_samples, max_sklearn_samples)
        labels = kmeans(X, n_clusters, seed=seed, n_init=kw["n_init"], max_iter=kw["max_iter"], tol=kw["tol"],
                        init_max_samples=max_sklearn_samples, check_input=False)[0]
    return (labels, None) if return_extra else labels


def _cluster_kmeans_cosine(X, *, n_clusters, seed, return_extra=False, backend="embtree", **kw):
    if backend == "faiss":
        labels = faiss_kmeans(X, n_clusters, spherical=True, seed=seed, check_input=False, **kw)[0]
    else:
        labels, _ = cosine_kmeans(X, n_clusters, seed=seed, check_input=False, **kw)
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
    # With a distance_threshold, X is standardised already (cluster).
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


def _cluster_agglomerative(X, *, n_clusters, seed, return_extra=False, linkage, metric, distance_threshold):
    labels = _agglomerative(X, n_clusters=n_clusters, linkage=linkage, metric=metric,
                            distance_threshold=distance_threshold)
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
    # the hdbscan package (McInnes & Healy 2017), as the paper
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


_CLUSTER_IMPL = {
    "kmeans": _cluster_kmeans,
    "kmeans-cosine": _cluster_kmeans_cosine,
    "spectral": _cluster_spectral,
    "agglomerative-ward": _cluster_ward,
    "agglomerative-average": _cluster_average,
    "agglomerative": _cluster_agglomerative,
    "agglomerative-threshold": _cluster_agglomerative,
    "affinity-propagation": _cluster_ap,
    "hdbscan": _cluster_hdbscan,
    "hdbscan-sklearn": _cluster_hdbscan_sklearn,
}

assert set(_CLUSTER_IMPL) == set(CLUSTERERS)
