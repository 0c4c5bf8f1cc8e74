"""L2H paper table 1 (rows encoder x method, columns dataset x metric): :func:`l2h_table`, :func:`l2h_method_label`,
:func:`l2h_seeds_notes`.

Repeated runs: the per-run tables of a seeded source (kmeans, temi, scanv2; ``l2h.seeds``) hold
one row per seed; the tables show mean ± std over the seeds (:func:`~embtree.report.tables.base.method_table`,
sample std) with ``(n=k)`` where a cell averages fewer trees than its source's configured number.
The deterministic sources (classifier, agglomerative) have one row (one tree).
"""

from __future__ import annotations

import pandas as pd

from embtree.report.common import DIRECTIONS, LABELS
from embtree.report.tables.base import SPLIT_NOTE, SPLIT_ORDER, method_table, seeds_note, split_rows


L2H_METRICS = ["nmi", "ari", "acc", "lp", "dp", "lhd"]



def l2h_method_label(source):
    """Row label of an L2H source: ``L2H (<source>)``, or ``agglomerative`` for the baseline."""
    return "agglomerative" if source == "agglomerative" else f"L2H ({source})"


def l2h_expected(n_seeds):
    """{method label: configured number of trees} of ``n_seeds`` ({source: number}), for ``method_table``."""
    return {l2h_method_label(src): int(n) for src, n in (n_seeds or {}).items()}


def l2h_seeds_notes(l2h, n_seeds):
    """The notes of a table averaging the per-seed L2H rows of ``l2h`` (``n_seeds``: {seeded source:
    configured number of trees}): what was averaged, the number per source, one tree for the others."""
    sources = list(dict.fromkeys(l2h["source"])) if len(l2h) else []
    seeded = [s for s in sources if s in (n_seeds or {})]
    if not seeded:
        return []
    labels = " / ".join(l2h_method_label(s) for s in seeded)
    notes = [seeds_note("l2h.seeds", None, subject=labels)]
    per = ", ".join(f"{s} {n_seeds[s]}" for s in seeded)
    heads = [s for s in seeded if s in ("temi", "scanv2")]
    notes.append(f"Seeds per source: {per}" + (
        f" ({' and '.join(heads)}: the seeds of l2h.seeds that heads.seeds also trains, each tree built on "
        "the heads run of its seed)" if heads else "") + ".")
    once = [s for s in sources if s not in seeded]
    if once:
        notes.append(f"{' and '.join(l2h_method_label(s) for s in once)}: deterministic, one tree "
                     "(with the first of l2h.seeds), no std.")
    return notes


def l2h_table(l2h, *, missing=None, order=None, metrics=L2H_METRICS, n_seeds=None):
    """L2H paper table 1: rows encoder x method, columns dataset x (NMI, ARI, ACC, LP, DP, LHD).

    Methods are L2H per logit source and the agglomerative baseline; LHD is lower-is-better,
    the others higher-is-better. ``l2h``: the concatenated L2H ``metrics.tsv`` rows, one per seed
    of a seeded source; each cell is the mean ± std over its rows (sample std; one row prints its
    value alone), bold by the mean. ``n_seeds``: {source: configured number of trees} of the
    seeded sources; a cell averaging another number prints ``(n=k)`` and is never bold.
    """
    keys, l2h = split_rows(l2h, ["dataset", "encoder"])
    by_split = "split" in keys
    if len(l2h):
        df = l2h.copy()
        df["method"] = df["source"].map(l2h_method_label)
        if by_split:  # a held-out set: one column group per data set and split
            df["dataset"] = df["dataset"].astype(str) + " · " + df["split"].astype(str)
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=list(metrics), var_name="m", value_name="v")
        long["m"] = long["m"].map(lambda m: LABELS.get(m, m))
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    if by_split and "dataset" in order:
        order["dataset"] = [f"{d} · {s}" for d in order["dataset"] for s in SPLIT_ORDER]
    order["m"] = [LABELS.get(m, m) for m in metrics]
    if "source" in order:
        order["method"] = [l2h_method_label(s) for s in order["source"]]
    miss = missing
    if missing is not None and len(missing) and "source" in missing.columns:
        miss = missing.assign(method=missing["source"].map(l2h_method_label))
    t = method_table(
        long,
        name="l2h",
        title="Hierarchical clustering (L2H table 1 layout): flat and hierarchy metrics per method, "
              "mean ± std over seeds",
        missing=miss,
        order=order,
        directions={LABELS.get(m, m): DIRECTIONS.get(m) for m in metrics},
        expected=l2h_expected(n_seeds),
    )
    t.notes += l2h_seeds_notes(l2h, n_seeds)
    if by_split:
        t.notes.append(SPLIT_NOTE + " L2H: the tree is built from the fit set; held-out samples are placed as "
                       "the source places its own (argmax of their logits, nearest k-means centre or Ward "
                       "centroid).")
    return t
