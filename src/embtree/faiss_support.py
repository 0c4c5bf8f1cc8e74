"""faiss (the library paper 002 uses for its k-means, appendix A) as an optional backend.

:func:`import_faiss`
    The ``faiss`` module, or an ``ImportError`` that says how to install it.
:func:`faiss_gpus`
    How many GPUs the installed faiss can use (0 for ``faiss-cpu``, the PyPI wheel).
:func:`as_float32_rows`
    Rows of a matrix as a C-contiguous float32 block (optionally L2-normalised): what every
    faiss call needs.

faiss is imported only by the backends that use it (``heads.knn_backend: faiss-*``,
``backend: faiss`` of the k-means), so the default pipeline and the GPU check run without it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["import_faiss", "faiss_gpus", "as_float32_rows"]

INSTALL_HINT = "pip install faiss-cpu (or conda install -c conda-forge faiss-cpu; faiss-gpu for CUDA)"


def import_faiss():
    """The ``faiss`` module; ``ImportError`` naming the package to install when it is missing."""
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(f"the faiss backends need faiss, which is not installed here: {INSTALL_HINT}") from exc
    return faiss


def faiss_gpus(faiss) -> int:
    """GPUs visible to ``faiss`` (0 for a CPU-only build, which has no ``StandardGpuResources``)."""
    if not hasattr(faiss, "StandardGpuResources"):
        return 0
    return int(faiss.get_num_gpus())


def as_float32_rows(X, start, stop, *, normalise=False, centre=None):
    """``X[start:stop]`` as a C-contiguous float32 array (a copy), centred on ``centre`` and/or
    L2-normalised (a zero row stays zero, as :func:`embtree.cosine_kmeans.nearest_centres`)."""
    B = np.array(X[start:stop], dtype=np.float32, order="C", copy=True)
    if centre is not None:
        B -= centre
    if normalise:
        norm = np.linalg.norm(B, axis=1, keepdims=True)
        B /= np.where(norm == 0, 1.0, norm)
    return B
