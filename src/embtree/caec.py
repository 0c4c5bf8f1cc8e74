"""Class-associated embedding clusters (CAEC): cluster growing, structure and scores.

Implements section 3.2 and 4.2-4.4 of "Discovery of Hierarchy in Embedding Space"
(``shared/papers/000_*.txt``).

Cluster growing (eq. 1-4), with the conventions the paper leaves open pinned:

* ``G_k`` is the mean of class k's embeddings (eq. 1); ``d_i`` the distance from
  ``G_k`` to embedding ``i`` with the chosen metric (eq. 11-13).
* Radii ``r_t = r_0 + t * step``, ``t = 0, 1, ...``, with ``r_0 = min_i d_i`` (the
  nearest embedding of *any* class). "Within r" means ``d <= r``; a slack of
  ``1e-9`` step units absorbs rounding so a point lying exactly on a radius (integer
  data, ``step = 1``) is counted there.
* ``Y_t`` / ``Z_t``: class-k / other-class embeddings within ``r_t`` (eq. 2).
* ``r_b`` (eq. 3): the last ``r_t`` before the first ``t`` at which
  ``|Z_t| > gamma (|Y_t| + |Z_t|)``. If that happens already at ``t = 0`` (the
  nearest embedding belongs to another class) ``r_b = r_0``. If it never happens,
  ``r_b`` is the first ``r_t`` that contains every embedding.
* ``r_f`` (eq. 4): ``argmax_{r_t : r_t + step <= r_b} |Y_{t+1}| - |Y_t|``, the lower end
  of the step with the largest increase, ties to the smallest ``r``; ``r_f = r_0``
  when no step fits below ``r_b``. The cluster is ``X_k = Y_{r_f} u Z_{r_f}``, i.e.
  every embedding with ``d <= r_f``; clusters of different classes may overlap.
* A class with one sample has ``G_k`` equal to that sample, so ``r_0 = 0`` and its
  cluster always holds it (plus any embedding at distance 0).

Structure (section 3.2.2, eq. 7-10), per final cluster ``X_k``:

* ``r_min`` / ``r_max``: smallest / largest distance from ``G_k`` to a member
  (``r_min = r_0``). ``mu_k`` (eq. 7) is the mean of ``e - G_k`` over the class's *own*
  members of the cluster, Y_{r_f}, so the manifold mean point ``P_k = G_k + mu_k`` is
  the mean of the captured own-class embeddings, while the final-cluster centroid
  ``G^f_k`` of eq. 14 averages every member, infiltrators included (both are saved;
  they differ whenever the cluster holds other classes; see :func:`_structure`).
  A cluster without own-class members (its nearest embedding is foreign) has P = G.
* Rim set ``S_k`` (eq. 8): members with ``r_max - step <= d <= r_max`` (the paper's
  soft threshold 1 is one radius step). ``e_rim`` (eq. 9) is the member of ``S_k``
  farthest from ``P_k`` (same metric), ``e_min`` the nearest; ``theta_max/2`` and
  ``theta_min/2`` (eq. 10) are the angles between ``mu_k`` and ``e_rim - G_k`` /
  ``e_min - G_k`` (NaN when a vector is zero). ``annular`` is ``theta_min >= 0.8``
  rad (section 4.2, on ``theta_min = 2 * theta_min_half``).
* ``G_k``, ``P_k``, ``r_min``, ``r_max``, ``theta_min/2``, ``theta_max/2`` form the
  2n+4 parameter representation (:meth:`CAECResult.parameters`).

Speed: per class the distance column is turned into integer step indices once and
``|Y_t|``, ``|Z_t|`` for every ``t`` come from one ``bincount`` + ``cumsum``
(O(N + T) instead of O(N T) for a scan per step); distances come in bounded blocks
of classes from :func:`embtree.distances.pairwise_blocks`.
:func:`_grow_clusters_reference` is the plain per-step loop the tests and the
benchmark compare against.

Over 600 lines on purpose: cluster growing, cluster structure and the cluster scores are one
method (section 3.2 / 4.2) over the same sorted distance columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from embtree.validation import check_matrix
from embtree.distances import check_metric, pairwise, pairwise_blocks
from embtree.trees import class_centroids

__all__ = [
    "CAECResult",
    "grow_clusters",
    "auto_step",
    "cluster_class_counts",
    "per_class_scores",
    "run_scores",
    "infiltration",
    "intrusion",
    "caec_tables",
    "cluster_arrays",
    "growth_arrays",
]

log = logging.getLogger(__name__)

ANNULAR_THETA_MIN = 0.8  # rad, section 4.2 (applied to theta_min = 2 * theta_min_half)
_SLACK = 1e-9  # in step units: see module docstring
DEFAULT_MIN_CLUSTER_SIZE = 5  # schema caec.min_cluster_size
_MAX_STEPS = 10_000_000
_AUTO_STEPS = 25  # evidence: auto_step docstring, benchmarks/study_caec_step.py
_AUTO_FINE_BINS = 4096
_AUTO_MAX_CLASSES = 128


@dataclass
class CAECResult:
    """Output of :func:`grow_clusters`; C classes, d features, N samples.

    Attributes
    ----------
    classes : int array (C,)
        Sorted label values; row k of every array belongs to ``classes[k]``.
    metric, gamma, step : str, float, float
        Settings used (``step`` is the resolved value when ``"auto"`` was asked).
    centroids : float64 (C, d)
        Class centroids G (eq. 1).
    class_sizes : int (C,)
    r0, r_b, r_f : float64 (C,)
        Starting, bounding (eq. 3) and final (eq. 4) radius.
    t_b, t_f : int (C,)
        Step indices of r_b and r_f (``r = r0 + t * step``).
    bounded : bool (C,)
        True when the gamma criterion stopped the growth (False: r_b holds all).
    members : list of C sorted int64 arrays
        Sample indices of each final cluster X_k.
    n_target, n_other : int (C,)
        |Y_{r_f}| and |Z_{r_f}|.
    final_centroids : float64 (C, d)
        G^f (eq. 14), mean of each cluster's members.
    mu, mmp : float64 (C, d)
        Mean vector (eq. 7) and manifold mean point P = G + mu.
    r_min, r_max : float64 (C,)
    rim_size : int (C,)
        |S_k| (eq. 8).
    e_rim, e_min : int (C,)
        Sample index of the rim point farthest from / nearest to P (eq. 9).
    theta_max_half, theta_min_half : float64 (C,)
        Cluster angles in rad (eq. 10), NaN when undefined.
    annular : bool (C,)
    growth_Y, growth_Z : int (C, T+1)
        Cumulative counts |Y_t|, |Z_t| for t = 0..n_steps[k]-1; padded with -1.
    n_steps : int (C,)
        Stored steps per class: through the first step that breaks eq. 3 (or r_b) and
        the step holding the class's last embedding, whichever is later.
    assignment : int (N,)
        Partition used for RI/NMI: each sample goes to the cluster (class value) whose
        centre G is nearest among the clusters containing it (ties: smaller class);
        -1 for samples in no cluster.
    n_clusters_containing : int (N,)
        In how many clusters each sample lies (> 1: intrusion, section 4.4.2).
    """

    classes: np.ndarray
    metric: str
    gamma: float
    step: float
    centroids: np.ndarray
    class_sizes: np.ndarray
    r0: np.ndarray
    r_b: np.ndarray
    r_f: np.ndarray
    t_b: np.ndarray
    t_f: np.ndarray
    bounded: np.ndarray
    members: list
    n_target: np.ndarray
    n_other: np.ndarray
    final_centroids: np.ndarray
    mu: np.ndarray
    mmp: np.ndarray
    r_min: np.ndarray
    r_max: np.ndarray
    rim_size: np.ndarray
    e_rim: np.ndarray
    e_min: np.ndarray
    theta_max_half: np.ndarray
    theta_min_half: np.ndarray
    annular: np.ndarray
    growth_Y: np.ndarray
    growth_Z: np.ndarray
    n_steps: np.ndarray
    assignment: np.ndarray
    n_clusters_containing: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def coverage(self) -> np.ndarray:
        """Coverage as section 4.2 defines it: the fraction of target-class embeddings
        among all embeddings in the cluster, |Y_{r_f}| / |X_k|, shape (C,).

        Usually >= 1 - gamma (every r with r_0 < r <= r_b keeps |Z| <= gamma |X|; table 4's
        values lie above 0.7 for gamma = 0.3), but not always: when eq. 3 already fails at
        r_0 (the nearest embedding belongs to another class) r_b = r_f = r_0 and the
        cluster may hold no embedding of its class (coverage 0). Such clusters are small
        and flagged (``small_cluster``)."""
        return self.n_target / np.maximum(self.n_target + self.n_other, 1)

    @property
    def recall(self) -> np.ndarray:
        """Fraction of each class captured by its own cluster, |Y_{r_f}| / n_k, shape (C,)."""
        return self.n_target / self.class_sizes

    def parameters(self) -> np.ndarray:
        """The 2n+4 representation per cluster: [G, P, r_min, r_max, theta_min/2, theta_max/2].

        Returns float64 array of shape (C, 2 d + 4).
        """
        return np.column_stack(
            [self.centroids, self.mmp, self.r_min, self.r_max, self.theta_min_half, self.theta_max_half]
        )

    def increments(self, k):
        """Per-step growth ``|Y_{t+1}| - |Y_t|`` and ``|Z_{t+1}| - |Z_t|`` of row k (fig. 3).

        Element 0 is ``|Y_0|`` / ``|Z_0|`` (the embeddings at r_0), so each array sums
        to the count within the last stored step.
        """
        n = self.n_steps[k]
        return np.diff(self.growth_Y[k, :n], prepend=0), np.diff(self.growth_Z[k, :n], prepend=0)

    def member_csr(self):
        """Membership as CSR arrays ``(indptr (C+1,), indices)``."""
        indptr = np.zeros(self.n_classes + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(m) for m in self.members])
        indices = np.concatenate(self.members) if self.members else np.zeros(0, np.int64)
        return indptr, indices.astype(np.int64)


# ---------------------------------------------------------------------------------------
# input checks


def _check_inputs(embeddings, labels, metric, gamma, step, classes):
    metric = check_metric(metric)
    X = check_matrix(embeddings, "embeddings")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"labels has shape {y.shape} but embeddings has {len(X)} rows; they must match")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if y.min() < 0:
        raise ValueError(f"labels must be >= 0 (-1 marks unassigned samples), got min {y.min()}")
    if classes is None:
        classes = np.unique(y)
    else:
        classes = np.asarray(classes)
        if classes.ndim != 1 or not np.issubdtype(classes.dtype, np.integer):
            raise ValueError(f"classes must be a 1-D integer array, got {classes!r}")
        if len(np.unique(classes)) != len(classes):
            raise ValueError("classes contains duplicates")
        classes = np.sort(classes)
        empty = np.setdiff1d(classes, y)
        if len(empty):
            raise ValueError(f"classes {empty[:10].tolist()} have no samples in labels")
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(f"labels {unknown[:10].tolist()} are not in classes")
    if isinstance(gamma, bool) or not np.isscalar(gamma) or not (0.0 < float(gamma) < 1.0):
        raise ValueError(f"gamma={gamma!r} must lie in the open interval (0, 1)")
    if isinstance(step, str):
        if step != "auto":
            raise ValueError(f"step={step!r} must be a positive number or 'auto'")
    elif isinstance(step, bool) or not np.isscalar(step) or not np.isfinite(step) or float(step) <= 0:
        raise ValueError(f"step={step!r} must be a positive finite number or 'auto'")
    return X, y, metric, float(gamma), step, classes.astype(np.int64)


def _distance_input(G, X, metric):
    # Manhattan/Canberra kernels run in float32 when both inputs are float32.
    return G.astype(X.dtype) if metric in ("manhattan", "canberra") else G


# ---------------------------------------------------------------------------------------
# growth of one class from its distance column


def _step_index(d, r0, step):
    """Smallest t with d <= r0 + t * step (up to the rounding slack), as int64."""
    t = np.ceil((d - r0) / step - _SLACK)
    np.maximum(t, 0, out=t)
    return t.astype(np.int64)


def _grow_one(d, target_idx, step, gamma, k):
    """Growth of one class: returns (r0, t_b, t_f, bounded, g, Y, Z, n_steps)."""
    r0 = float(d.min())
    g = _step_index(d, r0, step)
    T = int(g.max())
    if T > _MAX_STEPS:
        raise ValueError(
            f"step={step:g} needs {T} radius steps for class index {k} (limit {_MAX_STEPS}); "
            "use a larger step or step='auto'"
        )
    all_counts = np.bincount(g, minlength=T + 1)
    gy = g[target_idx]
    cy = np.bincount(gy, minlength=T + 1)
    Y = np.cumsum(cy)
    Z = np.cumsum(all_counts - cy)
    viol = Z > gamma * (Y + Z)
    if viol.any():
        first = int(np.argmax(viol))
        t_b, bounded = max(first - 1, 0), True
    else:
        first, t_b, bounded = T, T, False
    # eq. 4: increments Y_{t+1} - Y_t = cy[t+1] for t = 0..t_b-1; argmax takes the first max.
    t_f = int(np.argmax(cy[1 : t_b + 1])) if t_b > 0 else 0
    n_steps = max(first, int(gy.max())) + 1
    return r0, t_b, t_f, bounded, g, Y[:n_steps], Z[:n_steps], n_steps


def _angle(u, v):
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return np.nan
    # Eq. 10 arccos(u.v / |u||v|), in Kahan's atan2 form: accurate also near 0 and pi.
    a, b = nv * u, nu * v
    return float(2.0 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


def _structure(X, G_k, members, is_target, d_members, step, metric):
    """Eq. 7-10 for one cluster: (G^f, mu, P, r_min, r_max, |S|, e_rim, e_min, th_max, th_min).

    ``is_target`` (bool, len(members)) marks the class's own embeddings Y_{r_f}: the mean
    vector of eq. 7 runs over them (the "embeddings of the k-th cluster" whose growth
    section 3.2.2 models), so P = G + mu is the mean of the class's captured embeddings,
    while G^f (eq. 14) averages the whole cluster X_k, infiltrators included. Averaging
    X_k in eq. 7 too would make P identical to G^f, and the paper's G and P trees
    (tables 17-18) could not differ.
    """
    Xm = X[members].astype(np.float64)
    # A cluster holding none of its class (its nearest embedding is foreign): P = G.
    mu = (Xm[is_target] - G_k).mean(axis=0) if is_target.any() else np.zeros_like(G_k)
    P = G_k + mu
    Gf = Xm.mean(axis=0)
    r_min, r_max = float(d_members.min()), float(d_members.max())
    rim = np.flatnonzero(d_members >= r_max - step * (1 + _SLACK))
    dP = pairwise(P[None, :], Xm[rim], metric)[0]
    e_rim = members[rim[np.argmax(dP)]]
    e_min = members[rim[np.argmin(dP)]]
    th_max = _angle(mu, X[e_rim] - G_k)
    th_min = _angle(mu, X[e_min] - G_k)
    return Gf, mu, P, r_min, r_max, len(rim), e_rim, e_min, th_max, th_min


# ---------------------------------------------------------------------------------------
# public entry point


def grow_clusters(embeddings, labels, *, metric="euclidean", gamma=0.3, step=1.0, classes=None,
                  max_block_bytes=64 * 2**20):
    """Grow one class-associated embedding cluster per class (CAEC paper, eq. 1-4, 7-10, 14).

    Parameters
    ----------
    embeddings : float array of shape (n_samples, n_features)
    labels : int array of shape (n_samples,)
        Class of each embedding, values >= 0.
    metric : {"euclidean", "manhattan", "canberra", "cosine"}
        Distance of eq. 11-13 (cosine is an addition).
    gamma : float in (0, 1)
        Share of other classes allowed inside the bounding radius (eq. 3); paper 0.3.
    step : float > 0 or "auto"
        Radius step in distance units (paper: 1). ``"auto"`` picks about 25 steps up to
        the median bounding radius (:func:`auto_step`); the value used is ``result.step``.
    classes : int array, optional
        The class values expected (e.g. ``arange(n_classes)``); each must have samples.
        Default: the distinct labels.
    max_block_bytes : int
        Memory bound of one block of the (classes x samples) distance matrix.

    Returns
    -------
    CAECResult
        See its docstring for the fields; the growth conventions are in the module
        docstring.

    Raises
    ------
    ValueError
        NaN/inf embeddings, length mismatch, negative labels, a class without samples,
        an unknown metric, gamma outside (0, 1), step <= 0, or a step so small that a
        class would need more than 10^7 steps.
    """
    X, y, metric, gamma, step, classes = _check_inputs(embeddings, labels, metric, gamma, step, classes)
    C, N = len(classes), len(X)
    y_idx = np.searchsorted(classes, y)
    class_sizes = np.bincount(y_idx, minlength=C)
    order = np.argsort(y_idx, kind="stable")
    bounds = np.searchsorted(y_idx[order], np.arange(C + 1))
    class_rows = [order[bounds[k] : bounds[k + 1]] for k in range(C)]
    G = class_centroids(X, y_idx, C)  # eq. 1
    Gd = _distance_input(G, X, metric)
    single = classes[class_sizes == 1]
    if len(single):
        log.warning(
            "classes %s have exactly 1 sample: their cluster is that sample (r_f = r_0 = 0), "
            "the chi-square test and the angles are undefined (NaN), annular is False",
            single[:10].tolist(),
        )

    if step == "auto":
        step = auto_step(X, y_idx, Gd, class_rows, metric, gamma, max_block_bytes)
        log.info("step='auto' resolved to %g (%s)", step, metric)
    step = float(step)

    r0 = np.empty(C)
    t_b = np.empty(C, dtype=np.int64)
    t_f = np.empty(C, dtype=np.int64)
    bounded = np.empty(C, dtype=bool)
    n_steps = np.empty(C, dtype=np.int64)
    members, growth = [None] * C, [None] * C
    struct = [None] * C
    best = np.full(N, np.inf)
    assignment = np.full(N, -1, dtype=np.int64)
    n_containing = np.zeros(N, dtype=np.int64)
    for rows, D in pairwise_blocks(Gd, X, metric, max_bytes=max_block_bytes):
        for k, d in zip(range(rows.start, rows.stop), D):
            r0[k], t_b[k], t_f[k], bounded[k], g, Yk, Zk, n_steps[k] = _grow_one(d, class_rows[k], step, gamma, k)
            m = np.flatnonzero(g <= t_f[k])
            members[k], growth[k] = m, (Yk, Zk)
            dm = d[m]
            struct[k] = _structure(X, G[k], m, y_idx[m] == k, dm, step, metric)
            closer = dm < best[m]  # strict: ties keep the earlier (smaller) class
            best[m[closer]] = dm[closer]
            assignment[m[closer]] = classes[k]
            n_containing[m] += 1

    T = int(n_steps.max())
    growth_Y = np.full((C, T), -1, dtype=np.int64)
    growth_Z = np.full((C, T), -1, dtype=np.int64)
    for k, (Yk, Zk) in enumerate(growth):
        growth_Y[k, : len(Yk)] = Yk
        growth_Z[k, : len(Zk)] = Zk
    Gf, mu, P, r_min, r_max, rim_size, e_rim, e_min, th_max, th_min = (np.array(v) for v in zip(*struct))
    n_target = np.array([np.count_nonzero(y_idx[m] == k) for k, m in enumerate(members)], dtype=np.int64)
    n_members = np.array([len(m) for m in members], dtype=np.int64)
    return CAECResult(
        classes=classes,
        metric=metric,
        gamma=gamma,
        step=step,
        centroids=G,
        class_sizes=class_sizes,
        r0=r0,
        r_b=r0 + t_b * step,
        r_f=r0 + t_f * step,
        t_b=t_b,
        t_f=t_f,
        bounded=bounded,
        members=members,
        n_target=n_target,
        n_other=n_members - n_target,
        final_centroids=Gf.reshape(C, -1),
        mu=mu.reshape(C, -1),
        mmp=P.reshape(C, -1),
        r_min=r_min.astype(float),
        r_max=r_max.astype(float),
        rim_size=rim_size.astype(np.int64),
        e_rim=e_rim.astype(np.int64),
        e_min=e_min.astype(np.int64),
        theta_max_half=th_max.astype(float),
        theta_min_half=th_min.astype(float),
        annular=(2 * th_min.astype(float) >= ANNULAR_THETA_MIN) & (class_sizes > 1),
        growth_Y=growth_Y,
        growth_Z=growth_Z,
        n_steps=n_steps,
        assignment=assignment,
        n_clusters_containing=n_containing,
    )


def auto_step(X, y_idx, G, class_rows, metric, gamma, max_block_bytes=64 * 2**20):
    """Radius step giving about 25 steps from r_0 up to the median bounding radius.

    Why 25: eq. 4 takes r_f at the largest per-step gain of own-class embeddings, the
    argmax of a histogram whose top is flat and noisy (Poisson noise of ~10-30 counts per
    step), so r_f moves when the step changes at *every* step size.
    ``benchmarks/study_caec_step.py`` measures, on the shipped CIFAR-10 ResNet-20
    features and on digits pixels (3 metrics each), how far r_f and the cluster sizes move
    when the step changes by -20 %..+25 %: with 25 steps the median cluster-size ratio
    (largest / smallest) is 1.85 and r_f moves by 0.15 (r_b - r_0), against 2.2 and 0.19
    at 100 steps (the former rule), 2.8 and 0.22 at 400, 1.9 and 0.16 at 50; a
    Freedman-Diaconis bin width (~4-12 steps) gave 2.2 and 0.18. One-member clusters
    (a foreign embedding near G ends eq. 3 within the first steps) occur at every step
    for a CIFAR class and are flagged (``caec.min_cluster_size``), not hidden.

    The bounding radius of each class is first located on a fine grid of 4096 bins
    between its r_0 and its farthest embedding (the small-step limit of eq. 3); the
    step is ``median_k (r_b,k - r_0,k) / 25`` rounded to 3 significant digits. For
    speed the median is taken over at most 128 evenly spaced classes. When that
    median is 0 (most classes stop at r_0) the span to each class's farthest own
    embedding replaces it.

    Parameters
    ----------
    X : (n_samples, n_features) embeddings; y_idx : (n_samples,) class row of each sample
    G : (C, n_features) centroids; class_rows : list of C index arrays (samples of class k)

    Returns
    -------
    float > 0
    """
    C = len(G)
    pick = np.unique(np.linspace(0, C - 1, min(C, _AUTO_MAX_CLASSES)).round().astype(np.int64))
    extent, own = [], []
    for rows, D in pairwise_blocks(G[pick], X, metric, max_bytes=max_block_bytes):
        for k, d in zip(pick[rows], D):
            r0 = d.min()
            span = d.max() - r0
            own.append(d[class_rows[k]].max() - r0)
            if span <= 0:
                extent.append(0.0)
                continue
            h = span / _AUTO_FINE_BINS
            _, t_b, _, _, _, _, _, _ = _grow_one(d, class_rows[k], h, gamma, k)
            extent.append(t_b * h)
    value = float(np.median(extent)) / _AUTO_STEPS
    if value <= 0:
        value = float(np.median(own)) / _AUTO_STEPS
    if not value > 0:
        raise ValueError(
            f"step='auto' cannot choose a step for metric={metric!r}: every class's embeddings "
            "lie at distance 0 from its centroid; pass a numeric step"
        )
    return float(f"{value:.3g}")


# ---------------------------------------------------------------------------------------
# the plain loop the fast path is tested against


def _grow_clusters_reference(embeddings, labels, *, metric="euclidean", gamma=0.3, step=1.0, classes=None):
    """Straightforward per-class, per-step loop (eq. 1-4, 7-10, 14) with scipy's ``cdist``.

    Recounts ``Y_r`` and ``Z_r`` from scratch at every radius. Slow (O(N T) per class);
    kept as the reference for tests and ``benchmarks/bench_caec.py``. ``step`` must be
    numeric. Returns a dict of per-class lists.
    """
    from scipy.spatial.distance import cdist

    scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
    X = np.asarray(embeddings, dtype=np.float64)
    y = np.asarray(labels)
    classes = np.unique(y) if classes is None else np.sort(np.asarray(classes))
    out = {key: [] for key in ("r0", "r_b", "r_f", "members", "Y", "Z", "Gf", "mu", "mmp", "r_min", "r_max",
                               "e_rim", "e_min", "theta_max_half", "theta_min_half")}
    for c in classes:
        is_target = y == c
        G = X[is_target].mean(axis=0)
        d = cdist(G[None, :], X, scipy_metric)[0]
        r0 = d.min()

        def within(t, d=d, r0=r0):
            return (d - r0) / step <= t + _SLACK

        Ys, Zs = [], []
        t = 0
        while True:
            inside = within(t)
            Y, Z = int(np.sum(inside & is_target)), int(np.sum(inside & ~is_target))
            Ys.append(Y)
            Zs.append(Z)
            if Z > gamma * (Y + Z):
                t_b = max(t - 1, 0)
                break
            if inside.all():
                t_b = t
                break
            t += 1
        t_f, best = 0, -1
        for t in range(t_b):
            inc = Ys[t + 1] - Ys[t]
            if inc > best:
                t_f, best = t, inc
        members = np.flatnonzero(within(t_f))
        Xm = X[members]
        own = [x for x, target in zip(Xm, is_target[members]) if target]
        mu = sum(x - G for x in own) / len(own) if own else np.zeros_like(G)
        P = G + mu
        dm = d[members]
        r_min, r_max = dm.min(), dm.max()
        rim = [i for i in members if r_max - step * (1 + _SLACK) <= d[i] <= r_max]
        dP = [cdist(P[None, :], X[i][None, :], scipy_metric)[0, 0] for i in rim]
        e_rim, e_min = rim[int(np.argmax(dP))], rim[int(np.argmin(dP))]
        for key, val in (("r0", r0), ("r_b", r0 + t_b * step), ("r_f", r0 + t_f * step),
                         ("members", members), ("Y", Ys), ("Z", Zs), ("Gf", Xm.mean(axis=0)),
                         ("mu", mu), ("mmp", P), ("r_min", r_min), ("r_max", r_max),
                         ("e_rim", e_rim), ("e_min", e_min),
                         ("theta_max_half", _angle(mu, X[e_rim] - G)),
                         ("theta_min_half", _angle(mu, X[e_min] - G))):
            out[key].append(val)
    return out


# ---------------------------------------------------------------------------------------
# scores (section 4.2, 4.4)


def cluster_class_counts(result, labels):
    """``M[k, j]``: embeddings of class ``classes[j]`` inside cluster k, int (C, C)."""
    y_idx = np.searchsorted(result.classes, np.asarray(labels))
    C = result.n_classes
    M = np.zeros((C, C), dtype=np.int64)
    for k, m in enumerate(result.members):
        M[k] = np.bincount(y_idx[m], minlength=C)
    return M


def per_class_scores(result, labels, *, chi2_min_expected=5.0, min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE):
    """Per-cluster scores (section 4.2, theorem 2), each an array of shape (C,).

    Returns a dict with ``coverage`` (|Y_{r_f}| / |X_k|, section 4.2), ``recall``
    (|Y_{r_f}| / n_k: share of class k inside its own cluster), ``purity`` (majority
    share of the cluster), ``n_members``, ``n_target``, ``n_other``, ``small_cluster``
    (``n_members < min_cluster_size``: a degenerate cluster whose G^f / P stand for the
    class on very few embeddings), and the theorem-2 test on the class's embeddings:
    ``chi2`` / ``chi2_p`` of :func:`embtree.stats.poisson_chi2` on the arrival step of
    each of its embeddings (the per-step increase f(x), from r_0 to its last embedding)
    against a Poisson with the same mean, and ``chi2_dispersion`` = variance / mean of
    those arrival steps (1 for a Poisson; see :mod:`embtree.stats` on why the verdict
    depends on the step).
    """
    from embtree.stats import arrival_dispersion, poisson_chi2

    M = cluster_class_counts(result, labels)
    n_members = M.sum(axis=1)
    chi = np.full(result.n_classes, np.nan)
    p = np.full(result.n_classes, np.nan)
    disp = np.full(result.n_classes, np.nan)
    for k in range(result.n_classes):
        inc_y, _ = result.increments(k)
        last = int(np.flatnonzero(inc_y)[-1]) if inc_y.any() else 0
        res = poisson_chi2(inc_y[: last + 1], min_expected=chi2_min_expected)
        chi[k], p[k] = res.statistic, res.pvalue
        disp[k] = arrival_dispersion(inc_y[: last + 1])
    return {
        "coverage": result.coverage,
        "purity": M.max(axis=1) / np.maximum(n_members, 1),
        "recall": result.recall,
        "n_members": n_members,
        "n_target": result.n_target,
        "n_other": result.n_other,
        "small_cluster": n_members < min_cluster_size,
        "chi2": chi,
        "chi2_p": p,
        "chi2_dispersion": disp,
    }


def run_scores(result, labels, *, min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE):
    """Per-run scores of the overlapping clusters (section 4.2, 4.4.2) as a dict.

    The paper's reading (section 4.2.1: N is "the total number of embeddings present in
    all the clusters"; its ImageNet rows pair RI 0.96-0.97 with purity 0.04-0.11, which
    only fits scores over clustered embeddings) gives the reported values:

    * ``purity``: eq. 17 over overlapping clusters, ``sum_k max_j |X_k n class j| /
      sum_k |X_k|`` (an embedding in two clusters counts in both);
      ``purity_mean`` / ``purity_std``: over the per-cluster purities.
    * ``ri`` (eq. 18) and ``nmi`` (eq. 19, scikit-learn, arithmetic normalisation =
      2I/(H(K)+H(C))) over the *clustered* embeddings, partitioned by
      ``result.assignment`` (each in the cluster with the nearest centre among those
      containing it). NaN when fewer than 2 embeddings are clustered.

    The all-embeddings variants, with every embedding outside all clusters in one
    "unassigned" group (-1), are ``purity_all``, ``ri_all``, ``nmi_all``;
    ``unassigned_fraction`` says how many embeddings that group holds.

    * ``coverage_mean`` / ``coverage_std``: over classes; ``recall_mean`` likewise.
    * ``intrusion_count`` / ``intrusion_fraction``: embeddings in more than one
      cluster, and their share of all embeddings.
    * ``n_small_clusters``: clusters with fewer than ``min_cluster_size`` members;
      ``degenerate``: True when more than half of the clusters are that small (the run's
      scores then describe a handful of embeddings, e.g. a step far below the distances).
    """
    from sklearn.metrics import normalized_mutual_info_score

    from embtree.metrics import purity as flat_purity
    from embtree.metrics import rand_index

    labels = np.asarray(labels)
    M = cluster_class_counts(result, labels)
    n_members = M.sum(axis=1)
    per_purity = M.max(axis=1) / np.maximum(n_members, 1)
    intr = result.n_clusters_containing > 1
    inside = result.assignment >= 0
    if inside.sum() >= 2:
        ri = rand_index(labels[inside], result.assignment[inside])
        nmi = float(normalized_mutual_info_score(labels[inside], result.assignment[inside]))
    else:
        ri = nmi = float("nan")
    n_small = int(np.sum(n_members < min_cluster_size))
    return {
        "purity": float(M.max(axis=1).sum() / max(n_members.sum(), 1)),
        "purity_mean": float(per_purity.mean()),
        "purity_std": float(per_purity.std()),
        "coverage_mean": float(result.coverage.mean()),
        "coverage_std": float(result.coverage.std()),
        "recall_mean": float(result.recall.mean()),
        "ri": ri,
        "nmi": nmi,
        "purity_all": flat_purity(labels, result.assignment),
        "ri_all": rand_index(labels, result.assignment),
        "nmi_all": float(normalized_mutual_info_score(labels, result.assignment)),
        "intrusion_count": int(intr.sum()),
        "intrusion_fraction": float(intr.mean()),
        "unassigned_fraction": float(np.mean(~inside)),
        "n_classes": int(result.n_classes),
        "n_small_clusters": n_small,
        "degenerate": bool(n_small > result.n_classes / 2),
    }


def infiltration(result, labels, *, top=3, min_count=2):
    """Most frequent other classes inside each cluster (section 4.4.1, tables 10-13).

    For each cluster k, the other classes with at least ``min_count`` embeddings in
    ``X_k``, ranked by count with ties sharing a rank (dense ranking, as the paper's
    "bird (25), deer (25)"), ranks 1..``top``.

    Returns
    -------
    list of (k, rank, j, count) tuples with row indices k, j into ``result.classes``.
    """
    M = cluster_class_counts(result, labels)
    rows = []
    for k in range(result.n_classes):
        counts = M[k].copy()
        counts[k] = 0
        levels = np.unique(counts[counts >= min_count])[::-1][:top]
        for rank, level in enumerate(levels, start=1):
            rows.extend((k, rank, int(j), int(level)) for j in np.flatnonzero(counts == level))
    return rows


def intrusion(result):
    """Embeddings shared by two clusters (section 4.4.2, tables 14-16).

    Returns
    -------
    list of (a, b, count) with row indices a < b and count = |X_a n X_b| > 0.
    """
    from scipy import sparse

    indptr, indices = result.member_csr()
    N = len(result.assignment)
    A = sparse.csr_matrix((np.ones(len(indices), dtype=np.int64), indices, indptr),
                          shape=(result.n_classes, N))
    O = sparse.triu(A @ A.T, k=1).tocoo()
    order = np.lexsort((O.col, O.row))
    return [(int(O.row[i]), int(O.col[i]), int(O.data[i])) for i in order if O.data[i] > 0]


def caec_tables(result, labels, class_names, keys, *, min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE):
    """The per-run tables of docs/design.md as pandas DataFrames.

    Parameters
    ----------
    result : CAECResult
    labels : (n_samples,) int labels
    class_names : (n_label_values,) names indexed by label value
    keys : dict of key columns put first in every table (dataset, encoder, metric)
    min_cluster_size : clusters with fewer members are flagged (``small_cluster``)

    Returns
    -------
    dict with ``per_class``, ``summary``, ``infiltration``, ``intrusion`` DataFrames.
    """
    import pandas as pd

    names = np.asarray(class_names, dtype=str)[result.classes]
    pc = per_class_scores(result, labels, min_cluster_size=min_cluster_size)
    per_class = pd.DataFrame({
        **keys,
        "class": result.classes,
        "class_name": names,
        "r_b": result.r_b,
        "r_f": result.r_f,
        "coverage": pc["coverage"],
        "purity": pc["purity"],
        "n_members": pc["n_members"],
        "n_target": pc["n_target"],
        "n_other": pc["n_other"],
        "r_min": result.r_min,
        "r_max": result.r_max,
        "theta_min_half": result.theta_min_half,
        "theta_max_half": result.theta_max_half,
        "annular": result.annular,
        "chi2": pc["chi2"],
        "chi2_p": pc["chi2_p"],
        "r0": result.r0,
        "bounded": result.bounded,
        "class_size": result.class_sizes,
        "recall": pc["recall"],
        "rim_size": result.rim_size,
        "recall_rb": result.growth_Y[np.arange(result.n_classes), result.t_b] / result.class_sizes,
        "small_cluster": pc["small_cluster"],
        "chi2_dispersion": pc["chi2_dispersion"],
    })
    scores = run_scores(result, labels, min_cluster_size=min_cluster_size)
    summary = pd.DataFrame([{
        **keys,
        "step": result.step,
        "gamma": result.gamma,
        "purity_mean": scores["purity_mean"],
        "purity_std": scores["purity_std"],
        "coverage_mean": scores["coverage_mean"],
        "ri": scores["ri"],
        "nmi": scores["nmi"],
        "intrusion_count": scores["intrusion_count"],
        "intrusion_fraction": scores["intrusion_fraction"],
        "n_classes": scores["n_classes"],
        "purity": scores["purity"],
        "coverage_std": scores["coverage_std"],
        "recall_mean": scores["recall_mean"],
        "unassigned_fraction": scores["unassigned_fraction"],
        "annular_fraction": float(np.mean(result.annular)),
        "n_samples": len(result.assignment),
        "purity_all": scores["purity_all"],
        "ri_all": scores["ri_all"],
        "nmi_all": scores["nmi_all"],
        "n_small_clusters": scores["n_small_clusters"],
        "min_cluster_size": int(min_cluster_size),
        "degenerate": scores["degenerate"],
    }])
    infil = infiltration(result, labels)
    infiltration_df = pd.DataFrame(
        [{**keys, "class_name": names[k], "rank": r, "other_class": names[j], "count": c} for k, r, j, c in infil],
        columns=[*keys, "class_name", "rank", "other_class", "count"],
    )
    intr = intrusion(result)
    intrusion_df = pd.DataFrame(
        [{**keys, "class_a": names[a], "class_b": names[b], "count": c} for a, b, c in intr],
        columns=[*keys, "class_a", "class_b", "count"],
    )
    return {"per_class": per_class, "summary": summary, "infiltration": infiltration_df,
            "intrusion": intrusion_df}


def cluster_arrays(result, class_names, *, min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE):
    """Arrays of ``clusters.npz`` (docs/design.md), membership as CSR.

    ``class_names`` is indexed by label value; the saved ``class_names`` has one entry
    per row of ``result`` (what the relation-tree stage reads with G^f / P).
    ``small_cluster`` marks clusters with fewer than ``min_cluster_size`` members.
    """
    indptr, indices = result.member_csr()
    n_members = np.diff(indptr)
    return {
        "small_cluster": n_members < min_cluster_size,
        "min_cluster_size": np.int64(min_cluster_size),
        "classes": result.classes,
        "class_names": np.asarray(class_names, dtype=str)[result.classes],
        "centroids": result.centroids,
        "final_centroids": result.final_centroids,
        "mmp": result.mmp,
        "mu": result.mu,
        "r0": result.r0,
        "r_b": result.r_b,
        "r_f": result.r_f,
        "t_b": result.t_b,
        "t_f": result.t_f,
        "bounded": result.bounded,
        "r_min": result.r_min,
        "r_max": result.r_max,
        "rim_size": result.rim_size,
        "theta_min_half": result.theta_min_half,
        "theta_max_half": result.theta_max_half,
        "e_rim": result.e_rim,
        "e_min": result.e_min,
        "annular": result.annular,
        "n_target": result.n_target,
        "n_other": result.n_other,
        "class_sizes": result.class_sizes,
        "step": np.float64(result.step),
        "gamma": np.float64(result.gamma),
        "metric": np.str_(result.metric),
        "member_indptr": indptr,
        "member_indices": indices,
        "assignment": result.assignment,
        "n_clusters_containing": result.n_clusters_containing,
    }


def growth_arrays(result, class_names):
    """Arrays of ``growth.npz``: per-class growth per radius step, padded (fig. 3).

    ``Y`` / ``Z`` (C, T) cumulative counts inside ``r_t`` (-1 padding); ``target`` /
    ``other`` (C, T) per-step increments (element 0 = the counts at r_0; NaN padding);
    ``radii`` (C, T) the radius of each step (NaN padding); ``n_steps`` (C,) valid steps.
    """
    T = result.growth_Y.shape[1]
    valid = np.arange(T)[None, :] < result.n_steps[:, None]
    inc_y = np.where(valid, np.diff(result.growth_Y, axis=1, prepend=0), np.nan)
    inc_z = np.where(valid, np.diff(result.growth_Z, axis=1, prepend=0), np.nan)
    radii = np.where(valid, result.r0[:, None] + result.step * np.arange(T)[None, :], np.nan)
    return {
        "classes": result.classes,
        "class_names": np.asarray(class_names, dtype=str)[result.classes],
        "step": np.float64(result.step),
        "r0": result.r0,
        "r_b": result.r_b,
        "r_f": result.r_f,
        "t_b": result.t_b,
        "t_f": result.t_f,
        "n_steps": result.n_steps,
        "Y": result.growth_Y.astype(np.int32),
        "Z": result.growth_Z.astype(np.int32),
        "target": inc_y.astype(np.float32),
        "other": inc_z.astype(np.float32),
        "radii": radii,
    }
