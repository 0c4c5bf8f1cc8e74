"""Pairwise distances between two sets of vectors, computed in bounded-memory blocks.

Public names
------------
:func:`pairwise`         full distance matrix ``D[i, j] = metric(A[i], B[j])``
:func:`pairwise_blocks`  the same matrix in blocks of rows of ``A`` (bounded memory)
:func:`nearest`          index of the nearest row of ``B`` for every row of ``A``
:func:`check_metric`     canonical metric name; :data:`METRICS` the supported ones
:func:`check_metric_rows`  rows a metric cannot measure (cosine: zero vectors)
:func:`set_threads`      threads of the numba kernels and BLAS

Metrics: Euclidean, Manhattan and Canberra (CAEC paper 000, eq. 11-13; a Canberra term with
``x_i = y_i = 0`` counts 0, scipy's convention) and cosine ``1 - x.y / (|x| |y|)``. Every
result equals ``scipy.spatial.distance.cdist(A, B, metric)`` up to rounding; names follow
scipy (``"cityblock"`` is Manhattan). Not ``cdist`` itself, which is single-threaded and
materialises the whole matrix: Euclidean and cosine use a float64 GEMM on centred data,
Manhattan / Canberra a fused, multi-threaded numba kernel (:mod:`embtree._l1_kernels`).

The public functions validate ``A`` and ``B``; a caller that validated them already (e.g.
:func:`embtree.caec.grow_clusters`, which scans the embeddings once) passes
``check_input=False`` (scikit-learn's habit: prior validation of data is assumed).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

from embtree.validation import check_matrix

__all__ = ["METRICS", "check_metric", "check_metric_rows", "condensed", "nearest", "pairwise", "pairwise_blocks",
           "set_threads"]

METRICS = ("euclidean", "manhattan", "canberra", "cosine")
_ALIASES = {"cityblock": "manhattan", "l1": "manhattan", "l2": "euclidean"}

# Squared Euclidean distances below this fraction of |a|^2 + |b|^2 (after centring)
# lose more than ~1e-10 relative accuracy to cancellation in the GEMM identity;
# they are recomputed directly from the differences.
_CANCELLATION_RATIO = 1e-5
_BLOCK_BYTES = 64 * 2**20
# Above this size B is converted to float64 chunk by chunk (never as a whole copy), and a
# block has at least _MIN_ROWS_CHUNKED_B rows (1.28 M columns: 64 rows = 655 MB).
_B64_MAX_BYTES = 512 * 2**20
_MIN_ROWS_CHUNKED_B = 64


def check_metric(metric) -> str:
    """Canonical metric name (``"cityblock"`` -> ``"manhattan"``); ``ValueError`` if unknown."""
    name = _ALIASES.get(metric, metric) if isinstance(metric, str) else metric
    if name not in METRICS:
        raise ValueError(f"metric={metric!r} is not supported; choose one of {list(METRICS)}")
    return name


def set_threads(n):
    """Use ``n`` threads in the numba kernels and BLAS (a job's ``threads``); process-wide."""
    n = int(n)
    if n < 1:
        raise ValueError(f"n={n} threads must be >= 1")
    try:
        import numba  # deferred: optional (the kernels fall back to cdist), ~0.5 s to import

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # pragma: no cover
        pass
    threadpool_limits(n)


def _check_matrix(X, name):
    return np.ascontiguousarray(check_matrix(X, name, axes="(n, n_features)", min_rows=0, min_cols=0))


def pairwise(A, B, metric="euclidean", *, check_input=True):
    """Distance matrix between the rows of ``A`` and the rows of ``B``.

    Parameters
    ----------
    A : array of shape (n_a, n_features)
    B : array of shape (n_b, n_features)
    metric : {"euclidean", "manhattan" (or "cityblock"), "canberra", "cosine"}
        Eq. 11-13 of the CAEC paper, plus cosine.
    check_input : bool, default True
        False skips the checks of ``A`` and ``B``: the caller guarantees C-contiguous,
        finite float32 / float64 arrays with equal feature counts and, for cosine, no zero
        rows (:func:`check_metric_rows`). Prior validation of data is assumed.

    Returns
    -------
    D : float64 array of shape (n_a, n_b)
        ``D[i, j] = metric(A[i], B[j])``, equal to ``scipy.spatial.distance.cdist``.
        Use :func:`pairwise_blocks` when ``n_a * n_b`` does not fit in memory.
    """
    A, B, metric = _check_pair(A, B, metric) if check_input else (A, B, check_metric(metric))
    out = np.empty((len(A), len(B)), dtype=np.float64)
    for rows, D in _blocks(A, B, metric, _BLOCK_BYTES):
        out[rows] = D
    return out


def condensed(X, metric="euclidean", *, check_input=True):
    """Condensed distance matrix of the rows of ``X`` (``scipy.spatial.distance.pdist``'s layout).

    Parameters
    ----------
    X : array of shape (n, n_features)
    metric : as in :func:`pairwise`
    check_input : bool, default True; False as in :func:`pairwise`

    Returns
    -------
    d : float64 array of shape (n * (n - 1) // 2,)
        ``d`` for ``i < j`` in row-major order, as ``pdist(X, metric)`` (to rounding), ready
        for ``scipy.cluster.hierarchy.linkage``. Manhattan / Canberra compute the upper triangle
        only (the fused kernels, in ``X``'s precision: pass float32 for twice the speed, at the
        kernels' float32 accuracy); Euclidean / cosine take :func:`pairwise`'s GEMM.
    """
    if check_input:
        X, _, metric = _check_pair(X, X, metric)
    else:
        metric = check_metric(metric)
    n = len(X)
    upper = np.triu_indices(n, 1)
    # numba (~0.8 s to import) only for the metrics whose kernel it holds
    fn = _numba_kernels().get("symmetric") if metric in ("manhattan", "canberra") else None
    if fn is not None and n * n * X.shape[1] > _SMALL:
        X = np.ascontiguousarray(X)
        out = np.empty((n, n), dtype=np.float64)
        fn(X, np.finfo(X.dtype).tiny.astype(X.dtype), metric == "canberra", out)
        return out[upper]
    if metric == "euclidean":
        # One float64 GEMM of the centred rows (the self-distance case of pairwise's identity,
        # without its row blocks: ~3x faster at 1,000 x 768); pairs whose squared distance is
        # small against the norms lose accuracy to cancellation and are recomputed directly.
        Xc = np.asarray(X, dtype=np.float64)
        Xc = Xc - Xc.mean(axis=0)
        sq = np.einsum("ij,ij->i", Xc, Xc)
        d2 = (sq[:, None] + sq[None, :] - 2.0 * (Xc @ Xc.T))[upper]
        i, j = upper
        redo = np.flatnonzero(d2 < _CANCELLATION_RATIO * (sq[i] + sq[j]))
        d2[redo] = _exact_sq(Xc, Xc.__getitem__, i[redo], j[redo])
        return np.sqrt(np.maximum(d2, 0.0))
    return pairwise(X, X, metric, check_input=False)[upper]


def pairwise_blocks(A, B, metric="euclidean", *, max_bytes=_BLOCK_BYTES, check_input=True):
    """Yield ``(rows, D)``: the distance matrix in blocks of rows of ``A``.

    ``rows`` is a slice of ``A``'s rows and ``D`` the float64 array of shape
    ``(len(rows), n_b)``; each block holds about ``max_bytes`` (at least one row),
    so memory stays bounded whatever ``n_a``. ``check_input=False`` skips the checks
    of ``A`` and ``B`` as in :func:`pairwise`.
    """
    A, B, metric = _check_pair(A, B, metric) if check_input else (A, B, check_metric(metric))
    _check_max_bytes(max_bytes)
    yield from _blocks(A, B, metric, max_bytes)


def nearest(A, B, metric="euclidean", *, max_bytes=_BLOCK_BYTES):
    """Index of the nearest row of ``B`` for every row of ``A`` (the first one on ties).

    Parameters
    ----------
    A : array of shape (n_a, n_features)
    B : array of shape (n_b, n_features), n_b >= 1
    metric : as in :func:`pairwise`

    Returns
    -------
    idx : int64 array of shape (n_a,)
        ``argmin_j metric(A[i], B[j])``, equal to ``cdist(A, B, metric).argmin(axis=1)``
        in float64 except for ties at float64 rounding level.

    Manhattan / Canberra run a fused float32 argmin kernel (no (n_a, n_b) matrix);
    rows whose runner-up is within the kernel's error bound of the minimum
    (``embtree._l1_kernels.KERNEL_ERR`` relative, plus the float32 rounding of float64 inputs) are
    recomputed with scipy's float64 ``cdist``, so the argmins are the float64 ones.
    Euclidean / cosine take the argmin of :func:`pairwise_blocks`.
    """
    A, B, metric = _check_pair(A, B, metric)
    if len(B) == 0:
        raise ValueError("B has no rows: no nearest row exists")
    fn = _numba_kernels().get("argmin") if metric in ("manhattan", "canberra") else None
    if fn is None or not (_float32_safe(A, metric) and _float32_safe(B, metric)):
        _check_max_bytes(max_bytes)
        out = np.empty(len(A), dtype=np.int64)
        for rows, D in _blocks(A, B, metric, max_bytes):  # A, B checked above
            out[rows] = np.argmin(D, axis=1)
        return out
    u = 2.0**-24  # float32 rounding of a float64 input, relative
    d = A.shape[1]
    B32 = np.ascontiguousarray(B, dtype=np.float32)
    if metric == "manhattan":  # |x - y| moves by at most the rounding of x and of y
        b_err = u * np.abs(B).sum(axis=1).max() if B.dtype != np.float32 else 0.0
    else:  # a Canberra term moves by <= 2u per rounded side (d/dy of |x-y|/(|x|+|y|) <= 2/(|x|+|y|))
        b_err = 2 * u * d if B.dtype != np.float32 else 0.0
    tiny = np.float32(np.finfo(np.float32).tiny)
    out = np.empty(len(A), dtype=np.int64)
    chunk = max(1, max_bytes // (4 * max(d, 1)))  # float32 copy of A in chunks (memory maps)
    for start in range(0, len(A), chunk):
        rows = slice(start, min(start + chunk, len(A)))
        A32 = np.ascontiguousarray(A[rows], dtype=np.float32)
        best = np.empty(len(A32))
        second = np.empty(len(A32))
        fn(A32, B32, tiny, metric == "canberra", out[rows], best, second)
        err = np.full(len(A32), b_err)
        if A.dtype != np.float32:
            err += u * np.abs(A[rows]).sum(axis=1) if metric == "manhattan" else 2 * u * d
        # Fast values f = D (1 +- e) +- err: another row can be the float64 argmin only if
        # its f <= (f_best + err)(1 + e) / (1 - e) + err <= f_best (1 + 3e) + 3 err.
        check = np.flatnonzero(second <= best * (1 + 3 * _numba_kernels()["err"]) + 3 * err)
        if len(check):
            scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
            B64 = B.astype(np.float64)
            step = max(1, max_bytes // (8 * len(B)))
            for lo in range(0, len(check), step):
                ii = check[lo : lo + step]
                D = cdist(np.asarray(A[rows][ii], dtype=np.float64), B64, scipy_metric)
                out[start + ii] = np.argmin(D, axis=1)
    return out


def _float32_safe(X, metric):
    """Whether rounding ``X`` to float32 keeps every value finite and (Canberra) normal or 0."""
    if X.dtype == np.float32 or not X.size:
        return True
    a = np.abs(X)
    if a.max() >= np.finfo(np.float32).max:
        return False
    return metric != "canberra" or not np.any((a > 0) & (a < np.finfo(np.float32).tiny))


def check_metric_rows(X, metric, name):
    """Raise ``ValueError`` naming ``name`` if ``metric`` is undefined for a row of ``X``.

    Only cosine has such rows: zero vectors. ``X`` is a checked 2-D array; ``metric`` a
    canonical name (:func:`check_metric`).
    """
    if metric == "cosine":
        zero = np.flatnonzero(~np.any(X != 0, axis=1))
        if len(zero):
            raise ValueError(f"cosine distance is undefined for zero vectors: {name} rows {zero[:5].tolist()}")


def _check_pair(A, B, metric):
    metric = check_metric(metric)
    A = _check_matrix(A, "A")
    B = _check_matrix(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A has {A.shape[1]} features but B has {B.shape[1]}; they must match")
    check_metric_rows(A, metric, "A")
    check_metric_rows(B, metric, "B")
    return A, B, metric


def _check_max_bytes(max_bytes):
    if max_bytes <= 0:
        raise ValueError(f"max_bytes={max_bytes} must be > 0")


_SMALL = 200_000  # n_a * n_b * d below which scipy's cdist beats a parallel kernel launch


def _blocks(A, B, metric, max_bytes):
    n_b = max(len(B), 1)
    if len(A) * len(B) * A.shape[1] <= _SMALL:
        scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
        yield slice(0, len(A)), cdist(A.astype(np.float64), B.astype(np.float64), scipy_metric)
        return
    rows_per_block = max(1, int(max_bytes // (8 * n_b)))
    if metric in ("euclidean", "cosine") and B.size * 8 > _B64_MAX_BYTES:
        # Each block then makes one float64 pass over B: take enough rows to amortise it.
        rows_per_block = max(rows_per_block, _MIN_ROWS_CHUNKED_B)
    prep = _PREPARE[metric](A, B)
    for start in range(0, len(A), rows_per_block):
        rows = slice(start, min(start + rows_per_block, len(A)))
        yield rows, _KERNEL[metric](prep, rows)


# --- Euclidean / cosine: float64 GEMM ---------------------------------------------------


class _Float64Rows:
    """``B`` (float32, possibly memory-mapped) seen as float64 ``(B - shift) * scale`` rows.

    At ImageNet-train scale (1.28 M x 768) a float64 copy of ``B`` is 7.9 GB beside the
    3.9 GB float32 original; above ``_B64_MAX_BYTES`` the GEMM kernels convert ``B`` in
    row chunks of that size instead, so only one float32 copy of the embeddings is held.
    """

    def __init__(self, B, shift=None, normalise=False):
        self.B, self.shift, self.normalise = B, shift, normalise
        self.chunk = max(1, _B64_MAX_BYTES // (8 * max(B.shape[1], 1)))
        self.sq = np.concatenate([np.einsum("ij,ij->i", c, c) for _, c in self.chunks()]) if len(B) else np.zeros(0)

    def chunks(self):
        for start in range(0, len(self.B), self.chunk):
            c = self.B[start : start + self.chunk].astype(np.float64)
            if self.shift is not None:
                c -= self.shift
            if self.normalise:
                c /= np.linalg.norm(c, axis=1, keepdims=True)
            yield slice(start, start + len(c)), c

    def gemm(self, A):
        """``A @ B'.T`` of shape (len(A), len(B)), float64."""
        out = np.empty((len(A), len(self.B)), dtype=np.float64)
        for cols, c in self.chunks():
            out[:, cols] = A @ c.T
        return out

    def take(self, idx):
        c = self.B[idx].astype(np.float64)
        if self.shift is not None:
            c -= self.shift
        return c


def _b64(B, shift=None, normalise=False):
    """float64 ``B`` (shifted / normalised) when small enough, else a chunked :class:`_Float64Rows`."""
    if B.size * 8 <= _B64_MAX_BYTES:
        B64 = B.astype(np.float64)
        if shift is not None:
            B64 -= shift
        if normalise:
            B64 /= np.linalg.norm(B64, axis=1, keepdims=True)
        return B64
    return _Float64Rows(B, shift, normalise)


def _prepare_euclidean(A, B):
    # Distances are translation invariant: centring on B's mean removes the large common
    # offset (e.g. post-ReLU features) that makes |a|^2 + |b|^2 - 2 a.b cancel.
    shift = B.mean(axis=0, dtype=np.float64)
    A64 = A.astype(np.float64) - shift
    B64 = _b64(B, shift)
    b2 = B64.sq if isinstance(B64, _Float64Rows) else np.einsum("ij,ij->i", B64, B64)
    return A64, B64, np.einsum("ij,ij->i", A64, A64), b2


def _euclidean(prep, rows):
    A64, B64, a2, b2 = prep
    A = A64[rows]
    D = B64.gemm(A) if isinstance(B64, _Float64Rows) else A @ B64.T
    D *= -2.0
    D += a2[rows, None]
    D += b2[None, :]
    np.maximum(D, 0.0, out=D)
    # Where cancellation ate the precision, recompute from the differences (rare after centring).
    i, j = np.nonzero(D < _CANCELLATION_RATIO * (a2[rows, None] + b2[None, :]))
    D[i, j] = _exact_sq(A, B64.take if isinstance(B64, _Float64Rows) else B64.__getitem__, i, j)
    return np.sqrt(D, out=D)


def _exact_sq(A, take_b, i, j, chunk=4096):
    """``|A[i] - B[j]|^2`` from the differences (``take_b(j)`` gives the rows ``B[j]``), in chunks
    of ``chunk`` pairs so memory stays bounded when many pairs need it (e.g. repeated rows): the
    pairs whose GEMM-identity distance lost its precision to cancellation."""
    out = np.empty(len(i), dtype=np.float64)
    for lo in range(0, len(i), chunk):
        diff = A[i[lo : lo + chunk]] - take_b(j[lo : lo + chunk])
        out[lo : lo + chunk] = np.einsum("ij,ij->i", diff, diff)
    return out


def _prepare_cosine(A, B):
    A64 = A.astype(np.float64)
    A64 /= np.linalg.norm(A64, axis=1, keepdims=True)
    return A64, _b64(B, normalise=True)


def _cosine(prep, rows):
    A64, B64 = prep
    D = B64.gemm(A64[rows]) if isinstance(B64, _Float64Rows) else A64[rows] @ B64.T
    np.subtract(1.0, D, out=D)
    return np.clip(D, 0.0, 2.0, out=D)


# --- Manhattan / Canberra: fused numba kernels ----------------------------------------
# Hand-written (scipy's cdist is single-threaded, float64 only, and materialises the matrix);
# layout and accuracy bound in embtree._l1_kernels.


def _prepare_raw(A, B):
    # Mixed float32/float64 input runs in float64: pass both as float32 for speed.
    dtype = np.result_type(A, B)
    return A.astype(dtype, copy=False), B.astype(dtype, copy=False)


def _numba_kernels():
    """The fused L1 / Canberra kernels (:mod:`embtree._l1_kernels`, cached on disk); {} without numba."""
    global _KERNELS
    if _KERNELS is None:
        try:  # deferred: numba is optional, and importing it with the kernels takes ~0.8 s
            from embtree import _l1_kernels as k
        except ImportError:  # pragma: no cover - numba ships with umap-learn
            _KERNELS = {}
        else:
            _KERNELS = {"matrix": k.matrix, "argmin": k.argmin, "symmetric": k.symmetric, "err": k.KERNEL_ERR}
    return _KERNELS


_KERNELS = None


def _fused(name, scipy_name):
    def kernel(prep, rows):
        A, B = prep
        A = np.ascontiguousarray(A[rows])
        dtype = A.dtype
        fn = _numba_kernels().get("matrix")
        if fn is None:  # pragma: no cover - fallback without numba
            return cdist(A.astype(np.float64), B.astype(np.float64), scipy_name)
        out = np.empty((len(A), len(B)), dtype=np.float64)
        if len(A) and len(B):
            tiny = np.finfo(dtype).tiny.astype(dtype)
            canberra = name == "canberra"
            if len(A) >= len(B):
                fn(A, B, tiny, canberra, out)
            else:  # threads over the larger side (e.g. 6 centroids x 1.28 M samples)
                fn(B, A, tiny, canberra, out.T)
        return out

    return kernel


_PREPARE = {
    "euclidean": _prepare_euclidean,
    "cosine": _prepare_cosine,
    "manhattan": _prepare_raw,
    "canberra": _prepare_raw,
}
_KERNEL = {
    "euclidean": _euclidean,
    "cosine": _cosine,
    "manhattan": _fused("manhattan", "cityblock"),
    "canberra": _fused("canberra", "canberra"),
}
