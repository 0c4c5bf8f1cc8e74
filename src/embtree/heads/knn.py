"""Cosine k nearest neighbours of every sample (TEMI's pairs, paper 002 section 3), exact or through faiss.

:func:`mine_knn` (backends :data:`KNN_BACKENDS`), :func:`ivf_params`, :func:`exact_knn_of`,
:func:`recall_at_k`, :func:`knn_recall`, :data:`KNN_TILE_ROWS`.

Cosine similarity is the inner product of L2-normalised float32 rows in every backend. ``exact``
is embtree's tiled brute force (torch: CPU or CUDA); ``faiss-flat`` is faiss's brute force
(``IndexFlatIP``: the same neighbours, its own GEMM blocking); ``faiss-ivf`` is faiss's inverted
file (``IndexIVFFlat``): approximate, so its recall against exact neighbours is measured on a
seeded sample of rows (:func:`knn_recall`) and written beside the neighbours. Which to choose at
which size, with timings: docs/methods/heads.md ("kNN backends").
"""

from __future__ import annotations

import contextlib
import math
import sys
import warnings

import numpy as np
import torch

from embtree.faiss_support import as_float32_rows, faiss_gpus, import_faiss
from embtree.heads.params import KNN_BACKENDS, is_int, resolve_device
from embtree.validation import check_matrix

__all__ = ["KNN_BACKENDS", "KNN_TILE_ROWS", "mine_knn", "ivf_params", "exact_knn_of", "recall_at_k", "knn_recall"]

#: Rows of one kNN similarity tile once all N columns no longer fit beside them: enough
#: for an efficient GEMM, few enough that a 256 MB tile still has 65,536 columns.
KNN_TILE_ROWS = 1024
#: Query rows per faiss search call: bounds the normalised float32 block and the result buffers.
FAISS_QUERY_ROWS = 16384
#: Training rows per inverted list of faiss-ivf (faiss caps at 256; 64 keeps the training k-means
#: at 1.28 M x 4,096 lists to ~1/4 of it, with the 39 faiss asks for at least).
IVF_TRAIN_PER_LIST = 64


def _check_k(n, k):
    if not is_int(k) or k < 1:
        raise ValueError(f"knn={k!r} must be an int >= 1")
    if k >= n:
        raise ValueError(f"knn={k} must be < n_samples={n} (self is excluded)")


