"""Exact cosine k nearest neighbours of every sample (TEMI's pairs, paper 002 section 3).

:func:`mine_knn`, :data:`KNN_TILE_ROWS`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from embtree.heads.params import is_int, resolve_device
from embtree.validation import check_matrix

__all__ = ["KNN_TILE_ROWS", "mine_knn"]

#: Rows of one kNN similarity tile once all N columns no longer fit beside them: enough
#: for an efficient GEMM, few enough that a 256 MB tile still has 65,536 columns.
KNN_TILE_ROWS = 1024


def mine_knn(features, k, *, chunk_mb=256, device="cpu", progress=None) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar other samples of every sample.

    Tiles of the similarity matrix (``chunk_mb`` MB of float32 each) are formed one at a
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

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    k : int, ``1 <= k < n_samples``
    chunk_mb : int, similarity block size in MB
    device : "cpu", "cuda" or "auto" (CUDA when present)
    progress : callable(rows_done, n_samples), optional, called after every row block

    Returns
    -------
    ndarray of shape (n_samples, k), int64
        Neighbours by decreasing similarity; the sample itself is never among them.
    """
    X = check_matrix(features, "features", min_rows=2)
    n = X.shape[0]
    if not is_int(k) or k < 1:
        raise ValueError(f"knn={k!r} must be an int >= 1")
    if k >= n:
        raise ValueError(f"knn={k} must be < n_samples={n} (self is excluded)")
    return _mine_knn(X, k, chunk_mb, resolve_device(device), progress)


def _mine_knn(X, k, chunk_mb, device, progress):
    """:func:`mine_knn` on validated input (finite 2-D float ``X``, ``1 <= k < n``, a torch device)."""
    n = X.shape[0]
    with warnings.catch_warnings():  # a read-only memory map: torch warns, and nothing here writes to it
        warnings.filterwarnings("ignore", message=".*not writable.*", category=UserWarning)
        Z = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    cells = max(1, int(chunk_mb * 2**20 // 4))  # float32 similarities per tile
    cols = min(n, max(1, cells // min(n, KNN_TILE_ROWS)))
    rows = min(n, max(1, cells // cols))
    inv = torch.empty(n, dtype=torch.float32, device=device)
    for start in range(0, n, rows):  # eps as F.normalize
        inv[start:start + rows] = 1.0 / torch.linalg.vector_norm(Z[start:start + rows], dim=1).clamp_min(1e-12)
    out = torch.empty((n, k), dtype=torch.int64)
    for r0 in range(0, n, rows):  # loop over tiles (bounded memory), not samples
        r1 = min(r0 + rows, n)
        Q = Z[r0:r1] * inv[r0:r1, None]
        best_sim = best_idx = None
        for c0 in range(0, n, cols):
            c1 = min(c0 + cols, n)
            sim = Q @ Z[c0:c1].T
            sim.mul_(inv[c0:c1])
            lo, hi = max(r0, c0), min(r1, c1)  # the diagonal (self) inside this tile
            if lo < hi:
                sim[torch.arange(lo - r0, hi - r0), torch.arange(lo - c0, hi - c0)] = -math.inf
            s, i = sim.topk(min(k, c1 - c0), dim=1)
            i += c0
            if best_sim is not None:  # merge with the running top-k of the earlier tiles
                s, j = torch.cat([best_sim, s], 1).topk(min(k, s.shape[1] + best_sim.shape[1]), dim=1)
                i = torch.cat([best_idx, i], 1).gather(1, j)
            best_sim, best_idx = s, i
        out[r0:r1] = best_idx.cpu()
        if progress is not None:
            progress(r1, n)
    return out.numpy()
