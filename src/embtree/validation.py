"""Input checks shared by the public functions of every module (one wording everywhere)."""

from __future__ import annotations

import numpy as np


def check_matrix(X, name, *, axes="(n_samples, n_features)", min_rows=1, min_cols=1):
    """Return ``X`` as a finite, real, 2-D float array, or raise ``ValueError`` naming ``name``.

    float32 input stays float32 (embeddings are stored so); any other real dtype becomes
    float64. A NaN/inf error names how many rows hold them and the first few row indices,
    so a user can find them in the file.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_cols)
    name : str, the argument or source named in error messages
    axes : str, how the two axes are described in the shape error
    min_rows, min_cols : int, smallest accepted shape
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D {axes}, got shape {X.shape}")
    for axis, least in ((0, min_rows), (1, min_cols)):
        n, what = X.shape[axis], ("rows", "columns")[axis]
        if n < least:
            raise ValueError(f"{name} has {n or 'no'} {what} (shape {X.shape}); at least {least} needed")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    # Row blocks of ~8 MB: a memory-mapped (n, d) input gets no full-size boolean temporary.
    step = max(1, (8 << 20) // max(1, X.shape[1] * X.itemsize))
    rows = [s + np.unique(np.nonzero(~np.isfinite(X[s:s + step]))[0]) for s in range(0, X.shape[0], step)]
    rows = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    if len(rows):
        raise ValueError(f"{name} contains NaN or inf in {len(rows)} rows (first: {rows[:5].tolist()})")
    return X
