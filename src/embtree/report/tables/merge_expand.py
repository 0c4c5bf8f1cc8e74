"""Merge & Expand (paper 003, table I's last row): per run, clusters found, clean fraction and the
scores over all / clean / unclean embeddings, with the consistent neighbours of fig. 4c."""

from __future__ import annotations

import pandas as pd

from embtree.report.tables.base import wide_table

# (column of metrics.tsv, header); descriptive columns are never bold.
ME_COLUMNS = [
    ("n_classes", "classes"),
    ("n_clusters", "clusters found"),
    ("clean_fraction", "clean fraction"),
    ("acc_all", "ACC all"),
    ("acc_clean", "ACC clean"),
    ("acc_unclean", "ACC unclean"),
    ("nmi_all", "NMI all"),
    ("ami_all", "AMI all"),
    ("consistent_clean", "consistent nbrs clean"),
    ("consistent_unclean", "consistent nbrs unclean"),
]


def merge_expand_table(me, *, missing=None, order=None):
    """Rows dataset x encoder, columns :data:`ME_COLUMNS` (one row of metrics.tsv per run).

    ACC is Hungarian-matched on each subset separately (the paper's clean / unclean
    accuracies); consistent nbrs = mean number of the 10 nearest neighbours sharing the
    true label. Nothing is bold: the columns describe one method, they do not compete.
    """
    keys = [c for c, _ in ME_COLUMNS]
    if len(me):
        long = me.melt(id_vars=["dataset", "encoder"], value_vars=keys, var_name="m", value_name="v")
        long["m"] = long["m"].map(dict(ME_COLUMNS))
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "m", "v"])
    order = dict(order or {})
    order["m"] = [h for _, h in ME_COLUMNS]
    return wide_table(
        long,
        ["dataset", "encoder"],
        ["m"],
        "v",
        name="merge_expand",
        # "papers/003" (paper 003) is printed in the result files; kept so they stay byte-identical.
        title="Merge & Expand (papers/003 table I, last row): clusters found, clean fraction, "
              "ACC over all / clean / unclean embeddings, consistent neighbours (fig. 4c)",
        direction=None,
        missing=missing,
        order=order,
    )
