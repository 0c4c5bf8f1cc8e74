"""CAEC paper tables 17-18: relation-tree distances to the reference, per dataset."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import CHANCE_ALPHA, CHANCE_MARK, DIRECTIONS, FORMATS
from embtree.report.tables.base import mark_chance, missing_of, rows_where, wide_table


BEFORE = "before"

#: Per-dataset tree tables (``trees_<value>_<dataset>``), with a title phrase saying what the
#: value means against a (usually multifurcating) reference.
TREE_VALUES = {
    "rf": "Robinson-Foulds distance (unrooted splits in one tree only; counts the resolution of polytomies too)",
    "clade_recall": "clade recall (share of the reference's clades in the tree)",
    "clade_precision": "clade precision (share of the tree's clades compatible with the reference)",
    "di": "Deformity Index (DefIn; grows with the tree size)",
    "di_norm": "bounded Deformity Index DI/DI_max (0-1, comparable across tree sizes)",
    "rf_norm": "normalised RF",
}

#: The null-distribution column (``<score>_p`` / ``_chance`` of embtree.hierarchy.null) of each
#: value: DI and DI/DI_max rank trees alike (DI_max depends on the reference only).
NULL_OF = {"rf": "rf", "clade_recall": "clade_recall", "clade_precision": "clade_precision",
           "di": "di_norm", "di_norm": "di_norm"}

#: The values that get a table per dataset (the report rules list the same names).
REPORTED_TREE_VALUES = ("rf", "clade_recall", "clade_precision", "di", "di_norm")



def tree_distance_table(trees, dataset, value, *, missing=None, order=None):
    """CAEC paper tables 17 (``value="rf"``) and 18 (``"di"``) for one dataset, or any other
    column of :data:`TREE_VALUES` (clade recall / precision, bounded DI).

    Rows encoder x cluster metric (plus a ``before`` row: UPGMA on the class means before
    cluster growing, which has no G / P distinction and is shown under both), columns tree
    metric x point (G, P). The best per column is bold (RF, DI: lowest; recall, precision:
    highest, :data:`~embtree.report.common.DIRECTIONS`).
    """
    df = rows_where(trees, dataset=dataset)
    if len(df):
        df = df.copy()
        before = df["cluster_metric"].astype(str) == BEFORE
        dup = df[before].drop(columns=["point"]).merge(pd.DataFrame({"point": ["G", "P"]}), how="cross")
        df = pd.concat([df[~before], dup], ignore_index=True)
    order = dict(order or {})
    order.setdefault("point", ["G", "P"])
    if "metric" in order:
        order.setdefault("cluster_metric", [*order["metric"], BEFORE])
        order.setdefault("tree_metric", order["metric"])
    miss = rows_where(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = TREE_VALUES.get(value, value)
    better = {"min": "lower is better", "max": "higher is better"}.get(DIRECTIONS.get(value), "")
    table = wide_table(
        df,
        ["encoder", "cluster_metric"],
        ["tree_metric", "point"],
        value,
        name=f"trees_{value}_{dataset}",
        title=f"Relation trees on {dataset}: {label} against the reference (UPGMA on G / P; {better})",
        missing=miss,
        order=order,
    )  # RF counts splits (an integer), DI/DI_max three decimals (often < 0.01), recall / precision in %
    return chance_note(table, df, ["encoder", "cluster_metric"], ["tree_metric", "point"], value)


def chance_note(table, df, rows, cols, value):
    """Mark the cells of ``value`` not better than chance and note the chance level (the null of
    ``trees.null_trees`` random trees on the reference's leaves), where the rows carry one."""
    null = NULL_OF.get(value)
    if null is None or f"{null}_p" not in df.columns:
        return table
    chance = pd.to_numeric(df[f"{null}_chance"], errors="coerce").dropna().unique()
    pct = FORMATS.get(null, ("fixed", 2))[0] == "percent"
    level = ", ".join(f"{100 * c:.3g} %" if pct else f"{c:.3g}" for c in sorted(chance))
    what = "DI/DI_max" if null != value else TREE_VALUES.get(value, value).split(" (")[0]
    table.notes.append(f"Chance level of {what} (mean over random binary trees on the same leaves, "
                       f"trees.null_trees / trees.null_model): {level}.")
    mark_chance(table, df, rows, cols, f"{null}_p",
                f"{CHANCE_MARK} not better than chance: p >= {CHANCE_ALPHA} against the random trees "
                f"({null}_p, the share of random trees scoring at least as well); never bold.")
    if not table.chance.to_numpy().any() and table.values.notna().to_numpy().any():
        table.notes.append(f"Every score in the table is better than chance (p < {CHANCE_ALPHA}).")
    return table



def build_tree_tables(trees, *, datasets, missing=None, order=None):
    """Relation-tree tables for every dataset with a reference: 17 (RF), 18 (DI) and the clade
    recall / precision and bounded DI (:data:`REPORTED_TREE_VALUES`)."""
    return [
        tree_distance_table(trees, ds, value, missing=missing_of(missing, "trees"), order=order)
        for ds in datasets
        for value in REPORTED_TREE_VALUES
    ]
