"""CAEC cluster scores (paper 000, section 4.2 and 4.4) of a :class:`~embtree.caec.CAECResult`.

:func:`cluster_class_counts`  embeddings of each class inside each cluster
:func:`per_class_scores`      coverage, purity, recall, small clusters, theorem-2 chi-square per cluster
:func:`run_scores`            purity, RI, NMI, coverage, intrusion of a run (section 4.2, 4.4.2)
:func:`infiltration`          most frequent other classes inside each cluster (section 4.4.1)
:func:`intrusion`             embeddings shared by two clusters (section 4.4.2)
:func:`caec_tables`           the per-run tables of docs/design.md as DataFrames

Why the scores read the paper as they do: docs/methods/caec.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.metrics import normalized_mutual_info_score

from embtree.metrics import purity as flat_purity
from embtree.metrics import rand_index
from embtree.stats import arrival_dispersion, paired_ttests, poisson_chi2

__all__ = [
    "DEFAULT_MIN_CLUSTER_SIZE",
    "cluster_class_counts",
    "per_class_scores",
    "arrival_rates",
    "run_scores",
    "infiltration",
    "intrusion",
    "caec_tables",
]

DEFAULT_MIN_CLUSTER_SIZE = 5  # schema caec.min_cluster_size


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
    M = cluster_class_counts(result, labels)
    n_members = M.sum(axis=1)
    lam_target, lam_other = arrival_rates(result)
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
        "lambda_target": lam_target,
        "lambda_other": lam_other,
    }


def arrival_rates(result):
    """λ1 and λ2 of assumption 2 (paper 000, section 3.2): per cluster, the mean number of
    target-class (λ1) and non-target (λ2) embeddings added per radius step while it grows,
    over the steps r_0 -> r_0 + step, ..., up to its final radius r_f (the step's increments
    of fig. 3; the count already inside r_0 is not an increment). NaN for a cluster whose
    final radius is r_0.

    Returns
    -------
    lambda_target, lambda_other : float64 arrays of shape (n_classes,)
    """
    lam1 = np.full(result.n_classes, np.nan)
    lam2 = np.full(result.n_classes, np.nan)
    for k in range(result.n_classes):
        inc_y, inc_z = result.increments(k)
        last = min(int(result.t_f[k]), len(inc_y) - 1)
        if last >= 1:
            lam1[k] = inc_y[1 : last + 1].mean()
            lam2[k] = inc_z[1 : last + 1].mean()
    return lam1, lam2


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
    # Assumption 2 (section 3.2, eq. 5): paired t-test of λ1 against λ2 over the clusters
    # (the paper draws 10 at random; every cluster here), threshold p <= 0.01.
    lam1, lam2 = arrival_rates(result)
    ok = np.isfinite(lam1) & np.isfinite(lam2)
    lam_test = paired_ttests({"target": lam1[ok], "other": lam2[ok]})[0]
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
        "lambda_target_mean": float(lam1[ok].mean()) if ok.any() else float("nan"),
        "lambda_other_mean": float(lam2[ok].mean()) if ok.any() else float("nan"),
        "lambda_t": lam_test["t"],
        "lambda_p": lam_test["p"],
        "lambda_n": int(ok.sum()),
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
        "lambda_target": pc["lambda_target"],
        "lambda_other": pc["lambda_other"],
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
        **{k: scores[k] for k in ("lambda_target_mean", "lambda_other_mean", "lambda_t", "lambda_p", "lambda_n")},
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
