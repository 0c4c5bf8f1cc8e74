"""k-means++ seeding of several restarts at once.

:func:`plusplus_restarts` gives, for every seed ``s`` of a list, the rows that
``sklearn.cluster.kmeans_plusplus(X, n_clusters, random_state=s)`` chooses: the greedy
k-means++ of Arthur & Vassilvitskii (2007) as scikit-learn implements it (``2 + ln k``
candidates drawn per centre with probability proportional to the squared distance to the
nearest chosen centre, the one lowering the potential most kept), with the same random draws.

Why by hand: each of the ``k - 1`` steps computes the candidates' distances to every row, a
matrix product of a few rows by all of ``X`` whose time is spent reading ``X`` (it is
memory-bound: at 50,000 x 768 float64, 307 MB read per step for 8 candidates). scikit-learn
seeds one restart per call, so ``n_init`` restarts read ``X`` ``n_init`` times per step.
Here the candidates of all restarts (of a block of restarts, to bound memory) enter one
product, so ``X`` is read once per step for all of them. The arithmetic per candidate is
scikit-learn's (``-2 c.x + |c|^2 + |x|^2``, clipped at 0; potentials as products with a
vector of ones), so the chosen rows are the same up to floating-point rounding of the
matrix product, which a different block shape may change in the last bit.
:func:`kmeans_restart_states` gives the generators that make these the seedings of
``sklearn.cluster.KMeans(n_init=n, random_state=s)``'s restarts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kmeans_restart_states", "plusplus_restarts", "seeding_rows"]

# Bytes of candidate-to-row distances held at once (restarts are seeded in blocks below it).
_BLOCK_BYTES = 512 * 2**20


def seeding_rows(n_samples, max_samples, seed):
    """The rows k-means++ seeds on: all ``n_samples`` (``arange``) up to ``max_samples``, else a sorted
    sample of ``max_samples`` of them drawn without replacement by ``np.random.default_rng(seed)``.
    One draw for :mod:`embtree.kmeans`, :mod:`embtree.cosine_kmeans` and :mod:`embtree.faiss_kmeans`,
    so that for one seed they seed on the same rows -> (m,) int64."""
    if n_samples <= max_samples:
        return np.arange(n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, size=int(max_samples), replace=False))


def plusplus_restarts(X, n_clusters, seeds, *, block_bytes=_BLOCK_BYTES):
    """Indices of the k-means++ centres of one restart per seed.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        The rows to seed from (the caller's validated, possibly normalised or centred data).
    n_clusters : int, ``1 <= n_clusters <= n_samples``
    seeds : sequence of int or ``np.random.RandomState``
        One restart per seed, each drawing from ``np.random.RandomState(seed)`` (or from the
        given generator, which it advances) exactly as
        ``sklearn.cluster.kmeans_plusplus(X, n_clusters, random_state=seed)`` does.
    block_bytes : int
        Memory bound of the distances held at once; restarts are seeded in blocks of as
        many as fit (at least one).

    Returns
    -------
    indices : ndarray of shape (len(seeds), n_clusters), int64
        Row ``r`` lists the chosen rows of restart ``r`` in the order chosen.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    if X.ndim != 2 or not 1 <= int(n_clusters) <= n:
        raise ValueError(f"X of shape {X.shape} and n_clusters={n_clusters!r}: need 2-D X and 1 <= n_clusters <= n")
    rngs = [s if isinstance(s, np.random.RandomState) else np.random.RandomState(int(s)) for s in seeds]
    trials = _trials(n_clusters)
    per_restart = trials * n * 8
    step = max(1, int(block_bytes) // per_restart)
    x_sq = np.einsum("ij,ij->i", X, X)  # scikit-learn's row_norms(X, squared=True)
    out = np.empty((len(rngs), int(n_clusters)), dtype=np.int64)
    for s in range(0, len(rngs), step):
        out[s:s + step] = _plusplus_block(X, x_sq, int(n_clusters), rngs[s:s + step], trials)
    return out


def _trials(n_clusters):
    """Candidates drawn per centre: scikit-learn's ``n_local_trials`` default, ``2 + ln k``."""
    return 2 + int(np.log(n_clusters))


def kmeans_restart_states(seed, n_init, n_clusters):
    """The random state of each restart of ``sklearn.cluster.KMeans(n_clusters, n_init=n_init,
    random_state=seed)`` as its k-means++ seeding starts.

    KMeans draws its restarts' seedings one after another from one ``RandomState(seed)``, and a
    seeding draws a fixed count of doubles (one for the first centre, ``2 + ln k`` per further
    centre; the Lloyd iterations draw none). So restart ``r``'s draws start where restart
    ``r - 1``'s end, and :func:`plusplus_restarts` given these states seeds all restarts at once
    with the draws KMeans makes -> list of ``n_init`` ``np.random.RandomState``.
    """
    draws = 1 + (int(n_clusters) - 1) * _trials(n_clusters)
    stream = np.random.RandomState(int(seed))
    states = []
    for _ in range(int(n_init)):
        here = np.random.RandomState()
        here.set_state(stream.get_state())
        states.append(here)
        stream.random_sample(draws)  # KMeans' choice() and uniform() draws are these doubles
    return states


def _sq_distances(X, x_sq, rows):
    """Squared euclidean distances of ``X[rows]`` to every row: (len(rows), n), as scikit-learn's
    ``_euclidean_distances(X[rows], X, Y_norm_squared=x_sq, squared=True)``."""
    C = X[rows]
    D = -2 * (C @ X.T)
    D += np.einsum("ij,ij->i", C, C)[:, None]
    D += x_sq[None, :]
    np.maximum(D, 0, out=D)
    return D


def _plusplus_block(X, x_sq, K, rngs, trials):
    n = len(X)
    R = len(rngs)
    weight = np.ones(n)
    idx = np.empty((R, K), dtype=np.int64)
    idx[:, 0] = [rng.choice(n, p=weight / weight.sum()) for rng in rngs]
    closest = _sq_distances(X, x_sq, idx[:, 0])  # (R, n): squared distance to the nearest chosen centre
    pot = np.array([closest[r] @ weight for r in range(R)])  # (R,)
    rows = np.arange(R)
    for c in range(1, K):
        cand = np.empty((R, trials), dtype=np.int64)
        for r, rng in enumerate(rngs):  # each restart's own draws, in scikit-learn's order
            draws = rng.uniform(size=trials) * pot[r]
            cand[r] = np.searchsorted(np.cumsum(weight * closest[r]), draws)
        np.clip(cand, None, n - 1, out=cand)
        D = _sq_distances(X, x_sq, cand.ravel()).reshape(R, trials, n)  # one product for all restarts
        np.minimum(closest[:, None, :], D, out=D)
        cand_pot = D @ weight  # (R, trials)
        best = cand_pot.argmin(axis=1)
        pot = cand_pot[rows, best]
        closest = D[rows, best]
        idx[:, c] = cand[rows, best]
    return idx
