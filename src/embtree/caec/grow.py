"""CAEC cluster growing (paper 000, section 3.2: eq. 1-4, 7-10, 14).

:func:`grow_clusters`   one class-associated embedding cluster per class, a :class:`CAECResult`
:func:`auto_step`       the radius step of ``step="auto"``: about :data:`AUTO_STEPS` steps to
                        the median bounding radius
:data:`ANNULAR_THETA_MIN`  the angle above which a cluster is annular (section 4.2)

``_grow_clusters_naive`` is the plain per-step loop that the tests and
``benchmarks/bench_caec.py`` compare :func:`grow_clusters` with. The conventions the paper
leaves open (radii, ``r_b``, ``r_f``, the mean vector, the rim set), and why embtree chose
them: docs/methods/caec.md.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial.distance import cdist

from embtree.caec.result import CAECResult
from embtree.centroids import class_centroids
from embtree.distances import check_metric, check_metric_rows, pairwise, pairwise_blocks
from embtree.validation import check_matrix

__all__ = ["grow_clusters", "auto_step", "AUTO_STEPS", "ANNULAR_THETA_MIN"]

log = logging.getLogger(__name__)

ANNULAR_THETA_MIN = 0.8  # rad, section 4.2 (applied to theta_min = 2 * theta_min_half)
_SLACK = 1e-9  # in step units: a point lying exactly on a radius counts there (docs/methods/caec.md)
_MAX_STEPS = 10_000_000
AUTO_STEPS = 25  # evidence: auto_step docstring, benchmarks/study_caec_step.py
_AUTO_FINE_BINS = 4096
_AUTO_MAX_CLASSES = 128

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
    check_metric_rows(X, metric, "embeddings")
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
    check_metric_rows(P[None, :], metric, "manifold mean point P")  # X's rows were checked
    dP = pairwise(P[None, :], Xm[rim], metric, check_input=False)[0]
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
        See its docstring for the fields; the growth conventions are in
        docs/methods/caec.md.

    Raises
    ------
    ValueError
        NaN/inf embeddings, length mismatch, negative labels, a class without samples,
        an unknown metric, gamma outside (0, 1), step <= 0, a zero embedding or class
        centroid with ``metric="cosine"``, or a step so small that a class would need more
        than 10^7 steps.

    Notes
    -----
    The embeddings are validated once, here; the distance kernels below get
    ``check_input=False`` (at ImageNet-train size one scan of X reads 3.9 GB).
    """
    X, y, metric, gamma, step, classes = _check_inputs(embeddings, labels, metric, gamma, step, classes)
    Xd = np.ascontiguousarray(X)  # the distance kernels' layout (a no-op for stored embeddings)
    C, N = len(classes), len(X)
    y_idx = np.searchsorted(classes, y)
    class_sizes = np.bincount(y_idx, minlength=C)
    order = np.argsort(y_idx, kind="stable")
    bounds = np.searchsorted(y_idx[order], np.arange(C + 1))
    class_rows = [order[bounds[k] : bounds[k + 1]] for k in range(C)]
    G = class_centroids(X, y_idx, C)  # eq. 1
    Gd = _distance_input(G, X, metric)
    check_metric_rows(Gd, metric, "class centroids")
    single = classes[class_sizes == 1]
    if len(single):
        log.warning(
            "classes %s have exactly 1 sample: their cluster is that sample (r_f = r_0 = 0), "
            "the chi-square test and the angles are undefined (NaN), annular is False",
            single[:10].tolist(),
        )

    if step == "auto":
        step = auto_step(Xd, y_idx, Gd, class_rows, metric, gamma, max_block_bytes, check_input=False)
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
    for rows, D in pairwise_blocks(Gd, Xd, metric, max_bytes=max_block_bytes, check_input=False):
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


def auto_step(X, y_idx, G, class_rows, metric, gamma, max_block_bytes=64 * 2**20, *, check_input=True):
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
    check_input : bool, default True
        False when ``X`` and ``G`` were validated already (as by :func:`grow_clusters`):
        the distances then skip their checks (:func:`embtree.distances.pairwise_blocks`).

    Returns
    -------
    float > 0
    """
    C = len(G)
    pick = np.unique(np.linspace(0, C - 1, min(C, _AUTO_MAX_CLASSES)).round().astype(np.int64))
    extent, own = [], []
    for rows, D in pairwise_blocks(G[pick], X, metric, max_bytes=max_block_bytes, check_input=check_input):
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
    value = float(np.median(extent)) / AUTO_STEPS
    if value <= 0:
        value = float(np.median(own)) / AUTO_STEPS
    if not value > 0:
        raise ValueError(
            f"step='auto' cannot choose a step for metric={metric!r}: every class's embeddings "
            "lie at distance 0 from its centroid; pass a numeric step"
        )
    return float(f"{value:.3g}")


# ---------------------------------------------------------------------------------------
# the naive loop the fast path is tested against


def _grow_clusters_naive(embeddings, labels, *, metric="euclidean", gamma=0.3, step=1.0, classes=None):
    """Straightforward per-class, per-step loop (eq. 1-4, 7-10, 14) with scipy's ``cdist``.

    Recounts ``Y_r`` and ``Z_r`` from scratch at every radius. Slow (O(N T) per class);
    kept as the naive implementation for tests and ``benchmarks/bench_caec.py``. ``step``
    must be numeric. Returns a dict of per-class lists.
    """
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
