"""Clustering benchmark (paper 004, appendix H): flat-clustering scores, mean ± std over seeds.

:func:`flat_table` (one score per encoder x clusterer x reducer: AMI, ARI, silhouette), and
:func:`flat_found_k_tables`: what the clusterers that choose the number of clusters themselves
found (paper 004 tables 16-19: the noise share, the predicted number of clusters);
:func:`flat_ranking_table` (fig. 6: mean ranks, Wilcoxon tests) and
:func:`flat_silhouette_correlation_table` (§ 4.6: AMI against the silhouette).
"""

from __future__ import annotations

import pandas as pd

from embtree.flat.ranking import rank_clusterers, score_correlation
from embtree.flat.registry import NEEDS_N_CLUSTERS
from embtree.report.common import LABELS
from embtree.report.tables.base import wide_table


def flat_table(flat, value="ami", *, missing=None, order=None):
    """Clustering benchmark (paper 004, appendix H): ``value`` per encoder x clusterer x reducer.

    Columns datasets; cells are mean ± std over seeds (sample std, ``ddof=1``: seeds are
    repeated runs; a single seed prints the mean alone).
    """
    return wide_table(
        flat,
        ["encoder", "clusterer", "reducer"],
        ["dataset"],
        value,
        name=f"flat_{value}",
        title=f"Flat clustering: {LABELS.get(value, value)} per encoder, clusterer and reducer (mean ± std over seeds)",
        aggregate="mean_std",
        ddof=1,
        missing=missing,
        order=order,
    )


def flat_found_k_tables(flat, *, missing=None, order=None):
    """Paper 004 tables 16-19: the number of clusters found (``n_clusters``) and the share of
    samples left as noise (``noise_fraction``, HDBSCAN's label -1), for the clusterers that
    choose the number of clusters themselves (not in
    :data:`embtree.flat.registry.NEEDS_N_CLUSTERS`: affinity propagation, HDBSCAN, Merge &
    Expand); mean ± std over seeds. Descriptive: no bold.
    """
    if len(flat):
        flat = flat[~flat["clusterer"].astype(str).isin(NEEDS_N_CLUSTERS)]
    tables = []
    for value, what in (("n_clusters", "number of clusters found (tables 17-19)"),
                        ("noise_fraction", "share of samples left as noise (table 16)")):
        t = flat_table(flat, value, missing=missing, order=order)
        t.title = f"Flat clustering: {what}, clusterers that choose k themselves (mean ± std over seeds)"
        t.directions = None
        t.bold = t.bold & False
        t.empty_note = "none: no configured clusterer chooses the number of clusters itself"
        t.notes.append("Compare the number of clusters found with the data set's number of classes. "
                       "No bold: the columns describe what each clusterer found.")
        tables.append(t)
    return tables


def _run_means(flat, value):
    """Mean over seeds of ``value`` per (encoder, dataset, reducer, clusterer)."""
    keys = ["encoder", "dataset", "reducer", "clusterer"]
    df = flat.assign(**{value: pd.to_numeric(flat[value], errors="coerce")})
    return df.groupby(keys, sort=False)[value].mean().reset_index()


def flat_ranking_table(flat, value="ami", *, order=None):
    """Paper 004 fig. 6 as a table: each clusterer's mean rank by ``value`` over the runs
    (encoder x data set x reducer blocks, 1 = best; :func:`embtree.flat.ranking.rank_clusterers`),
    the blocks it was ranked in, and the Wilcoxon signed-rank p-value of the best-ranked
    clusterer against it. Bold: the lowest mean rank.
    """
    cols = ["mean rank", "runs", "p vs best (Wilcoxon)"]
    rows = []
    if len(flat) and value in flat.columns:
        means = _run_means(flat, value)
        S = means.pivot_table(index=["encoder", "dataset", "reducer"], columns="clusterer", values=value,
                              aggfunc="first", sort=False)
        if S.shape[1] >= 2:
            res = rank_clusterers(S.to_numpy())
            for j, c in enumerate(S.columns):
                rows += [{"clusterer": c, "m": cols[0], "v": res["mean_rank"][j]},
                         {"clusterer": c, "m": cols[1], "v": res["n_blocks"][j]},
                         {"clusterer": c, "m": cols[2], "v": res["p_vs_best"][j]}]
    long = pd.DataFrame(rows, columns=["clusterer", "m", "v"])
    o = dict(order or {})
    o["m"] = cols
    t = wide_table(long, ["clusterer"], ["m"], "v", name=f"flat_ranking_{value}" if value != "ami" else "flat_ranking",
                   title=f"Flat clustering: clusterers ranked by {LABELS.get(value, value)} within every encoder x "
                         "data set x reducer run (paper 004, fig. 6)",
                   direction={"mean rank": "min", "runs": None, "p vs best (Wilcoxon)": None}, order=o)
    t.column_formats = {"mean rank": ("fixed", 2), "runs": ("count", 0), "p vs best (Wilcoxon)": ("pvalue", 3)}
    t.empty_note = "none: ranking needs at least two clusterers"
    t.notes.append("Rank 1 = the best clusterer of a run (ties share their mean rank); p vs best: two-sided "
                   "Wilcoxon signed-rank test of the best-ranked clusterer's scores against this one's over the "
                   "runs both have, as the paper tests its best clusterer against each other one.")
    return t


def flat_silhouette_correlation_table(flat, *, order=None):
    """Paper 004 § 4.6, figs. 4 and 10: Spearman's rank correlation of AMI with the silhouette
    score (measured in the space each clusterer saw) over every encoder x data set x clusterer
    run, per reducer. Descriptive: no bold."""
    cols = ["Spearman ρ", "p", "runs"]
    rows = []
    if len(flat) and {"ami", "silhouette"} <= set(flat.columns):
        a = _run_means(flat, "ami")
        s = _run_means(flat, "silhouette")
        both = a.merge(s, on=["encoder", "dataset", "reducer", "clusterer"])
        for reducer, g in both.groupby("reducer", sort=False):
            r = score_correlation(g["ami"].to_numpy(), g["silhouette"].to_numpy())
            rows += [{"reducer": reducer, "m": cols[0], "v": r["rho"]}, {"reducer": reducer, "m": cols[1], "v": r["p"]},
                     {"reducer": reducer, "m": cols[2], "v": r["n"]}]
    long = pd.DataFrame(rows, columns=["reducer", "m", "v"])
    o = dict(order or {})
    o["m"] = cols
    t = wide_table(long, ["reducer"], ["m"], "v", name="flat_silhouette_ami",
                   title="Flat clustering: Spearman correlation of AMI with the silhouette score, per reducer "
                         "(paper 004, § 4.6)", direction=None, order=o)
    t.column_formats = {"Spearman ρ": ("fixed", 2), "p": ("pvalue", 3), "runs": ("count", 0)}
    t.directions = None
    t.empty_note = "none: no run has both scores"
    t.notes.append("A high ρ makes the label-free silhouette a usable proxy of cluster quality; the paper finds "
                   "it higher in the UMAP-reduced space. No bold.")
    return t