def ivf_params(n_samples, nlist=None, nprobe=None) -> tuple[int, int]:
    """``(nlist, nprobe)`` of ``faiss-ivf`` for ``n_samples`` rows; a given value is kept.

    ``nlist``: the power of two nearest ``4 sqrt(N)`` (faiss's guideline 4-16 sqrt(N) lists),
    at most ``N / 39`` (faiss's minimum of 39 training points per list) and at least 1.
    ``nprobe``: ``max(16, round(sqrt(nlist)))`` lists searched per query, at most ``nlist``
    (16 of 256 at 10,000 samples, 32 of 1,024 at 100,000, 64 of 4,096 at 1.28 M): a share of
    the rows that falls as N grows, as the lists grow. Measured recall@50: 0.96 on the shipped
    CIFAR-10 features (10,000 x 64), 0.99 on a planted 100,000 x 768 set whose 50 neighbours
    share the class in only 32 % (docs/methods/heads.md). Data with less cluster structure need
    more: the job writes the recall it measured, and ``knn_nprobe`` raises it.
    """
    if not is_int(n_samples) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} must be an int >= 2")
    if nlist is None:
        nlist = 2 ** round(math.log2(4 * math.sqrt(n_samples)))
        nlist = int(max(1, min(nlist, n_samples // 39)))
    elif not is_int(nlist) or not 1 <= nlist <= n_samples:
        raise ValueError(f"knn_nlist={nlist!r} must be an int in 1..n_samples={n_samples}")
    if nprobe is None:
        nprobe = max(16, round(math.sqrt(nlist)))
    elif not is_int(nprobe) or nprobe < 1:
        raise ValueError(f"knn_nprobe={nprobe!r} must be an int >= 1")
    return int(nlist), int(min(nprobe, nlist))


def mine_knn(features, k, *, backend="exact", chunk_mb=256, device="cpu", progress=None, nlist=None, nprobe=None,
             seed=0) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar other samples of every sample.

    ``exact``: tiles of the similarity matrix (``chunk_mb`` MB of float32 each) are formed one at a
    time and reduced to a running top-k per row, so memory is ``O(chunk_mb + N k)``. Where
    :data:`KNN_TILE_ROWS` rows of all ``N`` columns fit (up to ~65,000 samples at 256 MB)
    a tile is full width with as many rows as fit (1,342 at 50,000 samples); beyond, it
    has :data:`KNN_TILE_ROWS` rows and as many columns as fit (1,024 x 65,536 at 1.28 M):
    full-width blocks of a few dozen rows would read the whole feature matrix once per
    block, and their skinny products ran 1.9x slower (measured at 1.28 M x 768). The features are
    not normalised into a second copy: a tile is ``(x_i / |x_i|) . x_j`` scaled by
    ``1 / |x_j|`` (float32 input, e.g. a memory-mapped ``.npy``, is used in place on the
    CPU). Exact brute force, ``O(N^2 d)``, bound by the GEMMs: at ImageNet-1K train size
    ~11 hours on two CPU cores (measured 32 rows/s) and minutes on a GPU (``device``).

    ``faiss-flat`` / ``faiss-ivf``: the normalised rows are copied into a faiss index (``N d``
    float32) and searched for ``k + 1`` neighbours, self dropped: faiss-flat in blocks of
    :data:`FAISS_QUERY_ROWS` queries, faiss-ivf on the CPU by faiss's big-batch search (queries
    grouped per list, a second ``N d`` float32 copy). ``faiss-ivf`` trains its coarse quantizer (faiss's k-means, seeded with ``seed``) on a
    seeded sample of ``IVF_TRAIN_PER_LIST * nlist`` rows; ``nlist`` / ``nprobe`` default to
    :func:`ivf_params`. A row for which the probed lists hold fewer than ``k + 1`` rows gets its
    exact neighbours. On ``device="cuda"`` a faiss built with GPU support searches on the GPU;
    ``faiss-cpu`` searches on the CPU (its threads: ``faiss.omp_set_num_threads``).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    k : int, ``1 <= k < n_samples``
    backend : one of :data:`KNN_BACKENDS`
    chunk_mb : int, similarity block size in MB (exact)
    device : "cpu", "cuda" or "auto" (CUDA when present)
    progress : callable(rows_done, n_samples), optional, called after every row block
    nlist, nprobe : int, optional, faiss-ivf's inverted lists and lists searched per query
    seed : int, faiss-ivf's training sample and k-means

    Returns
    -------
    ndarray of shape (n_samples, k), int64
        Neighbours by decreasing similarity; the sample itself is never among them.
    """
    X = check_matrix(features, "features", min_rows=2)
    n = X.shape[0]
    _check_k(n, k)
    if backend not in KNN_BACKENDS:
        raise ValueError(f"knn_backend={backend!r} must be one of {list(KNN_BACKENDS)}")
    device = resolve_device(device)
    if backend == "exact":
        return _mine_knn(X, k, chunk_mb, device, progress)
    if backend == "faiss-ivf":
        nlist, nprobe = ivf_params(n, nlist, nprobe)
    return _faiss_knn(X, k, backend, nlist, nprobe, device, progress, seed, chunk_mb)


def _mine_knn(X, k, chunk_mb, device, progress, queries=None):
    """Exact kNN on validated input (finite 2-D float ``X``, ``1 <= k < n``, a torch device), of
    every row or of the rows ``queries`` (int array)."""
    n = X.shape[0]
    with warnings.catch_warnings():  # a read-only memory map: torch warns, and nothing here writes to it
        warnings.filterwarnings("ignore", message=".*not writable.*", category=UserWarning)
        Z = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    m = n if queries is None else len(queries)
    cells = max(1, int(chunk_mb * 2**20 // 4))  # float32 similarities per tile
    cols = min(n, max(1, cells // min(m, KNN_TILE_ROWS)))
    rows = min(m, max(1, cells // cols))
    inv = torch.empty(n, dtype=torch.float32, device=device)
    for start in range(0, n, rows):  # eps as F.normalize
        inv[start:start + rows] = 1.0 / torch.linalg.vector_norm(Z[start:start + rows], dim=1).clamp_min(1e-12)
    q_all = torch.arange(n, device=device) if queries is None else torch.as_tensor(queries, device=device)
    out = torch.empty((m, k), dtype=torch.int64)
    for r0 in range(0, m, rows):  # loop over tiles (bounded memory), not samples
        r1 = min(r0 + rows, m)
        qi = q_all[r0:r1]
        Q = Z[r0:r1] * inv[r0:r1, None] if queries is None else Z[qi] * inv[qi, None]
        best_sim = best_idx = None
        for c0 in range(0, n, cols):
            c1 = min(c0 + cols, n)
            sim = Q @ Z[c0:c1].T
            sim.mul_(inv[c0:c1])
            own = torch.nonzero((qi >= c0) & (qi < c1)).flatten()  # queries whose self is in this tile
            if len(own):
                sim[own, qi[own] - c0] = -math.inf
            s, i = sim.topk(min(k, c1 - c0), dim=1)
            i += c0
            if best_sim is not None:  # merge with the running top-k of the earlier tiles
                s, j = torch.cat([best_sim, s], 1).topk(min(k, s.shape[1] + best_sim.shape[1]), dim=1)
                i = torch.cat([best_idx, i], 1).gather(1, j)
            best_sim, best_idx = s, i
        out[r0:r1] = best_idx.cpu()
        if progress is not None:
            progress(r1, m)
    return out.numpy()


def _drop_self(I, ids, k):
    """(b, k+1) faiss results -> (b, k) without the row itself (the last one where self is absent)."""
    is_self = I == ids[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    return I[~is_self].reshape(len(I), k)


def _faiss_knn(X, k, backend, nlist, nprobe, device, progress, seed, chunk_mb):
    """faiss-flat / faiss-ivf kNN on validated input; see :func:`mine_knn`."""
    faiss = import_faiss()
    n, d = X.shape
    if backend == "faiss-flat":
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = int(seed)  # faiss's k-means of the coarse quantizer
    on_gpu = device == "cuda" and faiss_gpus(faiss) > 0
    if on_gpu:
        index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    if backend == "faiss-ivf":
        rng = np.random.default_rng(seed)
        size = min(n, IVF_TRAIN_PER_LIST * nlist)
        sample = np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)
        index.train(as_float32_rows(X[sample], 0, size, normalise=True))
        index.nprobe = nprobe
    if backend == "faiss-ivf" and not on_gpu:
        # All rows are queries: faiss's big-batch search groups the queries by inverted list and
        # scores each list against its queries with one GEMM (2.1x faster than per-query scans
        # at 100,000 x 768, the same neighbours); it needs the normalised rows as one array.
        from faiss.contrib.big_batch_search import big_batch_search

        Xn = as_float32_rows(X, 0, n, normalise=True)
        index.add(Xn)
        with contextlib.redirect_stdout(sys.stderr):  # its timing lines go to the job's log
            I = big_batch_search(index, Xn, k + 1, verbose=1)[1]
        del Xn
        out = _drop_self(I.astype(np.int64), np.arange(n), k)
        if progress is not None:
            progress(n, n)
    else:
        for s in range(0, n, FAISS_QUERY_ROWS):
            index.add(as_float32_rows(X, s, s + FAISS_QUERY_ROWS, normalise=True))
        out = np.empty((n, k), dtype=np.int64)
        for s in range(0, n, FAISS_QUERY_ROWS):
            e = min(n, s + FAISS_QUERY_ROWS)
            _, I = index.search(as_float32_rows(X, s, e, normalise=True), k + 1)
            out[s:e] = _drop_self(I.astype(np.int64), np.arange(s, e), k)
            if progress is not None:
                progress(e, n)
    short = np.flatnonzero((out < 0).any(axis=1))  # probed lists held fewer than k + 1 rows
    if len(short):
        out[short] = _mine_knn(X, k, chunk_mb, device, None, queries=short)
    return out


def exact_knn_of(features, rows, k, *, chunk_mb=256, device="cpu") -> np.ndarray:
    """Exact cosine neighbours (self excluded) of the samples ``rows`` among all samples.

    features : (n_samples, n_features); rows : (m,) int indices -> (m, k) int64, by decreasing
    similarity (:func:`mine_knn`'s ``exact`` restricted to ``rows``).
    """
    X = check_matrix(features, "features", min_rows=2)
    _check_k(X.shape[0], k)
    rows = np.asarray(rows, dtype=np.int64)
    if rows.ndim != 1 or (len(rows) and not (0 <= rows.min() and rows.max() < X.shape[0])):
        raise ValueError(f"rows must be a 1-D array of indices in 0..{X.shape[0] - 1}")
    return _mine_knn(X, k, chunk_mb, resolve_device(device), None, queries=rows)


def recall_at_k(found, exact) -> float:
    """Mean over rows of ``|found_i & exact_i| / k``: the share of the true ``k`` neighbours found.

    found, exact : (m, k) int arrays of neighbour indices (order ignored; an index at most once
    per row) -> float in [0, 1].
    """
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape or found.ndim != 2 or found.shape[1] == 0:
        raise ValueError(f"found {found.shape} and exact {exact.shape} must be (m, k) arrays of one shape, k >= 1")
    if found.shape[0] == 0:
        return float("nan")
    hits = 0
    for s in range(0, len(found), 1024):  # (rows, k, k) comparisons in bounded blocks
        hits += int((found[s:s + 1024, :, None] == exact[s:s + 1024, None, :]).any(axis=2).sum())
    return hits / found.size


def knn_recall(features, neighbours, *, rows=1000, seed=0, chunk_mb=256, device="cpu") -> dict:
    """Recall@k of ``neighbours`` against the exact ones, on a seeded sample of ``rows`` samples.

    features : (n_samples, n_features); neighbours : (n_samples, k) -> ``{"recall", "rows"}``
    (rows = the sample size, ``min(rows, n_samples)``). Exact ties make the true set ambiguous:
    on data with duplicate rows the recall can read low.
    """
    X = check_matrix(features, "features", min_rows=2)
    neighbours = np.asarray(neighbours)
    n = X.shape[0]
    if neighbours.ndim != 2 or neighbours.shape[0] != n:
        raise ValueError(f"neighbours must have shape ({n}, k), got {neighbours.shape}")
    if not is_int(rows) or rows < 1:
        raise ValueError(f"knn_recall_rows={rows!r} must be an int >= 1")
    sample = np.sort(np.random.default_rng(seed).choice(n, size=min(rows, n), replace=False))
    exact = exact_knn_of(X, sample, neighbours.shape[1], chunk_mb=chunk_mb, device=device)
    return {"recall": recall_at_k(neighbours[sample], exact), "rows": int(len(sample))}
