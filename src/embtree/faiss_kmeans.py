"""k-means through faiss (paper 002, appendix A: "the distributed version of k-means available in
the faiss library"), Euclidean or spherical (cosine), as the ``faiss`` backend of the heads'
cosine k-means baseline and of the flat grid's ``kmeans`` / ``kmeans-cosine``.

:func:`faiss_kmeans`
    Labels, centres and inertia; seeded, and deterministic on the CPU for a fixed thread count.

The same algorithm as :func:`embtree.kmeans.kmeans` / :func:`embtree.cosine_kmeans.cosine_kmeans`
(k-means++ seeding on a seeded subsample, Lloyd iterations, restarts keep the best), with faiss's
float32 GEMM assignment step and its own empty-cluster rule (it splits a large cluster where
scikit-learn re-seeds at the farthest sample). Differences and timings: docs/methods/flat.md
("k-means through faiss").
"""

from __future__ import annotations

import numpy as np

from embtree.faiss_support import as_float32_rows, faiss_gpus, import_faiss
from embtree.seeding import plusplus_restarts, seeding_rows
from embtree.validation import check_matrix

__all__ = ["faiss_kmeans"]


def _float32_copy(X, spherical, block_rows):
    """One float32 copy of ``X`` (faiss needs it): L2-normalised rows (spherical) or centred on the
    float64 mean (Euclidean: float32 distances of centred data lose less to cancellation)."""
    n, d = X.shape
    mean = None
    if not spherical:
        mean = np.zeros(d)
        for s in range(0, n, block_rows):
            mean += X[s:s + block_rows].sum(axis=0, dtype=np.float64)
        mean /= n
    Y = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, block_rows):
        Y[s:s + block_rows] = as_float32_rows(X, s, s + block_rows, normalise=spherical,
                                              centre=None if mean is None else mean.astype(np.float32))
    return Y, mean


def _assign(faiss, Y, centres, gpu, block_rows):
    """Nearest centre of every row of ``Y`` (faiss's search) and the summed squared distance,
    recomputed in float64 row blocks (faiss's float32 ``|x|^2 + |c|^2 - 2 x.c`` loses digits
    to cancellation where clusters are tight)."""
    # L2 for both kinds: with unit rows and unit centres the nearest is the most cosine-similar
    index = faiss.IndexFlatL2(Y.shape[1])
    if gpu:
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(centres)
    labels = index.search(Y, 1)[1][:, 0].astype(np.int64)
    C = centres.astype(np.float64)
    inertia = 0.0
    for s in range(0, len(Y), block_rows):
        diff = Y[s:s + block_rows].astype(np.float64) - C[labels[s:s + block_rows]]
        inertia += float(np.einsum("ij,ij->", diff, diff))
    return labels, inertia


def faiss_kmeans(features, n_clusters, *, spherical=False, seed=0, n_init=1, max_iter=300,
                 init_max_samples=100_000, block_rows=65536, device="cpu", check_input=True):
    """k-means with faiss's Lloyd iterations from a k-means++ start.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Any real dtype, or a read-only memory map: copied once to float32 (faiss's input),
        normalised (spherical) or centred (Euclidean).
    n_clusters : int, ``1 <= n_clusters <= n_samples``
    spherical : bool
        Cosine k-means (paper 002, section 5): unit-norm rows, inner-product assignment, centres
        re-normalised after every iteration (faiss's ``spherical``), as
        :func:`embtree.cosine_kmeans.cosine_kmeans`.
    seed : int
        Seeds the subsample and k-means++ (restart ``i`` uses ``seed + i``) and faiss's own RNG.
    n_init : int
        Restarts; the one with the lowest inertia is kept.
    max_iter : int
        Lloyd iterations per restart (faiss stops earlier once the objective no longer changes).
    init_max_samples : int
        k-means++ runs on a seeded subsample of this many rows when ``n_samples`` is larger.
    block_rows : int
        Rows per block of the float32 copy.
    device : "cpu" or "cuda"
        "cuda" runs the iterations on every GPU the installed faiss sees (a CPU-only faiss
        stays on the CPU).
    check_input : bool
        Check that ``features`` is a finite real 2-D array; False where the caller has.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
    centres : ndarray of shape (n_clusters, n_features), float64 (unit norm when spherical)
    inertia : float
        Summed squared Euclidean distance to the assigned centre (of the unit rows when spherical,
        ``sum(2 - 2 cos)``, which orders solutions as cosine k-means' summed similarity does).
    """
    X = check_matrix(features, "features") if check_input else features
    n, d = X.shape
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters!r} must be an int in 1..n_samples={n}")
    for name, v, least in (("n_init", n_init, 1), ("max_iter", max_iter, 1),
                           ("init_max_samples", init_max_samples, n_clusters), ("block_rows", block_rows, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ValueError(f"{name}={v!r} must be an int >= {least}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} must be 'cpu' or 'cuda'")
    faiss = import_faiss()
    gpu = device == "cuda" and faiss_gpus(faiss) > 0
    K = int(n_clusters)
    Y, mean = _float32_copy(X, spherical, int(block_rows))
    idx = seeding_rows(n, init_max_samples, seed)
    sub = Y[idx].astype(np.float64)
    best = None
    for i, chosen in enumerate(plusplus_restarts(sub, K, [seed + i for i in range(n_init)])):  # restarts
        # every row trains (faiss would subsample to 256 per centre) and no "too few points" warning
        km = faiss.Kmeans(d, K, niter=int(max_iter), spherical=bool(spherical), seed=int(seed + i),
                          max_points_per_centroid=-(-n // K), min_points_per_centroid=1, gpu=gpu)
        km.train(Y, init_centroids=np.ascontiguousarray(Y[idx[chosen]]))
        centres = np.ascontiguousarray(km.centroids, dtype=np.float32)
        labels, inertia = _assign(faiss, Y, centres, gpu, int(block_rows))
        if best is None or inertia < best[2]:
            best = (labels, centres, inertia)
    labels, centres, inertia = best
    centres = centres.astype(np.float64)
    if spherical:
        norm = np.linalg.norm(centres, axis=1, keepdims=True)
        centres /= np.where(norm == 0, 1.0, norm)
    else:
        centres += mean
    return labels, centres, inertia
