"""L2H paper table 1 (rows encoder x method, columns dataset x metric and # leaves): :func:`l2h_table`; table 2
(runtime per data set, from the jobs' Snakemake benchmark files): :func:`l2h_runtime_table`; :func:`l2h_method_label`,
:func:`l2h_seeds_notes`.

Repeated runs: the per-run tables of a seeded source (kmeans, temi, scanv2; ``l2h.seeds``) hold
one row per seed; the tables show mean ± std over the seeds (:func:`~embtree.report.tables.base.method_table`,
sample std) with ``(n=k)`` where a cell averages fewer trees than its source's configured number.
The deterministic sources (classifier, agglomerative) have one row (one tree).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree.report.common import DIRECTIONS, LABELS
from embtree.report.tables.base import SPLIT_NOTE, SPLIT_ORDER, method_table, seeds_note, split_rows


L2H_METRICS = ["nmi", "ari", "acc", "lp", "dp", "lhd"]
#: Paper 001 table 1's "# leaves": the leaves of each method's tree (metrics.tsv ``n_leaves``; K for
#: L2H and the Ward cut). Descriptive: never bold.
LEAVES = "n_leaves"
LEAVES_LABEL = "# leaves"
#: The runtime table's one column per data set (paper 001 table 2).
SECONDS_LABEL = "wall-clock s"



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
    """L2H paper table 1: rows encoder x method, columns dataset x (NMI, ARI, ACC, LP, DP, LHD, # leaves).

    Methods are L2H per logit source and the agglomerative baseline; LHD is lower-is-better,
    the others higher-is-better. ``l2h``: the concatenated L2H ``metrics.tsv`` rows, one per seed
    of a seeded source; each cell is the mean ± std over its rows (sample std; one row prints its
    value alone), bold by the mean. ``n_seeds``: {source: configured number of trees} of the
    seeded sources; a cell averaging another number prints ``(n=k)`` and is never bold.
    "# leaves" (:data:`LEAVES`, descriptive) is the number of leaves of the method's tree, as the
    paper's table 1 gives it; a std of 0 (every seed's tree has the same leaves) is not printed.
    Per-run tables written before ``n_leaves`` existed leave that column out.
    """
    keys, l2h = split_rows(l2h, ["dataset", "encoder"])
    by_split = "split" in keys
    metrics = list(metrics)
    if LEAVES in l2h.columns and LEAVES not in metrics:
        metrics.append(LEAVES)
    labels = {**LABELS, LEAVES: LEAVES_LABEL}
    if len(l2h):
        df = l2h.copy()
        df["method"] = df["source"].map(l2h_method_label)
        if by_split:  # a held-out set: one column group per data set and split
            df["dataset"] = df["dataset"].astype(str) + " · " + df["split"].astype(str)
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=[m for m in metrics if m in df.columns],
                       var_name="m", value_name="v")
        long["m"] = long["m"].map(lambda m: labels.get(m, m))
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    if by_split and "dataset" in order:
        order["dataset"] = [f"{d} · {s}" for d in order["dataset"] for s in SPLIT_ORDER]
    order["m"] = [labels.get(m, m) for m in metrics]
    if "source" in order:
        order["method"] = [l2h_method_label(s) for s in order["source"]]
    miss = missing
    if missing is not None and len(missing) and "source" in missing.columns:
        miss = missing.assign(method=missing["source"].map(l2h_method_label))
    t = method_table(
        long,
        name="l2h",
        title="Hierarchical clustering (L2H table 1 layout): flat and hierarchy metrics per method and the "
              "leaves of its tree, mean ± std over seeds",
        missing=miss,
        order=order,
        directions={labels.get(m, m): DIRECTIONS.get(m) for m in metrics},
        column_formats={LEAVES_LABEL: ("count", 0)},
        expected=l2h_expected(n_seeds),
    )
    if t.std is not None and LEAVES_LABEL in t.values.columns.get_level_values(-1):
        leaves = np.asarray(t.values.columns.get_level_values(-1) == LEAVES_LABEL)
        same = t.std.loc[:, leaves].fillna(0).eq(0)
        t.std.loc[:, leaves] = t.std.loc[:, leaves].where(~same)
        t.notes.append(f"{LEAVES_LABEL}: the leaves of each method's tree (paper 001 table 1: K for L2H and "
                       "the Ward baseline cut at K), printed alone where every seed's tree has the same number.")
    t.notes += l2h_seeds_notes(l2h, n_seeds)
    if by_split:
        t.notes.append(SPLIT_NOTE + " L2H: the tree is built from the fit set; held-out samples are placed as "
                       "the source places its own (argmax of their logits, nearest k-means centre or Ward "
                       "centroid).")
    return t


def _size_label(dataset, sizes):
    """``"cifar10 (K = 10, N = 10,000)"``: the data set with its leaves and samples (paper 001 table 2's
    header) from the L2H fit rows of ``sizes`` (metrics.tsv ``n_leaves`` / ``n_samples``), else its name."""
    if sizes is None or not len(sizes) or "n_leaves" not in sizes.columns:
        return str(dataset)
    rows = sizes[(sizes["dataset"].astype(str) == str(dataset))]
    if "split" in rows.columns:
        rows = rows[rows["split"].astype(str) == "fit"]
    k = sorted(pd.to_numeric(rows["n_leaves"], errors="coerce").dropna().astype(int).unique())
    n = sorted(pd.to_numeric(rows["n_samples"], errors="coerce").dropna().astype(int).unique()) \
        if "n_samples" in rows.columns else []
    parts = ([f"K = {'/'.join(str(x) for x in k)}"] if k else []) + ([f"N = {'/'.join(f'{x:,}' for x in n)}"] if n else [])
    return f"{dataset} ({', '.join(parts)})" if parts else str(dataset)


def l2h_runtime_table(bench, *, missing=None, order=None, n_seeds=None, sizes=None):
    """L2H paper table 2: the runtime of every L2H / agglomerative job per data set, in wall-clock seconds.

    ``bench``: one row per job read by :func:`embtree.report.load.load_benchmarks` (dataset, encoder,
    source, seed, ``s``); rows encoder x method, columns data set (labelled with K and N from ``sizes``,
    the L2H ``metrics.tsv`` rows), each cell the mean ± std over the source's seeds. ``missing``: the
    jobs without a benchmark file; their cells print ``missing`` (or ``(n=k)`` where some seeds have
    one) and a note names them, so results copied from another machine still give a table.
    A job's time is all of it (reading the embeddings, the tree, its bootstrap replicates, the scores,
    the dendrogram), not the algorithm alone as the paper's top rows: the caption says so.
    """
    cols = ["dataset", "encoder", "method", "m", "v"]
    if bench is not None and len(bench):
        long = bench.assign(method=bench["source"].map(l2h_method_label), m=SECONDS_LABEL, v=bench["s"])[cols]
    else:
        long = pd.DataFrame(columns=cols)
    miss = None
    if missing is not None and len(missing):
        miss = missing.assign(method=missing["source"].map(l2h_method_label), m=SECONDS_LABEL)
    labels = {}
    for ds in set(long["dataset"].astype(str)) | (set(miss["dataset"].astype(str)) if miss is not None else set()):
        labels[ds] = _size_label(ds, sizes)
    long = long.assign(dataset=long["dataset"].astype(str).map(labels))
    if miss is not None:
        # A missing job whose cell has other seeds' times keeps them ((n=k)); a cell with none prints missing.
        have = set(zip(long["dataset"], long["encoder"], long["method"]))
        miss = miss.assign(dataset=miss["dataset"].astype(str).map(labels))
        miss_cells = miss[[(d, e, m) not in have for d, e, m in zip(miss["dataset"], miss["encoder"], miss["method"])]]
    order = dict(order or {})
    if "dataset" in order:
        order["dataset"] = [labels.get(str(d), str(d)) for d in order["dataset"]]
    if "source" in order:
        order["method"] = [l2h_method_label(s) for s in order["source"]]
    t = method_table(
        long,
        name="l2h_runtime",
        title="Runtime per data set (L2H table 2 layout): wall-clock seconds of each L2H / agglomerative job "
              "on this machine, mean ± std over seeds",
        missing=miss_cells if miss is not None and len(miss_cells) else None,
        order=order,
        directions={SECONDS_LABEL: None},
        column_formats={SECONDS_LABEL: ("fixed", 2)},
        expected=l2h_expected(n_seeds),
    )
    t.notes.append("Seconds: wall-clock time of the whole Snakemake job (logs/benchmarks/.../l2h/; read from the "
                   "jobs' benchmark files, never from the results), on this machine and its load: reading the "
                   "embeddings, the tree, its trees.bootstrap replicates, the scores and the dendrogram. "
                   "Paper 001's top rows time the algorithm alone; its bottom rows add the flat model's training, "
                   "which embtree's heads / k-means jobs hold.")
    if miss is not None and len(miss):
        jobs = ", ".join(f"{r.dataset} / {r.encoder} / {r.source}" + ("" if pd.isna(getattr(r, "seed", np.nan))
                                                                        else f" seed {int(r.seed)}")
                         for r in missing.itertuples())
        t.notes.append(f"No benchmark file for {len(miss)} job(s) ({jobs}): results copied from elsewhere, or "
                       "jobs run before their benchmark was written; those cells print missing, or average the "
                       "seeds that have one ((n=k)).")
    if len(long):
        t.notes += [n for n in l2h_seeds_notes(bench, n_seeds) if not n.startswith("Seeds per source")]
    return t
