"""CAEC paper tables 17-18: relation-tree distances to the reference, per dataset."""

from __future__ import annotations

import pandas as pd

from embtree.report.table import _for, _subset, wide_table


BEFORE = "before"



def tree_distance_table(trees, dataset, value, *, missing=None, order=None):
    """CAEC paper tables 17 (``value="rf"``) and 18 (``"di"``) for one dataset.

    Rows encoder x cluster metric (plus a ``before`` row: UPGMA on the class means before
    cluster growing, which has no G / P distinction and is shown under both), columns tree
    metric x point (G, P). Lower is better: the minimum per column is bold.
    """
    df = _subset(trees, dataset=dataset)
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
    miss = _subset(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = {"rf": "Robinson-Foulds distance", "di": "Deformity Index", "rf_norm": "normalised RF"}.get(value, value)
    return wide_table(
        df,
        ["encoder", "cluster_metric"],
        ["tree_metric", "point"],
        value,
        name=f"trees_{value}_{dataset}",
        title=f"Relation trees on {dataset}: {label} to the reference (UPGMA on G / P; lower is better)",
        missing=miss,
        order=order,
        decimals=0 if value == "rf" else 2,
    )



def build_tree_tables(trees, *, datasets, missing=None, order=None):
    """Relation-tree tables 17 (RF) and 18 (DI) for every dataset with a reference."""
    out = []
    for ds in datasets:
        out += [
            tree_distance_table(trees, ds, "rf", missing=_for(missing, "trees"), order=order),
            tree_distance_table(trees, ds, "di", missing=_for(missing, "trees"), order=order),
        ]
    return out
