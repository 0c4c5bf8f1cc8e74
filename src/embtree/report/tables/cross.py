"""Agreement of every hierarchy the pipeline builds with the reference tree (no paper has this table)."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import CHANCE_ALPHA, CHANCE_MARK, DIRECTIONS
from embtree.report.tables.base import mark_chance, method_table
from embtree.report.tables.l2h import l2h_method_label
from embtree.report.tables.trees import BEFORE, NULL_OF


CROSS_METRICS = {"rf": "RF", "clade_recall": "Recall", "clade_precision": "Precision", "di": "DI",
                 "di_norm": "DI/DI_max", "dp": "DP"}



def cross_method_table(trees, l2h, *, missing=None, order=None):
    """Reference-tree agreement of every hierarchy the pipeline builds (no paper has this).

    Rows encoder x method: CAEC relation trees built with the cluster metric as tree metric
    (``CAEC <metric> (G)`` / ``(P)``), UPGMA on class means before clustering, L2H per logit
    source and the agglomerative baseline; columns dataset x (RF, clade recall, clade precision,
    DI, DI/DI_max, DP). RF and DI lower is better, recall, precision and DP higher is better.
    """
    parts = []
    if len(trees):
        t = trees[trees["cluster_metric"].astype(str) == trees["tree_metric"].astype(str)].copy()
        t["method"] = "CAEC " + t["cluster_metric"].astype(str) + " (" + t["point"].astype(str) + ")"
        b = trees[trees["cluster_metric"].astype(str) == BEFORE].copy()
        b["method"] = "UPGMA before (" + b["tree_metric"].astype(str) + ")"
        parts += [t, b]
    if len(l2h):
        l_ = l2h.copy()
        l_["method"] = l_["source"].map(l2h_method_label)
        parts.append(l_)
    cols = list(CROSS_METRICS)
    p_cols = sorted({f"{n}_p" for n in NULL_OF.values()})
    p_long = None
    if parts:
        df = pd.concat([p.reindex(columns=["dataset", "encoder", "method", *cols, *p_cols]) for p in parts],
                       ignore_index=True)
        df = df.dropna(subset=cols, how="all")
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=cols, var_name="m", value_name="v")
        # the p-value of each cell's score (embtree.hierarchy.null), where the runs have one
        long["p"] = [df[f"{NULL_OF[m]}_p"].iat[i % len(df)] if m in NULL_OF else float("nan")
                     for i, m in enumerate(long["m"])]
        long["m"] = long["m"].map(CROSS_METRICS)
        p_long = long if long["p"].notna().any() else None
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    order["m"] = list(CROSS_METRICS.values())
    methods = []
    for m in order.get("metric", []):
        methods += [f"CAEC {m} (G)", f"CAEC {m} (P)"]
    methods += [f"UPGMA before ({m})" for m in order.get("metric", [])]
    methods += [l2h_method_label(s) for s in order.get("source", [])]
    order["method"] = methods
    miss = None
    if missing is not None and len(missing):
        miss = missing.copy()
        method = pd.Series(index=miss.index, dtype=object)
        for i, rec in miss.iterrows():
            cm, tm, src = (rec.get(k) for k in ("cluster_metric", "tree_metric", "source"))
            if isinstance(src, str):
                method[i] = l2h_method_label(src)
            elif cm == BEFORE:
                method[i] = f"UPGMA before ({tm})"
            elif isinstance(cm, str) and cm == tm:
                method[i] = f"CAEC {cm} ({rec.get('point')})"
        miss["method"] = method
        miss = miss.dropna(subset=["method"])[["dataset", "encoder", "method"]]
    table = method_table(
        long.drop(columns=["p"], errors="ignore"),
        name="cross_method",
        title="Agreement with the reference hierarchy: CAEC relation trees, L2H and agglomerative trees",
        missing=miss,
        order=order,
        directions={label: DIRECTIONS[m] for m, label in CROSS_METRICS.items()},
        column_formats={"RF": ("fixed", 0), "DI/DI_max": ("fixed", 3)},  # RF counts splits
    )
    if p_long is not None:
        mark_chance(table, p_long, ["encoder", "method"], ["dataset", "m"], "p",
                    f"{CHANCE_MARK} not better than chance: p >= {CHANCE_ALPHA} against random binary trees on "
                    "the same leaves (trees.null_trees; DI is judged by DI/DI_max); never bold.")
    return table
