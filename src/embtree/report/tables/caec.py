"""CAEC paper tables 1-14 (rows encoder x cluster metric) from the per-run ``caec/`` tables."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from embtree.hierarchy.granularity import superclasses
from embtree.report.common import DIRECTIONS, FORMATS, LABELS, NOT_APPLICABLE, SIGNIFICANT_MARK, SMALL_CLUSTER_MARK
from embtree.stats import TTEST_ALPHA
from embtree.report.tables.base import flag_cells, missing_of, ordered_values, rows_where, truthy, wide_table


_RUN_ROWS = ["encoder", "metric"]

#: Cells of the tables aggregated by superclass: the classes of the row's own superclass.
WITHIN = "within"
#: Group of the classes a reference tree lacks (none where the reference was built from the classes).
NOT_IN_REFERENCE = "not in the reference"


@dataclass(frozen=True)
class ClassGroups:
    """A data set's classes grouped by superclass for its per-class tables (issue 28).

    ``name_of`` {class name: superclass name}; ``labels`` {superclass name: ``"name (n=k)"``, k its
    classes}, in the reference tree's leaf order; ``depth``: the depth of the reference tree whose
    ancestors name them; ``n_classes``; ``max_classes``: the threshold (``report.max_table_classes``).
    """

    name_of: dict
    labels: dict
    depth: int
    n_classes: int
    max_classes: int

    def label_of(self, classes):
        """The ``"name (n=k)"`` label of each class name of a Series."""
        return classes.map(self.name_of).map(self.labels)

    def note(self, dataset, table, cells):
        """The note of an aggregated table: by what, which depth, ``cells`` (what a cell holds), where the full
        table is."""
        why = (f"the deepest depth with at most {self.max_classes} groups" if len(self.labels) <= self.max_classes
               else f"no depth has at most {self.max_classes} groups")
        return (f"Aggregated by superclass: the {self.n_classes} classes of {dataset} are more than "
                f"report.max_table_classes = {self.max_classes}, so they are grouped by their ancestor at depth "
                f"{self.depth} of the data set's reference tree (results/{dataset}/reference.nwk; {why}) into "
                f"{len(self.labels)} superclasses, named by the "
                "ancestor's label (an unlabelled one by its first and last class, first…last); (n=k): the "
                f"superclass's number of classes. {cells} The full per-class table: {table}.csv.")


def class_groups(reference, class_names, max_classes):
    """The superclasses of a data set's per-class tables, or None where they stay per class.

    Parameters
    ----------
    reference : str (Newick) or None, the data set's reference tree (leaves: the class names)
    class_names : sequence of str, the classes in table order
    max_classes : int or None
        Tables of more classes than this are aggregated: each class goes to its ancestor at the
        deepest depth of ``reference`` with at most ``max_classes`` ancestors
        (:func:`embtree.hierarchy.granularity.superclasses` with ``max_groups``). None: never.

    Returns
    -------
    ClassGroups or None: None without a reference, with at most ``max_classes`` classes, or where no
    depth groups the classes (every depth-1 ancestor a class).
    """
    names = [str(c) for c in dict.fromkeys(class_names)]
    if reference is None or max_classes is None or len(names) <= max_classes:
        return None
    sup, depth = superclasses(reference, "auto", max_groups=int(max_classes))
    name_of = {c: sup.get(c, NOT_IN_REFERENCE) for c in names}
    counts = pd.Series(list(name_of.values())).value_counts()
    if len(counts) >= len(names):
        return None
    ordered = [g for g in dict.fromkeys([*sup.values(), NOT_IN_REFERENCE]) if g in counts.index]
    labels = {g: f"{g} (n={int(counts[g])})" for g in ordered}
    return ClassGroups(name_of=name_of, labels=labels, depth=int(depth), n_classes=len(names),
                       max_classes=int(max_classes))



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



def per_class_table(per_class, dataset, value, *, missing=None, order=None, decimals=None, groups=None):
    """CAEC paper tables 3 (``value="r_max"``) and 4 (``"coverage"``) for one dataset.

    Rows encoder x metric, columns the classes (in class-index order); coverage bolds the
    best per class, the radius is descriptive (no bold: radii of different metrics are in
    different units). With ``groups`` (:class:`ClassGroups`) the columns are the superclasses
    instead, ``"name (n=k)"``, each cell the mean of ``value`` over the superclass's classes.
    """
    df = rows_where(per_class, dataset=dataset)
    order = dict(order or {})
    col = "class_name" if groups is None else "superclass"
    if groups is not None:
        order[col] = list(groups.labels.values())
        if len(df):
            df = (df.assign(superclass=groups.label_of(df["class_name"].astype(str)),
                            **{value: pd.to_numeric(df[value], errors="coerce")})
                  .groupby([*_RUN_ROWS, col], sort=False)[value].mean().reset_index())
    elif len(df):
        order[col] = df.sort_values("class")["class_name"].drop_duplicates().tolist()
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = {"r_max": "maximum radius r_max", "coverage": "coverage", "r_f": "final radius r_f"}.get(value, value)
    name = f"caec_{value}_{dataset}"
    t = wide_table(
        df,
        _RUN_ROWS,
        [col],
        value,
        name=name,
        title=f"CAEC clusters on {dataset}: {label} per class" if groups is None else
              f"CAEC clusters on {dataset}: {label} per superclass (mean over its classes)",
        missing=miss,
        order=order,
        decimals=decimals,
    )
    if groups is not None:
        t.notes.append(groups.note(dataset, name, f"A cell is the mean {label} over the superclass's classes "
                                                  "(a class without a value left out)."))
    return t



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
    df = df[df["count"] >= min_count].copy() if len(df) else df  # no rows: maybe no columns (report.partial)
    if not len(df):
        return pd.DataFrame(columns=[*group, "rank", "text"])
    df["rank"] = df.groupby(group, sort=False)["count"].rank(method="dense", ascending=False).astype(int)
    df = df[df["rank"] <= top].sort_values([*group, "rank", other])
    df["item"] = df[other].astype(str) + " (" + df["count"].astype(int).astype(str) + ")"
    return df.groupby([*group, "rank"], sort=False)["item"].agg(", ".join).rename("text").reset_index()



def _empty_note(rows, missing, dataset, family, none):
    """What a table without rows says: ``none`` (every run found, nothing to list), or, where no
    run of ``dataset`` gave a row and some are missing (report.partial), that they are missing."""
    if len(rows) or missing is None or not len(missing):
        return none
    return (f"missing: {len(missing)} run(s) of {dataset} have no {family}.tsv yet (report.partial); "
            "nothing to list until they finish")


def _superclass_counts(df, a, b, groups, *, both_ways=False):
    """Counts of class pairs (columns ``a``, ``b``, ``count``) summed per superclass pair: rows encoder,
    metric, superclass (the ``"name (n=k)"`` label of ``a``'s), other (``b``'s superclass name, or
    :data:`WITHIN` where it is ``a``'s own). ``both_ways``: a pair of two superclasses counts under both
    (a symmetric relation listed once per pair, as intrusion)."""
    d = df.assign(superclass=df[a].astype(str).map(groups.name_of), other=df[b].astype(str).map(groups.name_of),
                  count=pd.to_numeric(df["count"], errors="coerce"))
    if both_ways:
        swap = d[d["superclass"] != d["other"]].rename(columns={"superclass": "other", "other": "superclass"})
        d = pd.concat([d, swap], ignore_index=True)
    d["other"] = d["other"].where(d["other"] != d["superclass"], WITHIN)
    d["superclass"] = d["superclass"].map(groups.labels)
    return d.groupby([*_RUN_ROWS, "superclass", "other"], sort=False)["count"].sum().reset_index()


def infiltration_table(
    infiltration, dataset, *, top=3, min_count=2, missing=None, order=None, classes=None, runs=None, groups=None
):
    """CAEC paper tables 10-13: the ``top`` most frequent infiltrated classes per cluster.

    Rows cluster (class) x rank 1..top, columns cluster metric x encoder; a cell reads
    ``other (count)`` with tied classes joined by ``, `` and only classes with at least
    ``min_count`` embeddings (the paper uses 2); ``-`` where a cluster has fewer.
    ``classes`` (all class names) and ``runs`` (DataFrame with dataset, encoder, metric) make
    clusters and runs without any infiltration appear too; by default both come from the data.

    With ``groups`` (:class:`ClassGroups`) the rows are the superclasses ``"name (n=k)"`` x rank:
    a cell names the superclasses whose embeddings lie most in the clusters of the row's classes,
    ``superclass (embeddings)``, the counts of ``infiltration`` (each class's ``top`` infiltrated classes
    with at least ``min_count`` embeddings, as the per-run table keeps them) summed over the class pairs;
    ``within`` is the row's own superclass (infiltration between classes of one superclass).
    """
    df = rows_where(infiltration, dataset=dataset)
    order = dict(order or {})
    row = "class_name" if groups is None else "superclass"
    if groups is not None:
        order[row] = list(groups.labels.values())
        counted = _superclass_counts(df, "class_name", "other_class", groups) if len(df) else df
        ranked = _top_other(counted, ["encoder", "metric", row], "other", top, 1)
        names = order[row]
    else:
        if classes is not None:
            order[row] = list(classes)
        ranked = _top_other(df, ["encoder", "metric", row], "other_class", top, min_count)
        names = (df[row].tolist() if len(df) else []) if classes is None else list(classes)
    # Every (cluster, rank) row is shown for every run, '-' where the cluster has fewer.
    runs = df if runs is None else rows_where(runs, dataset=dataset)
    runs = runs[["encoder", "metric"]].drop_duplicates() if len(runs) else pd.DataFrame(columns=["encoder", "metric"])
    if len(runs) and names:
        cls = pd.DataFrame({row: ordered_values(names, order.get(row))})
        grid = runs.merge(cls, how="cross").merge(pd.DataFrame({"rank": range(1, top + 1)}), how="cross")
        full = grid.merge(ranked, on=["encoder", "metric", row, "rank"], how="left")
        full["text"] = full["text"].fillna(NOT_APPLICABLE)
    else:  # no run of this dataset has an infiltrated class
        full = pd.DataFrame(columns=["encoder", "metric", row, "rank", "text"])
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    name = f"caec_infiltration_{dataset}"
    title = (f"CAEC clusters on {dataset}: top-{top} infiltrated classes per cluster (embeddings ≥ {min_count})"
             if groups is None else
             f"CAEC clusters on {dataset}: top-{top} infiltrating superclasses in the clusters of each superclass's "
             f"classes (embeddings summed over class pairs)")
    t = wide_table(
        full,
        [row, "rank"],
        ["metric", "encoder"],
        "text",
        name=name,
        title=title,
        direction=None,
        missing=miss,
        order=order,
    )
    t.empty_note = _empty_note(df, miss, dataset, "infiltration",
                               f"none: no cluster holds {min_count} or more embeddings of another class")
    if groups is not None:
        t.notes.append(groups.note(
            dataset, name,
            f"A cell: the superclasses whose classes' embeddings lie most in the clusters of the row's classes, "
            f"'superclass (embeddings)', summed over every class's top-{top} infiltrated classes with at least "
            f"{min_count} embeddings (what the per-run infiltration.tsv keeps), ties on one line; {WITHIN}: "
            "classes of the row's own superclass (infiltration that stays inside it)."))
    return t



def intrusion_table(intrusion, dataset, *, top=3, missing=None, order=None, groups=None):
    """CAEC paper table 14: classes whose embeddings also lie in another class's cluster.

    Rows encoder x metric x cluster, one column: ``other (count)`` for the ``top`` largest
    overlaps (``-`` rows are omitted as in the paper). With ``groups`` (:class:`ClassGroups`) the
    rows are the superclasses ``"name (n=k)"``: ``superclass (count)`` for the ``top`` superclasses
    whose classes' clusters share most embeddings with the row's, summed over the class pairs (a pair
    of two superclasses under both; ``within``: pairs inside the row's superclass).
    """
    df = rows_where(intrusion, dataset=dataset)
    row = "class_name" if groups is None else "superclass"
    if len(df):
        if groups is None:
            df = df.rename(columns={"class_a": row})
            ranked = _top_other(df, ["encoder", "metric", row], "class_b", top, 1)
        else:
            ranked = _top_other(_superclass_counts(df, "class_a", "class_b", groups, both_ways=True),
                                ["encoder", "metric", row], "other", top, 1)
        text = ranked.groupby(["encoder", "metric", row], sort=False)["text"].agg(", ".join).reset_index()
    else:
        text = pd.DataFrame(columns=["encoder", "metric", row, "text"])
    text["column"] = "overlapping embeddings"
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    order = dict(order or {})
    if groups is not None:
        order[row] = list(groups.labels.values())
    name = f"caec_intrusion_{dataset}"
    t = wide_table(
        text,
        ["encoder", "metric", row],
        ["column"],
        "text",
        name=name,
        title=f"CAEC clusters on {dataset}: intrusive classes (embeddings shared by two clusters)"
              + ("" if groups is None else ", summed per superclass"),
        direction=None,
        missing=miss,
        order=order,
    )
    t.empty_note = _empty_note(df, miss, dataset, "intrusion",
                               "none: no run has embeddings that lie in two classes' clusters")
    if groups is not None:
        t.notes.append(groups.note(
            dataset, name,
            f"A cell: the top-{top} superclasses whose classes' clusters share the most embeddings with the "
            "clusters of the row's classes, 'superclass (embeddings)', summed over the class pairs (a pair "
            f"of two superclasses counts under both); {WITHIN}: pairs of classes inside the row's superclass."))
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


def _flag_small_superclasses(table, per_class, groups, direction=None):
    """Mark (†, never bold) the superclass cells of a per-class table aggregated by superclass where more
    than half of the superclass's clusters have fewer members than caec.min_cluster_size (as a DEGENERATE
    run: the mean then rests mostly on a handful of embeddings per class); note how many are small."""
    if not len(per_class) or "small_cluster" not in per_class.columns:
        return table
    small = truthy(per_class["small_cluster"])
    df = per_class.assign(superclass=groups.label_of(per_class["class_name"].astype(str)), _small=small)
    df["_mostly_small"] = df.groupby([*_RUN_ROWS, "superclass"], sort=False)["_small"].transform("mean") > 0.5
    flag_cells(table, df, _RUN_ROWS, ["superclass"], "_mostly_small",
               f"{SMALL_CLUSTER_MARK} more than half of this superclass's classes have clusters with fewer members "
               "than caec.min_cluster_size: its mean rests on a handful of embeddings per class; never bold.",
               direction=direction)
    if small.any():
        table.notes.append(f"{int(small.sum())} of the {len(per_class)} clusters (class x run) have fewer members than "
                           "caec.min_cluster_size; their values are in the means, and the CSV marks them "
                           "(<class>/small_clusters).")
    return table


def build_caec_tables(summary, per_class, infiltration, intrusion, ttest, *, datasets, missing=None, order=None,
                      references=None, max_classes=None):
    """Every CAEC table (paper tables 1-14 layouts) from the concatenated per-run tables.

    Parameters
    ----------
    summary, per_class, infiltration, intrusion, ttest : DataFrame
        Concatenated ``summary.tsv``, ``per_class.tsv``, ``infiltration.tsv``,
        ``intrusion.tsv`` and ``ttest.tsv`` rows (see ``docs/design.md``).
    datasets : list of str, datasets with CAEC runs (one per-class table each).
    missing : dict family -> DataFrame of missing-run records (from :func:`load_run_tables`).
    references : dict dataset -> reference Newick, optional
    max_classes : int, optional (``report.max_table_classes``)
        A data set with a reference and more classes than this gets its per-class tables (3, 4,
        10-14) by superclass (:func:`class_groups`); each keeps its per-class table as ``full``,
        which its CSV holds. None (or no reference): per class.

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
        pc_miss = missing_of(missing, "per_class")

        def by_class(groups):
            def flag(t, direction=None):
                if groups is None:
                    return flag_cells(t, pc_ds, _RUN_ROWS, ["class_name"], "small_cluster", small_note,
                                      direction=direction)
                return _flag_small_superclasses(t, pc_ds, groups, direction=direction)

            return [
                flag(per_class_table(per_class, ds, "r_max", missing=pc_miss, order=order, groups=groups)),
                flag(per_class_table(per_class, ds, "coverage", missing=pc_miss, order=order, groups=groups), "max"),
                infiltration_table(infiltration, ds, missing=missing_of(missing, "infiltration"), order=order,
                                   classes=classes, runs=summary, groups=groups),
                intrusion_table(intrusion, ds, missing=missing_of(missing, "intrusion"), order=order, groups=groups),
            ]

        full = by_class(None)
        groups = class_groups((references or {}).get(ds), [] if classes is None else classes, max_classes)
        if groups is None:
            tables += full
        else:  # shown by superclass; the CSV keeps every class
            tables += [replace(t, full=f) for t, f in zip(by_class(groups), full)]
    return tables
