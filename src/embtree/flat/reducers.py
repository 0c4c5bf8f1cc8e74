"""Dimensionality reducers of the flat grid (paper 004, § 3.5, appendix E.2).

:func:`reduce`
    ``none`` / ``pca`` / ``umap`` / ``pacmap`` with the registry defaults (:data:`embtree.flat.REDUCERS`).
:func:`exact_knn`
    UMAP's kNN graph from scikit-learn's exact search (up to ``exact_knn_max_samples``).
:func:`cache_umap_kernels`
    An on-disk numba cache for UMAP's own kernels.

Both UMAP helpers exist for speed and keep results bit-identical: ``docs/methods/flat.md``.
"""

from __future__ import annotations

import importlib
import logging
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from embtree.flat.registry import REDUCERS, check_params
from embtree.validation import check_matrix

__all__ = ["reduce", "exact_knn", "cache_umap_kernels", "EXACT_KNN_METRICS", "UMAP_KERNEL_MODULES"]

log = logging.getLogger(__name__)


def reduce(features, method, *, n_components=None, seed=0, **params) -> np.ndarray:
    """Reduce embeddings before clustering (paper 004, § 3.5, appendix E.2).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Finite embeddings.
    method : {"none", "pca", "umap", "pacmap"}
    n_components : int or float, optional
        Output dims (``pca``, ``umap``, ``pacmap``); for ``pca`` a float in (0, 1) is the
        fraction of variance to keep. Default: the registry value (PCA 0.9,
        UMAP and PaCMAP 50). Clamped to what the data allow, with a warning.
    seed : int
        Random state of PCA's randomised solver, of UMAP and of PaCMAP.
    **params
        Overrides of :data:`REDUCERS` ``[method]`` (``zscore``, UMAP's
        ``n_neighbors``, ``min_dist``, ...).

    Returns
    -------
    ndarray of shape (n_samples, n_components), float32
    """
    X = check_matrix(features, "features", min_rows=2)
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
    import umap  # deferred: importing umap/numba costs seconds, and only this reducer needs it

    cache_umap_kernels()
    n, d = X.shape
    if not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ValueError(f"umap n_components={n_components!r} must be an int >= 1")
    if n < 4:
        raise ValueError(f"umap needs >= 4 samples, got n_samples={n}")
    # Spectral initialisation solves for n_components + 1 eigenvectors: needs < n - 1.
    n_components = _clamp("umap n_components", int(n_components), min(d, n - 2))
    n_neighbors = _clamp("umap n_neighbors", int(n_neighbors), n - 1)
    if exact_knn_max_samples is not None and n <= exact_knn_max_samples and kw.get("metric") in EXACT_KNN_METRICS:
        # UMAP's kNN graph from scikit-learn's exact search, given as precomputed_knn. UMAP's
        # own search for n >= 4096 is pynndescent, whose numba kernels take a distance function
        # as argument and so cannot be cached: every new process compiled them for ~25 s (2-core
        # machine) to then search 10,000 x 64 in 0.2 s. Exact search costs n^2 d flops (0.3 s at
        # 10,000 x 64) and gives the neighbours NN-descent approximates (below 4096 samples UMAP
        # itself is exact).
        kw["precomputed_knn"] = exact_knn(X, n_neighbors, kw["metric"])
    reducer = umap.UMAP(
        n_components=n_components, n_neighbors=n_neighbors, random_state=seed, **kw
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state": single-threaded is the price of determinism.
        warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*")
        # precomputed_knn without a search index only disables UMAP.transform (unused here).
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        return reducer.fit_transform(X)


def _reduce_pacmap(X, *, seed, n_components, n_neighbors, num_iters, init, **kw):
    # deferred: pacmap imports numba and faiss (seconds), and only this reducer needs them
    import pacmap

    n, d = X.shape
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ValueError(f"pacmap n_components={n_components!r} must be an int >= 1")
    if n < 4:
        raise ValueError(f"pacmap needs >= 4 samples, got n_samples={n}")
    if n_neighbors is not None:
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
            raise ValueError(f"pacmap n_neighbors={n_neighbors!r} must be an int >= 1 or None")
        n_neighbors = _clamp("pacmap n_neighbors", int(n_neighbors), n - 2)
    # Its PCA initialisation takes n_components principal axes of the data.
    n_components = _clamp("pacmap n_components", int(n_components), min(d, n - 1))
    # With random_state set, pacmap samples its mid-near and further pairs with seeded numba
    # kernels and builds its faiss HNSW index on one thread (faiss.omp_set_num_threads(1), a
    # process-wide setting): the output is then byte-identical across runs and numba thread
    # counts (tests/test_flat_reducers.py). Its optimisation loop sums gradients serially.
    reducer = pacmap.PaCMAP(n_components=n_components, n_neighbors=n_neighbors, num_iters=tuple(num_iters),
                            random_state=int(seed), verbose=False, **kw)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*have not been thoroughly tested.*")
        return reducer.fit_transform(np.asarray(X, dtype=np.float32), init=init)


# UMAP's modules whose numba kernels :func:`cache_umap_kernels` gives an on-disk cache.
UMAP_KERNEL_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.spectral")


def cache_umap_kernels():
    """Give UMAP's own numba kernels an on-disk cache (``numba.njit(cache=True)``'s cache).

    Several of them (``smooth_knn_dist``, ``compute_membership_strengths``, the layout epoch)
    are compiled without one, so every new process compiled them again: ~12 s of a 20 s UMAP
    job on 1,797 x 64 digits (2-core machine; 6 s with the cache warm). The cache holds the
    same machine code numba compiles, so results are bit-identical with and without it
    (``tests/test_flat_reducers.py``). It is written beside UMAP's sources, or under
    ``NUMBA_CACHE_DIR`` where that is set or the sources are read-only. Kernels that take other
    jitted functions as arguments (pynndescent's) cannot be cached this way and are left alone.
    """
    # deferred with umap (which imports numba, ~0.5 s): only the umap reducer calls this
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    for name in UMAP_KERNEL_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == name
                    and isinstance(obj._cache, NullCache)):
                obj.enable_caching()


# Metrics scikit-learn's NearestNeighbors computes exactly as UMAP defines them.
EXACT_KNN_METRICS = frozenset({"euclidean", "manhattan", "chebyshev", "cosine"})


def exact_knn(X, n_neighbors, metric):
    """UMAP's ``precomputed_knn``: (indices, distances, None), each sample its own first neighbour.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), validated
    n_neighbors : int, ``<= n_samples``
    metric : one of :data:`EXACT_KNN_METRICS`

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors), int32
    distances : ndarray of shape (n_samples, n_neighbors), float32
    None : no search index (UMAP.transform is not used)
    """
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


_REDUCE_IMPL = {"none": _reduce_none, "pca": _reduce_pca, "umap": _reduce_umap, "pacmap": _reduce_pacmap}

assert set(_REDUCE_IMPL) == set(REDUCERS)
