"""CAEC paper tables 17-18: relation-tree distances to the reference, per dataset."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import DIRECTIONS
from embtree.report.tables.base import missing_of, rows_where, wide_table


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
    return wide_table(
        df,
        ["encoder", "cluster_metric"],
        ["tree_metric", "point"],
        value,
        name=f"trees_{value}_{dataset}",
        title=f"Relation trees on {dataset}: {label} against the reference (UPGMA on G / P; {better})",
        missing=miss,
        order=order,
        decimals={"rf": 0, "di_norm": 3}.get(value, 2),  # RF counts splits; DI/DI_max is often < 0.01
    )



def build_tree_tables(trees, *, datasets, missing=None, order=None):
    """Relation-tree tables for every dataset with a reference: 17 (RF), 18 (DI) and the clade
    recall / precision and bounded DI (:data:`REPORTED_TREE_VALUES`)."""
    return [
        tree_distance_table(trees, ds, value, missing=missing_of(missing, "trees"), order=order)
        for ds in datasets
        for value in REPORTED_TREE_VALUES
    ]
