"""Agreement of every hierarchy the pipeline builds with the reference tree (no paper has this table)."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import CHANCE_ALPHA, CHANCE_MARK, DIRECTIONS
from embtree.report.tables.base import mark_chance, method_table
from embtree.report.tables.l2h import l2h_expected, l2h_method_label, l2h_seeds_notes
from embtree.report.tables.trees import BEFORE, NULL_OF


CROSS_METRICS = {"rf": "RF", "clade_recall": "Recall", "clade_precision": "Precision", "di": "DI",
                 "di_norm": "DI/DI_max", "dp": "DP"}



def cross_method_table(trees, l2h, *, missing=None, order=None, n_seeds=None):
    """Reference-tree agreement of every hierarchy the pipeline builds (no paper has this).

    Rows encoder x method: CAEC relation trees built with the cluster metric as tree metric
    (``CAEC <metric> (G)`` / ``(P)``), UPGMA on class means before clustering, L2H per logit
    source and the agglomerative baseline; columns dataset x (RF, clade recall, clade precision,
    DI, DI/DI_max, DP). RF and DI lower is better, recall, precision and DP higher is better.
    ``l2h`` holds one row per seed of a seeded L2H source: its cells are the mean ± std over them
    (``n_seeds``: {source: configured number of trees}; fewer print ``(n=k)``, as in :func:`l2h_table`),
    and a cell is marked not better than chance when any of its seeds' trees is.
    """
    parts = []
    if len(trees):
        t = trees[trees["cluster_metric"].astype(str) == trees["tree_metric"].astype(str)].copy()
        t["method"] = "CAEC " + t["cluster_metric"].astype(str) + " (" + t["point"].astype(str) + ")"
        b = trees[trees["cluster_metric"].astype(str) == BEFORE].copy()
        b["method"] = "UPGMA before (" + b["tree_metric"].astype(str) + ")"
        parts += [t, b]
    if len(l2h) and "split" in l2h.columns:  # tree scores are the fit set's tree's; DP on the fit set
        l2h = l2h[l2h["split"].astype(str).eq("fit")]
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
        expected=l2h_expected(n_seeds),
    )
    if len(l2h):
        table.notes += l2h_seeds_notes(l2h, n_seeds)
    if p_long is not None:
        mark_chance(table, p_long, ["encoder", "method"], ["dataset", "m"], "p",
                    f"{CHANCE_MARK} not better than chance: p >= {CHANCE_ALPHA} against random binary trees on "
                    "the same leaves (trees.null_trees; DI is judged by DI/DI_max; a mean over seeds when any "
                    "seed's tree is); never bold.")
    return table
