"""L2H paper table 1 (rows encoder x method, columns dataset x metric): :func:`l2h_table`, :func:`l2h_method_label`."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import DIRECTIONS, LABELS
from embtree.report.tables.base import method_table


L2H_METRICS = ["nmi", "ari", "acc", "lp", "dp", "lhd"]



def l2h_method_label(source):
    """Row label of an L2H source: ``L2H (<source>)``, or ``agglomerative`` for the baseline."""
    return "agglomerative" if source == "agglomerative" else f"L2H ({source})"



def l2h_table(l2h, *, missing=None, order=None, metrics=L2H_METRICS):
    """L2H paper table 1: rows encoder x method, columns dataset x (NMI, ARI, ACC, LP, DP, LHD).

    Methods are L2H per logit source and the agglomerative baseline; LHD is lower-is-better,
    the others higher-is-better.
    """
    if len(l2h):
        df = l2h.copy()
        df["method"] = df["source"].map(l2h_method_label)
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=list(metrics), var_name="m", value_name="v")
        long["m"] = long["m"].map(lambda m: LABELS.get(m, m))
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    order["m"] = [LABELS.get(m, m) for m in metrics]
    if "source" in order:
        order["method"] = [l2h_method_label(s) for s in order["source"]]
    miss = missing
    if missing is not None and len(missing) and "source" in missing.columns:
        miss = missing.assign(method=missing["source"].map(l2h_method_label))
    return method_table(
        long,
        name="l2h",
        title="Hierarchical clustering (L2H table 1 layout): flat and hierarchy metrics per method",
        missing=miss,
        order=order,
        directions={LABELS.get(m, m): DIRECTIONS.get(m) for m in metrics},
    )
