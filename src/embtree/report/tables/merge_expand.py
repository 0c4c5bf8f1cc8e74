"""Merge & Expand (paper 003, table I's last row): per run, clusters found, clean fraction and the
scores over all / clean / unclean embeddings, with the consistent neighbours of fig. 4c.

Repeated runs: one ``metrics.tsv`` row per seed (``seed`` column, ``merge_expand.seeds``); each
cell is the mean ± std over the seeds (:func:`~embtree.report.tables.base.wide_table`'s
``aggregate="mean_std"``, sample std), with ``(n=k)`` where it averages another number of seeds
than configured (``n_seeds``), as the heads tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree.report.common import FORMATS
from embtree.report.tables.base import SPLIT_NOTE, SPLIT_ORDER, seeds_note, split_rows, wide_table

# (column of metrics.tsv, header); descriptive columns are never bold. Printed as FORMATS says: counts as
# integers, fractions in %, the consistent neighbours (a mean count of 10) with two decimals.
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
# The data set's, not the method's: the same in every seed, printed without a std.
_NO_STD = ["classes"]


#: Paper 003 table I's baselines, from the flat stage on the same embedding (reducer ``none``).
BASELINE_COLUMNS = {"kmeans": "k-means ACC", "spectral": "spectral ACC"}


def _baseline_long(flat, rows):
    """Tidy ACC rows of the flat stage's k-means and spectral clustering on the raw embedding
    (reducer ``none``, every seed), for the columns :data:`BASELINE_COLUMNS`."""
    if flat is None or not len(flat) or "acc" not in flat.columns:
        return None
    df = flat[flat["clusterer"].astype(str).isin(BASELINE_COLUMNS) & flat["reducer"].astype(str).eq("none")]
    if not len(df):
        return None
    df = df.assign(m=df["clusterer"].map(BASELINE_COLUMNS), v=pd.to_numeric(df["acc"], errors="coerce"))
    if "split" in rows:  # the flat stage clusters the fit set only
        df = df.assign(split="fit")
    return df[rows + ["m", "v"]]


def merge_expand_table(me, *, missing=None, order=None, n_seeds=None, flat=None):
    """Rows dataset x encoder, columns :data:`ME_COLUMNS`, mean ± std over the seeds.

    ``me``: the concatenated ``metrics.tsv`` rows, one per run and seed. Each cell is the mean
    over its seeds with the sample std (one seed prints the value alone; ``classes`` never has a
    std), ``(n=k)`` where k differs from ``n_seeds`` (the configured number, ``len(merge_expand.seeds)``).
    ``missing``: the missing-run records; with ``n_seeds`` only a run without any seed's rows shows
    ``missing`` (a run short of some seeds says so by its ``(n=k)``).
    ACC is Hungarian-matched on each subset separately (the paper's clean / unclean
    accuracies); consistent nbrs = mean number of the 10 nearest neighbours sharing the
    true label. Nothing is bold: the columns describe one method, they do not compete.
    ``flat``: the flat stage's ``metrics.tsv`` rows; their k-means and spectral ACC on the raw
    embedding (reducer ``none``, mean ± std over the flat seeds) come first, as table I's
    baseline rows, beside ME's ACC over all / clean / unclean samples.
    """
    keys = [c for c, _ in ME_COLUMNS]
    rows, me = split_rows(me, ["dataset", "encoder"])
    if len(me):
        me = me.reindex(columns=list(dict.fromkeys(rows + list(me.columns) + keys)))  # eval rows lack the clean columns
        long = me.melt(id_vars=rows, value_vars=keys, var_name="m", value_name="v")
        long["m"] = long["m"].map(dict(ME_COLUMNS))
        long["v"] = pd.to_numeric(long["v"], errors="coerce")
    else:
        long = pd.DataFrame(columns=rows + ["m", "v"])
    baseline = _baseline_long(flat, rows)
    if baseline is not None and len(me):
        have = set(zip(me["dataset"].astype(str), me["encoder"].astype(str)))
        baseline = baseline[[(str(d), str(e)) in have for d, e in zip(baseline["dataset"], baseline["encoder"])]]
        long = pd.concat([baseline, long], ignore_index=True)
    if n_seeds is not None and missing is not None and len(missing) and len(me):
        # A run with some seeds found: its cells print (n=k); "missing" is for runs with none.
        found = set(zip(me["dataset"].astype(str), me["encoder"].astype(str)))
        missing = missing[[(str(d), str(e)) not in found for d, e in zip(missing["dataset"], missing["encoder"])]]
    order = dict(order or {})
    order["m"] = list(BASELINE_COLUMNS.values()) + [h for _, h in ME_COLUMNS]
    order["split"] = SPLIT_ORDER
    t = wide_table(
        long,
        rows,
        ["m"],
        "v",
        name="merge_expand",
        # "papers/003" (paper 003) is printed in the result files, as before repeated runs.
        title="Merge & Expand (papers/003 table I, last row): clusters found, clean fraction, "
              "ACC over all / clean / unclean embeddings, consistent neighbours (fig. 4c); mean ± std over seeds",
        direction=None,
        missing=missing,
        order=order,
        aggregate="mean_std",
        ddof=1,
        expected_count=n_seeds,
    )
    if t.std is not None:
        t.std.loc[:, [c for c in t.std.columns if c in _NO_STD]] = np.nan
    base_cols = [c for c in t.values.columns if c in BASELINE_COLUMNS.values()]
    if t.count is not None and base_cols:  # the flat stage's seeds, not Merge & Expand's: no (n=k)
        t.count = t.count.astype(float)
        t.count.loc[:, base_cols] = np.nan
    t.column_formats = {**{h: FORMATS.get(c, ("fixed", 2)) for c, h in ME_COLUMNS},
                        **{h: FORMATS["acc"] for h in BASELINE_COLUMNS.values()}}
    if base_cols:
        t.notes.append("k-means / spectral ACC: the flat stage's clusterings of the same embedding (reducer none, "
                       "k = the number of classes; mean ± std over flat.seeds), table I's baselines beside ME's "
                       "ACC over all / clean / unclean samples.")
    t.notes.append(seeds_note("merge_expand.seeds", n_seeds, bold=False))
    if "split" in rows:
        t.notes.append(SPLIT_NOTE + " Merge & Expand's clean / unclean demarcation is made of the fit set's "
                       "regions, so eval rows have the scores over all samples only.")
    return t
