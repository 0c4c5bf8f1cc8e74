"""CAEC paper tables 1-14 (rows encoder x cluster metric) from the per-run ``caec/`` tables."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import DIRECTIONS, FORMATS, LABELS, NOT_APPLICABLE, SIGNIFICANT_MARK, SMALL_CLUSTER_MARK
from embtree.stats import TTEST_ALPHA
from embtree.report.tables.base import flag_cells, missing_of, ordered_values, rows_where, wide_table


_RUN_ROWS = ["encoder", "metric"]



def caec_metric_table(summary, value, *, missing=None, order=None, name=None, title=None):
    """CAEC paper tables 5, 7, 8: one summary metric, rows encoder x metric, columns datasets.

    Parameters
    ----------
    summary : DataFrame, concatenated ``caec/{metric}/summary.tsv`` rows
        (dataset, encoder, metric, purity_mean, ri, nmi, ...).
    value : str, the summary column (``purity_mean``, ``ri``, ``nmi``, ``coverage_mean``...).
    """
    label = LABELS.get(value, value)
    return wide_table(
        summary,
        _RUN_ROWS,
        ["dataset"],
        value,
        name=name or f"caec_{value}",
        title=title or f"CAEC clusters: {label} per encoder and cluster metric",
        missing=missing,
        order=order,
    )



def purity_mean_std_table(summary, *, missing=None, order=None, value="purity_mean"):
    """CAEC paper table 6: purity per encoder, mean ± std over the cluster metrics (of table 5).

    The std is the population std (``ddof=0``), which reproduces the paper's table 6 from its
    table 5 (e.g. ViT / CIFAR10: 0.80, 0.86, 0.95 -> 0.87 ± 0.06).
    """
    miss = missing.drop(columns=["metric"], errors="ignore") if missing is not None and len(missing) else missing
    return wide_table(
        summary,
        ["encoder"],
        ["dataset"],
        value,
        name="caec_purity_mean_std",
        title="CAEC clusters: purity per encoder, mean ± std over cluster metrics",
        aggregate="mean_std",
        ddof=0,
        missing=miss,
        order=order,
    )



def per_class_table(per_class, dataset, value, *, missing=None, order=None, decimals=None):
    """CAEC paper tables 3 (``value="r_max"``) and 4 (``"coverage"``) for one dataset.

    Rows encoder x metric, columns the classes (in class-index order); coverage bolds the
    best per class, the radius is descriptive (no bold: radii of different metrics are in
    different units).
    """
    df = rows_where(per_class, dataset=dataset)
    order = dict(order or {})
    if len(df):
        order["class_name"] = df.sort_values("class")["class_name"].drop_duplicates().tolist()
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = {"r_max": "maximum radius r_max", "coverage": "coverage", "r_f": "final radius r_f"}.get(value, value)
    return wide_table(
        df,
        _RUN_ROWS,
        ["class_name"],
        value,
        name=f"caec_{value}_{dataset}",
        title=f"CAEC clusters on {dataset}: {label} per class",
        missing=miss,
        order=order,
        decimals=decimals,
    )



def angle_table(per_class, *, missing=None, order=None):
    """CAEC paper table 2: mean ± std over classes of θ_min/2 and θ_max/2 (radians).

    Rows encoder x metric, columns dataset x (min, max); std with ``ddof=0``.
    """
    if len(per_class):
        long = per_class.melt(
            id_vars=["dataset", "encoder", "metric", "class"],
            value_vars=["theta_min_half", "theta_max_half"],
            var_name="angle",
            value_name="radians",
        )
        long["angle"] = long["angle"].map({"theta_min_half": "θmin/2", "theta_max_half": "θmax/2"})
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "metric", "angle", "radians"])
    return wide_table(
        long,
        _RUN_ROWS,
        ["dataset", "angle"],
        "radians",
        name="caec_angles",
        title="CAEC clusters: cluster angles θmin/2 and θmax/2 (radians), mean ± std over classes",
        aggregate="mean_std",
        ddof=0,
        direction=None,
        missing=missing,
        order={**(order or {}), "angle": ["θmin/2", "θmax/2"]},
    )



def chi2_table(per_class, *, alpha=0.05, missing=None, order=None):
    """CAEC paper table 1 per run: χ² goodness of fit of the growth counts to a Poisson law.

    Columns per dataset: the median p-value over classes, and the fraction of classes with
    ``p > alpha`` (growth consistent with Poisson, Theorem 2). Descriptive: no bold.
    """
    if len(per_class):
        df = per_class.dropna(subset=["chi2_p"])
        g = df.groupby(["dataset", "encoder", "metric"], sort=False)["chi2_p"]
        agg = pd.concat(
            [
                g.median().rename("median p"),
                g.apply(lambda p: float((p > alpha).mean())).rename(_share_label(alpha)),
            ],
            axis=1,
        ).reset_index()
        long = agg.melt(id_vars=["dataset", "encoder", "metric"], var_name="stat", value_name="v")
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "metric", "stat", "v"])
    t = wide_table(
        long,
        _RUN_ROWS,
        ["dataset", "stat"],
        "v",
        name="caec_chi2",
        title=f"CAEC growth: χ² Poisson goodness of fit (median p over classes; share of classes with p > {alpha:g}, "
              "growth consistent with Poisson)",
        direction=None,
        missing=missing,
        order=order,
    )
    t.column_formats = {"median p": ("pvalue", 3), _share_label(alpha): FORMATS["purity"]}
    return t


def _share_label(alpha):
    return f"classes with p > {alpha:g}"



def ttest_table(ttest, *, missing=None, order=None, alpha=TTEST_ALPHA):
    """CAEC paper table 9: paired t-test p-values of coverage between cluster metrics.

    Rows encoder x metric pair, columns datasets; a p-value the test called significant (the
    ``significant`` column of ``ttest.tsv``: ``p <= alpha``, :data:`embtree.stats.TTEST_ALPHA`, the
    paper's 0.01) prints ``*``. No bold: p-values do not compete.
    """
    if len(ttest):
        df = ttest.copy()
        df["pair"] = df["metric_a"].astype(str) + ", " + df["metric_b"].astype(str)
    else:
        df = pd.DataFrame(columns=["dataset", "encoder", "pair", "p", "significant"])
    t = wide_table(
        df,
        ["encoder", "pair"],
        ["dataset"],
        "p",
        name="caec_ttest",
        title="CAEC coverage: paired t-test p-values between cluster metrics",
        direction=None,
        missing=missing,
        order=order,
        number_format="pvalue",
        decimals=3,
    )
    if len(df):
        sig = df.set_index(["encoder", "pair", "dataset"])["significant"].astype(str).str.lower()
        sig = sig.isin(["true", "1", "yes"]).unstack("dataset")
        t.significant = sig.reindex(index=t.values.index, columns=t.values.columns).fillna(False).astype(bool)
        t.significant &= ~t.missing
        t.notes.append(f"{SIGNIFICANT_MARK} significant: p <= {alpha:g} (embtree.stats.TTEST_ALPHA, the CAEC "
                       "paper's level), the coverage of the two metrics differs.")
    t.directions = None
    return t


#: Columns of :func:`assumptions_table`: summary column -> header.
_ASSUMPTION_COLUMNS = {
    "lambda_target_mean": "λ1 (target per step)",
    "lambda_other_mean": "λ2 (others per step)",
    "lambda_t": "t",
    "lambda_p": "p",
    "lambda_n": "clusters",
    "annular_fraction": "annular clusters",
}


def assumptions_table(summary, *, missing=None, order=None, alpha=TTEST_ALPHA):
    """CAEC paper section 3.2, assumption 2 (eq. 5), and the share of annular clusters (section 4.4.1).

    Rows dataset x encoder x cluster metric; columns the mean λ1 / λ2 over the clusters (target /
    non-target embeddings added per radius step while a cluster grows), the paired t-test of λ1
    against λ2 over the clusters (t, p; ``*`` where p <= ``alpha``, the paper's 0.01, which rejects
    H0: mean difference 0), the number of clusters tested, and the share of clusters whose
    θ_min exceeds the annular threshold. The paper tests 10 clusters drawn at random (p = 0.00008);
    embtree tests every cluster with both rates defined. Descriptive: no bold.
    """
    cols = [c for c in _ASSUMPTION_COLUMNS if c in summary.columns] if len(summary) else []
    if cols:
        long = summary.melt(id_vars=["dataset", *_RUN_ROWS], value_vars=cols, var_name="m", value_name="v")
        long["m"] = long["m"].map(_ASSUMPTION_COLUMNS)
        long["v"] = pd.to_numeric(long["v"], errors="coerce")
    else:
        long = pd.DataFrame(columns=["dataset", *_RUN_ROWS, "m", "v"])
    o = dict(order or {})
    o["m"] = list(_ASSUMPTION_COLUMNS.values())
    t = wide_table(long, ["dataset", *_RUN_ROWS], ["m"], "v", name="caec_assumptions",
                   title="CAEC assumption 2 (section 3.2, eq. 5): target vs non-target arrivals per radius step, "
                         "paired t-test over the clusters; share of annular clusters",
                   direction=None, missing=missing, order=o)
    t.column_formats = {"λ1 (target per step)": ("fixed", 2), "λ2 (others per step)": ("fixed", 2),
                        "t": ("fixed", 2), "p": ("pvalue", 3), "clusters": ("count", 0),
                        "annular clusters": FORMATS["purity"]}
    if len(summary) and "lambda_p" in summary.columns and "p" in t.values.columns:
        p = pd.to_numeric(t.values["p"], errors="coerce")
        sig = pd.DataFrame(False, index=t.values.index, columns=t.values.columns)
        sig["p"] = (p <= alpha).fillna(False)
        t.significant = sig
        t.notes.append(f"{SIGNIFICANT_MARK} p <= {alpha:g}: the clusters gain target-class embeddings at another "
                       "rate than the others' (assumption 2 holds where λ1 is the larger; the paper assumes "
                       "λ2 >> λ1 and reports p = 0.00008 on 10 random clusters).")
    t.notes.append("λ1, λ2: mean number of target / non-target embeddings added per radius step from r_0 to r_f, "
                   "averaged over the clusters; annular clusters: θ_min > the annular threshold (section 4.4.1). "
                   "No bold: the columns describe the run, they do not compete.")
    t.directions = None
    return t


def _top_other(df, group, other, top, min_count):
    """'name (count)' strings of the ``top`` count ranks per group, ties joined by ', '."""
    df = df[df["count"] >= min_count].copy()
    if not len(df):
        return pd.DataFrame(columns=[*group, "rank", "text"])
    df["rank"] = df.groupby(group, sort=False)["count"].rank(method="dense", ascending=False).astype(int)
    df = df[df["rank"] <= top].sort_values([*group, "rank", other])
    df["item"] = df[other].astype(str) + " (" + df["count"].astype(int).astype(str) + ")"
    return df.groupby([*group, "rank"], sort=False)["item"].agg(", ".join).rename("text").reset_index()



def infiltration_table(
    infiltration, dataset, *, top=3, min_count=2, missing=None, order=None, classes=None, runs=None
):
    """CAEC paper tables 10-13: the ``top`` most frequent infiltrated classes per cluster.

    Rows cluster (class) x rank 1..top, columns cluster metric x encoder; a cell reads
    ``other (count)`` with tied classes joined by ``, `` and only classes with at least
    ``min_count`` embeddings (the paper uses 2); ``-`` where a cluster has fewer.
    ``classes`` (all class names) and ``runs`` (DataFrame with dataset, encoder, metric) make
    clusters and runs without any infiltration appear too; by default both come from the data.
    """
    df = rows_where(infiltration, dataset=dataset)
    order = dict(order or {})
    if classes is not None:
        order["class_name"] = list(classes)
    ranked = _top_other(df, ["encoder", "metric", "class_name"], "other_class", top, min_count)
    # Every (cluster, rank) row is shown for every run, '-' where the cluster has fewer.
    runs = df[["encoder", "metric"]] if runs is None else rows_where(runs, dataset=dataset)[["encoder", "metric"]]
    runs = runs.drop_duplicates()
    names = df["class_name"].tolist() if classes is None else list(classes)
    if len(runs) and names:
        cls = pd.DataFrame({"class_name": ordered_values(names, order.get("class_name"))})
        grid = runs.merge(cls, how="cross").merge(pd.DataFrame({"rank": range(1, top + 1)}), how="cross")
        full = grid.merge(ranked, on=["encoder", "metric", "class_name", "rank"], how="left")
        full["text"] = full["text"].fillna(NOT_APPLICABLE)
    else:  # no run of this dataset has an infiltrated class
        full = pd.DataFrame(columns=["encoder", "metric", "class_name", "rank", "text"])
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    t = wide_table(
        full,
        ["class_name", "rank"],
        ["metric", "encoder"],
        "text",
        name=f"caec_infiltration_{dataset}",
        title=f"CAEC clusters on {dataset}: top-{top} infiltrated classes per cluster (embeddings ≥ {min_count})",
        direction=None,
        missing=miss,
        order=order,
    )
    t.empty_note = f"none: no cluster holds {min_count} or more embeddings of another class"
    return t



def intrusion_table(intrusion, dataset, *, top=3, missing=None, order=None):
    """CAEC paper table 14: classes whose embeddings also lie in another class's cluster.

    Rows encoder x metric x cluster, one column: ``other (count)`` for the ``top`` largest
    overlaps (``-`` rows are omitted as in the paper).
    """
    df = rows_where(intrusion, dataset=dataset)
    if len(df):
        df = df.rename(columns={"class_a": "class_name"})
        ranked = _top_other(df, ["encoder", "metric", "class_name"], "class_b", top, 1)
        text = ranked.groupby(["encoder", "metric", "class_name"], sort=False)["text"].agg(", ".join).reset_index()
    else:
        text = pd.DataFrame(columns=["encoder", "metric", "class_name", "text"])
    text["column"] = "overlapping embeddings"
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    t = wide_table(
        text,
        ["encoder", "metric", "class_name"],
        ["column"],
        "text",
        name=f"caec_intrusion_{dataset}",
        title=f"CAEC clusters on {dataset}: intrusive classes (embeddings shared by two clusters)",
        direction=None,
        missing=miss,
        order=order,
    )
    t.empty_note = "none: no run has embeddings that lie in two classes' clusters"
    return t



def _flag_runs(tables, summary):
    """Mark run-level cells whose run has clusters below caec.min_cluster_size; name degenerate runs."""
    if not len(summary) or "n_small_clusters" not in summary.columns:
        return
    df = summary.assign(_small=pd.to_numeric(summary["n_small_clusters"], errors="coerce").fillna(0) > 0)
    note = (f"{SMALL_CLUSTER_MARK} the run has clusters with fewer members than caec.min_cluster_size "
            "(per_class.tsv small_cluster)")
    degenerate = []
    if "degenerate" in df.columns:
        bad = df[df["degenerate"].astype(str).str.lower().isin(["true", "1"])]
        degenerate = [f"{r.dataset}/{r.encoder}/{r.metric}" for r in bad.itertuples()]
    for t in tables:
        rows = ["encoder"] if t.name == "caec_purity_mean_std" else _RUN_ROWS
        flag_cells(t, df, rows, ["dataset"], "_small", note, direction="max")
        if degenerate:
            t.notes.append("DEGENERATE runs (more than half of the clusters below caec.min_cluster_size; "
                           "their scores describe a handful of embeddings, check caec.step): " + ", ".join(degenerate))


def flag_tree_tables(tables, trees, summary, datasets):
    """Mark the cells of relation-tree tables (``trees_<value>_<dataset>``) whose tree was built
    on a CAEC run with clusters below caec.min_cluster_size (its G^f / P rest on a few embeddings)."""
    if not len(trees) or not len(summary) or "n_small_clusters" not in summary.columns:
        return tables
    small = summary.assign(_small=pd.to_numeric(summary["n_small_clusters"], errors="coerce").fillna(0) > 0)
    small = small[["dataset", "encoder", "metric", "_small"]].rename(columns={"metric": "cluster_metric"})
    df = trees.merge(small, on=["dataset", "encoder", "cluster_metric"], how="inner")
    note = (f"{SMALL_CLUSTER_MARK} the tree's CAEC run has clusters with fewer members than "
            "caec.min_cluster_size: their G / P points rest on a handful of embeddings")
    for t in tables:
        for ds in datasets:
            suffix = f"_{ds}"
            if t.name.startswith("trees_") and t.name.endswith(suffix):
                value = t.name[len("trees_"): -len(suffix)]
                flag_cells(t, rows_where(df, dataset=ds), ["encoder", "cluster_metric"], ["tree_metric", "point"],
                           "_small", note, direction=DIRECTIONS.get(value))
    return tables


def build_caec_tables(summary, per_class, infiltration, intrusion, ttest, *, datasets, missing=None, order=None):
    """Every CAEC table (paper tables 1-14 layouts) from the concatenated per-run tables.

    Parameters
    ----------
    summary, per_class, infiltration, intrusion, ttest : DataFrame
        Concatenated ``summary.tsv``, ``per_class.tsv``, ``infiltration.tsv``,
        ``intrusion.tsv`` and ``ttest.tsv`` rows (see ``docs/design.md``).
    datasets : list of str, datasets with CAEC runs (one per-class table each).
    missing : dict family -> DataFrame of missing-run records (from :func:`load_run_tables`).

    Returns
    -------
    list of ReportTable
    """
    order = order or {}
    # Paper tables 5-6 use the purity of eq. 17 (all clusters pooled): the summary's `purity`
    # column; older summaries only have the per-class mean `purity_mean`.
    purity = "purity" if "purity" in summary.columns else "purity_mean"
    miss = missing_of(missing, "summary")
    clustered = "over the embeddings inside clusters (paper section 4.2)"
    run_tables = [
        caec_metric_table(summary, purity, missing=miss, order=order, name="caec_purity",
                          title=f"CAEC clusters: purity (eq. 17) {clustered} per encoder and cluster metric"),
        purity_mean_std_table(summary, missing=miss, order=order, value=purity),
        caec_metric_table(summary, "ri", missing=miss, order=order,
                          title=f"CAEC clusters: RI (eq. 18) {clustered} per encoder and cluster metric"),
        caec_metric_table(summary, "nmi", missing=miss, order=order,
                          title=f"CAEC clusters: NMI (eq. 19) {clustered} per encoder and cluster metric"),
    ]
    for value in ("ri_all", "nmi_all"):
        if value in summary.columns:
            run_tables.append(caec_metric_table(
                summary, value, missing=miss, order=order,
                title=f"CAEC clusters: {value[:-4].upper()} over all embeddings, those outside every cluster as "
                      "one 'unassigned' group (not the paper's reading)"))
    _flag_runs(run_tables, summary)
    tables = [
        *run_tables,
        angle_table(per_class, missing=missing_of(missing, "per_class"), order=order),
        chi2_table(per_class, missing=missing_of(missing, "per_class"), order=order),
        ttest_table(ttest, missing=missing_of(missing, "ttest"), order=order),
        assumptions_table(summary, missing=miss, order=order),
    ]
    small_note = (f"{SMALL_CLUSTER_MARK} this class's cluster has fewer members than caec.min_cluster_size: "
                  "its values rest on a handful of embeddings")
    for ds in datasets:
        classes = None
        if len(per_class) and (per_class["dataset"] == ds).any():
            classes = per_class[per_class["dataset"] == ds].sort_values("class")["class_name"].drop_duplicates()
        pc_ds = rows_where(per_class, dataset=ds)
        tables += [
            flag_cells(per_class_table(per_class, ds, "r_max", missing=missing_of(missing, "per_class"), order=order),
                       pc_ds, _RUN_ROWS, ["class_name"], "small_cluster", small_note),
            flag_cells(per_class_table(per_class, ds, "coverage", missing=missing_of(missing, "per_class"), order=order),
                       pc_ds, _RUN_ROWS, ["class_name"], "small_cluster", small_note, direction="max"),
            infiltration_table(infiltration, ds, missing=missing_of(missing, "infiltration"), order=order,
                               classes=classes, runs=summary),
            intrusion_table(intrusion, ds, missing=missing_of(missing, "intrusion"), order=order),
        ]
    return tables
