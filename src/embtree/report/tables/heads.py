"""Deep clustering heads (paper 002): table 1 as the paper has it (:func:`heads_summary_table`) and
with every metric (:func:`heads_table`), the fine-grained benchmarks of table 2
(:func:`heads_benchmarks_table`), per-head spread, accuracy vs coarse depth.

Values are the per-run fractions (the CSV keeps them); the text formats print them in %.

Repeated runs: the per-run tables hold one row per seed (``seed`` column, ``heads.seeds``); the
method tables show mean ± std over the seeds (:func:`~embtree.report.tables.base.wide_table`'s
``aggregate="mean_std"``, sample std), with ``(n=k)`` where a cell averages another number of
seeds than configured (``n_seeds``); the spread table keeps one row per seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree.report.common import FORMATS
from embtree.report.tables.base import (
    SPLIT_NOTE,
    SPLIT_ORDER,
    ReportTable,
    apply_bold,
    mark_baselines,
    seeds_note,
    split_rows,
    wide_table,
)

HEADS_METRICS = ["acc", "nmi", "ari", "top5_acc", "msp_mean", "ece"]
_LABEL = {"acc": "ACC", "nmi": "NMI", "ari": "ARI", "top5_acc": "top-5→1", "msp_mean": "mean MSP", "ece": "ECE"}
_DIRECTION = {"ACC": "max", "NMI": "max", "ARI": "max", "top-5→1": "max", "mean MSP": None, "ECE": "min"}
METHOD_LABELS = {"kmeans": "k-means (cosine)", "temi": "TEMI", "scanv2": "SCANv2"}
#: The linear probe (embtree.probe): supervised, the ceiling of the clustering methods (paper 002
#: table 1's "Probing" column), never bold.
PROBE_LABEL = "linear probe"
METHOD_ORDER = [PROBE_LABEL, "k-means (cosine)", "TEMI", "SCANv2"]


_PERCENT = FORMATS["acc"]


def _long(df, labels):
    """Tidy (dataset, encoder, method label, [seed,] [split,] m = metric label, v as a fraction) of the
    ``labels`` columns."""
    if not len(df):
        return pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    df = df.assign(method=df["method"].map(lambda m: METHOD_LABELS.get(m, m)))
    for c in labels:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    ids = ["dataset", "encoder", "method"] + [c for c in ("seed", "split") if c in df.columns]
    long = df.melt(id_vars=ids, value_vars=list(labels), var_name="m", value_name="v")
    long["m"] = long["m"].map(labels)
    return long


def _probe_long(probe, with_split=False):
    """Tidy ACC / top-5 rows of the probe's ``metrics.tsv`` rows, method = :data:`PROBE_LABEL`
    (``with_split``: one row per split, else the fit rows alone)."""
    if probe is None or not len(probe):
        return None
    df = (probe if with_split else probe[probe["split"] == "fit"]).assign(method="probe")
    long = _long(df, {"acc": _LABEL["acc"], "top5_acc": _LABEL["top5_acc"]})
    long["method"] = PROBE_LABEL
    return long


def _seeds_note(n_seeds):
    return seeds_note("heads.seeds", n_seeds, subject="Clustering methods")


#: Recall@k below which an approximate kNN backend's note reads as a caution (heads_knn.py warns too).
KNN_RECALL_CAUTION = 0.95


def knn_note(knn):
    """The note naming how TEMI / SCANv2's neighbours were mined where a backend is approximate:
    per run its backend, recall@k against exact neighbours and the rows it was measured on, a
    caution below :data:`KNN_RECALL_CAUTION`; None where every run used exact neighbours.

    ``knn``: the runs' ``heads/knn_recall.tsv`` rows (dataset, encoder, backend, k, nlist, nprobe,
    recall_rows, recall)."""
    if knn is None or not len(knn) or knn["backend"].eq("exact").all():
        return None
    parts, low = [], False
    for r in knn.itertuples():
        if r.backend == "exact":
            parts.append(f"{r.dataset} / {r.encoder}: exact")
            continue
        ivf = f", nlist {int(r.nlist)}, nprobe {int(r.nprobe)}" if r.backend == "faiss-ivf" else ""
        parts.append(f"{r.dataset} / {r.encoder}: {r.backend}{ivf}, recall@{int(r.k)} {100 * r.recall:.1f} % "
                     f"on {int(r.recall_rows):,} seeded rows")
        low = low or r.recall < KNN_RECALL_CAUTION
    text = ("TEMI / SCANv2 neighbours (heads.knn_backend; recall against exact neighbours): " + "; ".join(parts)
            + ".")
    if low:
        text = (f"Caution: a recall below {100 * KNN_RECALL_CAUTION:.0f} % means the heads trained on other "
                "neighbours than exact search gives (raise heads.knn_nprobe or use faiss-flat / exact). " + text)
    return text


def heads_table(metrics, *, probe=None, order=None, n_seeds=None):
    """Paper 002 table 1, methods as rows (it fits a page): rows dataset x encoder x method, columns
    ACC, NMI, ARI, top-5, mean MSP, ECE (printed in %).

    ``metrics``: the concatenated heads ``metrics.tsv`` rows (granularity ``classes`` used), one
    per seed; each cell is the mean ± std over its seeds (sample std; one seed prints the value
    alone), ``(n=k)`` where k differs from ``n_seeds`` (the configured number).
    ``probe``: the concatenated probe ``metrics.tsv`` rows (:func:`embtree.probe.linear_probe`),
    a ``linear probe`` row per encoder with the ACC / top-5 ceiling (its ``fit`` row: no seed, no
    std), never bold (an unranked row). Bold: the best (encoder, method) of each data set [and
    split] per metric (:func:`~embtree.report.tables.base.apply_bold`; ECE lowest, MSP none).
    """
    df = metrics[metrics["granularity"] == "classes"] if len(metrics) else metrics
    rows, df = split_rows(df, ["dataset", "encoder"])
    long = _long(df, {m: _LABEL[m] for m in HEADS_METRICS})
    probe_long = _probe_long(probe, with_split="split" in rows)
    if probe_long is not None:
        long = pd.concat([probe_long, long], ignore_index=True)
    o = dict(order or {})
    o["method"] = METHOD_ORDER
    o["m"] = [_LABEL[m] for m in HEADS_METRICS]
    o["split"] = SPLIT_ORDER
    t = wide_table(long, [*rows, "method"], ["m"], "v", name="heads",
                   title="Deep clustering heads (paper 002 table 1, methods as rows), mean ± std over seeds "
                         "(ECE lower is better)",
                   direction=None, order=o, number_format=_PERCENT[0], decimals=_PERCENT[1],
                   aggregate="mean_std", ddof=1, expected_count=n_seeds)
    method = t.values.index.get_level_values("method") if len(t.values) else pd.Index([])
    if t.count is not None:  # the probe is one fit, not a seed: no n
        t.count = t.count.astype(float)
        t.count.loc[np.asarray(method == PROBE_LABEL)] = np.nan
    t.unranked = pd.Series(np.asarray(method == PROBE_LABEL, dtype=bool), index=t.values.index)
    t.directions = dict(_DIRECTION)
    t.compare_by = [r for r in rows if r != "encoder"]  # every encoder and method of a data set [and split]
    apply_bold(t)
    t.notes.append(_seeds_note(n_seeds))
    t.notes.append("k-means has no soft assignments: MSP and ECE do not apply.")
    if "split" in rows:
        t.notes.append(SPLIT_NOTE)
    if probe_long is not None:
        protocols = sorted(set(probe["protocol"].astype(str)))
        t.notes.append(f"{PROBE_LABEL}: multinomial logistic regression on standardised embeddings "
                       f"({', '.join(protocols)}; best C of the grid), the supervised ceiling of the "
                       "clustering methods (paper 002, table 1 'Probing'); never bold."
                       + (" Its fit row is the training accuracy, its eval row the held-out accuracy."
                          if "split" in rows else ""))
    return t


def heads_spread_table(per_head, *, order=None):
    """Spread over the H heads, one row per seed: ACC of the selected (lowest-loss) head, min /
    median / max over heads (each seed trains its own H heads and selects one)."""
    rows = []
    if len(per_head):
        df = per_head[per_head["granularity"] == "classes"]
        if "seed" not in df.columns:  # a per-run table from before heads.seeds: one run
            df = df.assign(seed=0)
        _, df = split_rows(df, ["dataset", "encoder", "method", "seed"])  # always has a split column
        for key, g in df.groupby(["dataset", "encoder", "method", "seed", "split"], sort=False):
            acc = g["acc"].to_numpy(dtype=float)
            sel = g["selected"].astype(str).str.lower().eq("true").to_numpy()
            rows.append({"dataset": key[0], "encoder": key[1], "method": METHOD_LABELS.get(key[2], key[2]),
                         "seed": int(key[3]), "split": key[4],
                         "selected head": int(g["head"].to_numpy()[sel][0]) if sel.any() else np.nan,
                         "ACC selected": float(acc[sel][0]) if sel.any() else np.nan,
                         "ACC min": acc.min(), "ACC median": float(np.median(acc)), "ACC max": acc.max(),
                         "heads": len(acc),
                         "rank of selected": int((acc > acc[sel][0]).sum() + 1) if sel.any() else np.nan})
    cols = ["selected head", "ACC selected", "ACC min", "ACC median", "ACC max", "heads", "rank of selected"]
    keys = ["dataset", "encoder", "method", "seed"]
    df = pd.DataFrame(rows, columns=keys + ["split"] + cols)
    if df["split"].eq("eval").any():
        keys = ["dataset", "encoder", "split", "method", "seed"]
    long = df.melt(id_vars=keys, value_vars=cols, var_name="m", value_name="v")
    o = dict(order or {})
    o["method"] = METHOD_ORDER
    o["seed"] = sorted(set(df["seed"]))
    o["split"] = SPLIT_ORDER
    o["m"] = cols
    t = wide_table(long, keys, ["m"], "v", name="heads_spread",
                   title="Spread over heads: ACC of the lowest-loss head against all heads, per seed",
                   direction=None, order=o, number_format=_PERCENT[0], decimals=_PERCENT[1])
    t.column_formats = {"selected head": ("count", 0), "heads": ("count", 0), "rank of selected": ("count", 0)}
    if "split" in keys:
        t.notes.append("The head is selected by its training loss on the fit set; eval rows score that "
                       "head, and every other, on the held-out set.")
    return t


def coarse_depth_long(metrics):
    """Tidy ACC (%) per dataset, encoder, method, depth (``classes`` = the full tree depth, as ``fine``)
    and seed (one row per seed; ``seed`` 0 for per-run tables without the column)."""
    if not len(metrics):
        return pd.DataFrame(columns=["dataset", "encoder", "method", "depth", "seed", "split", "acc", "n_targets"])
    df = metrics.copy()
    df["depth"] = df["granularity"].map(lambda g: "classes" if g == "classes" else int(str(g)[5:]))
    df["method"] = df["method"].map(lambda m: METHOD_LABELS.get(m, m))
    df["acc"] = 100 * pd.to_numeric(df["acc"], errors="coerce")
    if "seed" not in df.columns:
        df["seed"] = 0
    if "split" not in df.columns:
        df["split"] = "fit"
    return df[["dataset", "encoder", "method", "depth", "seed", "split", "acc", "n_targets"]]


def heads_depth_table(metrics, *, order=None, n_seeds=None):
    """Class granularity (paper 002 fig. 2 left, as a table): ACC (%) per method vs max depth d,
    mean ± std over seeds (bold: the best mean per dataset x encoder and depth)."""
    rows, long = split_rows(coarse_depth_long(metrics), ["dataset", "encoder", "method"])
    long = long.assign(col=long["depth"].map(lambda d: "classes" if d == "classes" else f"d = {d}"))
    depths = sorted({d for d in long["depth"] if d != "classes"})
    o = dict(order or {})
    o["method"] = METHOD_ORDER
    o["col"] = [f"d = {d}" for d in depths] + ["classes"]
    o["split"] = SPLIT_ORDER
    long = long.assign(acc=long["acc"] / 100)  # coarse_depth_long is in % (the figure's unit)
    t = wide_table(long, rows, ["col"], "acc", name="heads_depth",
                   title="Clustering ACC vs maximum hierarchy depth d of the reference tree, "
                         "mean ± std over seeds",
                   direction="max", order=o, aggregate="mean_std", ddof=1, expected_count=n_seeds)
    t.compare_by = [r for r in rows if r != "method"]  # the methods of one data set x encoder [x split]
    t.empty_note = "none: no heads run at a coarse depth has finished (heads.depths)"
    apply_bold(t)
    t.notes.append(_seeds_note(n_seeds))
    if "split" in rows:
        t.notes.append(SPLIT_NOTE)
    if len(long):
        # How many (coarse) classes each column clusters, and the accuracy of chance: a clustering
        # that ignores the data, Hungarian-matched, scores about 1/k on k balanced classes.
        k = long.groupby(["dataset", "col"], sort=False)["n_targets"].first()
        per_ds = []
        for ds in dict.fromkeys(long["dataset"]):
            parts = [f"{col}: k = {int(k[(ds, col)])} (chance ≈ {100 / int(k[(ds, col)]):.1f} %)"
                     for col in o["col"] if (ds, col) in k.index and pd.notna(k[(ds, col)])]
            per_ds.append(f"{ds}: " + ", ".join(parts))
        t.notes.append("Classes clustered per column (k) and chance, about 100/k % on balanced classes: "
                       + "; ".join(per_ds) + ".")
    return t


MULTI_METRICS = {"acc": "top-1→1", "top1_l": "top-1→L", "top5_acc": "top-5→1", "top5_l": "top-5→L"}


def heads_multilabel_table(metrics, *, order=None, n_seeds=None):
    """Multi-label accuracies (paper 002 table 4 layout), %: top-1/top-5 against the label
    set S_L (a multi_labels file and/or the reference tree's ancestor classes), beside the
    single-label ones. Rows without label sets are left out."""
    df = metrics[metrics["granularity"] == "classes"] if len(metrics) else metrics
    if "top1_l" in df:
        df = df[pd.to_numeric(df["top1_l"], errors="coerce").notna()]
    else:
        df = df.iloc[:0]
    long = _long(df, MULTI_METRICS)
    o = dict(order or {})
    o["method"] = METHOD_ORDER
    o["m"] = list(MULTI_METRICS.values())
    t = wide_table(long, ["dataset", "encoder", "method"], ["m"], "v", name="heads_multilabel",
                   title="Multi-label clustering accuracy (paper 002 table 4 layout), mean ± std over seeds",
                   direction=None, order=o, number_format=_PERCENT[0], decimals=_PERCENT[1], aggregate="mean_std", ddof=1, expected_count=n_seeds)
    t.notes.append("→L: correct when the Hungarian-mapped prediction is in the sample's label set S_L (the map is "
                   "estimated from top-1 and the class); equal to →1 where every S_L is the class alone.")
    return t


# Paper 002 tables 1 and 2: the data set's size, the probe's ceiling, then each method's ACC.
SUMMARY_COLUMNS = ["# samples", "# classes", "Probing", "k-means", "TEMI", "SCANv2"]
_SHORT = {"kmeans": "k-means", "temi": "TEMI", "scanv2": "SCANv2"}
_UNRANKED_COLUMNS = ("# samples", "# classes", "Probing")
#: Table 2's benchmarks (rows), in the paper's order; ``depth{d}`` rows go between leaf and leaf HZR.
BENCHMARK_LABELS = {"leaf": "leaf classes", "leaf_hzr": "leaf HZR", "p_hzr": "p-HZR", "classes": "GT labels"}


def _benchmark_label(b):
    return f"coarse d = {str(b)[5:]}" if str(b).startswith("depth") else BENCHMARK_LABELS.get(b, b)


def _with_split(df):
    return df if "split" in df.columns else df.assign(split="fit")


def _summary_long(metrics, probe, probe_variants=None, variants=None):
    """Tidy (dataset, encoder, split, benchmark, seed, m, v) of tables 1 and 2: per benchmark the
    sizes, the probe's ACC and each method's ACC (one row per seed)."""
    cols = ["dataset", "encoder", "split", "benchmark", "seed", "m", "v"]
    parts = []
    if len(metrics):
        df = _with_split(metrics.assign(seed=metrics["seed"] if "seed" in metrics.columns else 0))
        df = df.assign(method=df["method"].map(lambda m: _SHORT.get(m, m)))
        for gran, g in df.groupby("granularity", sort=False):
            b = "classes" if gran == "classes" else str(gran)
            key = g[["dataset", "encoder", "split", "seed"]].assign(benchmark=b)
            parts.append(key.assign(m=g["method"], v=pd.to_numeric(g["acc"], errors="coerce")))
            sizes = key.assign(n=g.get("n_samples", np.nan), k=g.get("n_targets", np.nan)).drop_duplicates(
                ["dataset", "encoder", "split"])
            parts += [sizes.assign(m="# samples", v=sizes["n"]), sizes.assign(m="# classes", v=sizes["k"])]
            if gran == "classes" and variants is not None:
                for v in ("leaf", "leaf_hzr", "p_hzr"):
                    if f"acc_{v}" in g.columns:
                        parts.append(g[["dataset", "encoder", "split", "seed"]].assign(
                            benchmark=v, m=g["method"], v=pd.to_numeric(g[f"acc_{v}"], errors="coerce")))
    if variants is not None and len(variants):
        vv = _with_split(variants)
        vv = vv[vv["variant"].isin(["leaf", "leaf_hzr", "p_hzr"]) & vv["applies"].astype(str).str.lower().eq("true")]
        key = vv[["dataset", "encoder", "split"]].assign(benchmark=vv["variant"], seed=0)
        parts += [key.assign(m="# samples", v=vv["n_samples"]), key.assign(m="# classes", v=vv["n_classes"])]
    for table, bench in ((probe, None), (probe_variants, "variant")):
        if table is not None and len(table):
            pt = _with_split(table)
            parts.append(pt[["dataset", "encoder", "split"]].assign(
                benchmark=pt[bench] if bench else "classes", seed=0, m="Probing",
                v=pd.to_numeric(pt["acc"], errors="coerce")))
    if not parts:
        return pd.DataFrame(columns=cols)
    long = pd.concat(parts, ignore_index=True)[cols]
    long["v"] = pd.to_numeric(long["v"], errors="coerce")
    return long.dropna(subset=["v"])


def _summary_wide(long, rows, *, name, title, order, n_seeds):
    o = dict(order or {})
    o["m"] = SUMMARY_COLUMNS
    o["split"] = SPLIT_ORDER
    t = wide_table(long, rows, ["m"], "v", name=name, title=title, direction=None, order=o,
                   number_format=_PERCENT[0], decimals=_PERCENT[1], aggregate="mean_std", ddof=1,
                   expected_count=n_seeds)
    # Sizes and the probe are one value per data set (no seeds): no std, no (n=k), never bold.
    for col in t.values.columns:
        if col in _UNRANKED_COLUMNS:
            if t.std is not None:
                t.std[col] = np.nan
            if t.count is not None:
                t.count[col] = np.nan
    t.column_formats = {"# samples": ("count", 0), "# classes": ("count", 0)}
    t.directions = {c: ("max" if c in ("k-means", "TEMI", "SCANv2") else None) for c in SUMMARY_COLUMNS}
    return t


def heads_summary_table(metrics, *, probe=None, order=None, n_seeds=None):
    """Paper 002 table 1 as the paper lays it out: rows dataset x encoder [x split], columns
    "# samples", "# classes", "Probing" (the linear probe's ACC) and the ACC of k-means, TEMI and
    SCANv2 (mean ± std over seeds, in %). Bold: the best encoder of a data set [and split] per
    method column (the paper bolds the best method of a row; embtree's bold is per column)."""
    long = _summary_long(metrics, probe)
    long = long[long["benchmark"] == "classes"]
    rows = ["dataset", "encoder"] + (["split"] if long["split"].eq("eval").any() else [])
    t = _summary_wide(long, rows, name="heads_summary", order=order, n_seeds=n_seeds,
                      title="Data sets, linear probe and clustering ACC (paper 002 table 1), mean ± std over seeds")
    t.compare_by = [r for r in rows if r != "encoder"]
    apply_bold(t)
    t.notes.append(_seeds_note(n_seeds))
    t.notes.append("# samples / # classes: the samples clustered and their classes; Probing: the linear probe "
                   "(supervised ceiling, one fit, never bold); k-means (cosine), TEMI, SCANv2: clustering ACC.")
    if "split" in rows:
        t.notes.append(SPLIT_NOTE)
    return t


def heads_benchmarks_table(metrics, variants, *, probe=None, probe_variants=None, order=None, n_seeds=None):
    """Paper 002 table 2: the fine-grained benchmarks of each data set x encoder [x split] as rows —
    leaf classes (the samples of classes without hyponym classes), coarse d (``heads.coarse_depths``),
    leaf HZR, p-HZR and the GT labels — with their "# samples", "# classes", the probe refitted on
    each ("Probing") and each method's ACC (mean ± std over seeds).

    ``variants``: the runs' ``heads/hzr/variants.tsv`` rows; a variant whose labels are the classes'
    (``applies`` False: every class is a leaf class, or nothing was relabelled) gets no row, and a
    note says so, rather than repeating the GT row. The HZR and leaf ACCs score the clustering of
    the GT run (K = # GT classes) against the variant's labels; the coarse rows are their own runs.
    """
    long = _summary_long(metrics, probe, probe_variants, variants if variants is not None else pd.DataFrame())
    if variants is not None and len(variants):
        ok = _with_split(variants)
        ok = ok[ok["applies"].astype(str).str.lower().eq("true")]
        applies = set(zip(ok["dataset"], ok["encoder"], ok["split"], ok["variant"]))
        keep = [b not in BENCHMARK_LABELS or b == "classes" or (d, e, s, b) in applies
                for d, e, s, b in zip(long["dataset"], long["encoder"], long["split"], long["benchmark"])]
        long = long[np.asarray(keep, dtype=bool)] if len(long) else long
    depths = sorted({int(str(b)[5:]) for b in long["benchmark"] if str(b).startswith("depth")}, reverse=True)
    bench_order = ["leaf"] + [f"depth{d}" for d in depths] + ["leaf_hzr", "p_hzr", "classes"]
    long = long.assign(benchmark=long["benchmark"].map(_benchmark_label))
    rows = ["dataset", "encoder"] + (["split"] if long["split"].eq("eval").any() else []) + ["benchmark"]
    o = dict(order or {})
    o["benchmark"] = [_benchmark_label(b) for b in bench_order]
    t = _summary_wide(long, rows, name="heads_benchmarks", order=o, n_seeds=n_seeds,
                      title="Fine-grained benchmarks from the reference tree (paper 002 table 2), "
                            "mean ± std over seeds")
    t.compare_by = [r for r in rows if r != "encoder"]
    apply_bold(t)
    t.notes.append(_seeds_note(n_seeds))
    t.notes.append("leaf classes: only the samples of classes with no hyponym class in the reference tree. "
                   "leaf HZR: every other sample relabelled down the tree to a leaf class, at each node the "
                   "hyponym of nearest prototype in the encoder's space (paper 002 uses CLIP zero-shot); "
                   "p-HZR: the class itself competes at each step and may be kept. coarse d: each class mapped "
                   "to its ancestor at maximum depth d, clustered anew with K = # classes. The leaf and HZR "
                   "ACCs score the GT run's clustering (K = # GT classes) against the benchmark's labels, where "
                   "the paper clusters each benchmark anew; with fewer classes than clusters the unmatched "
                   "clusters count as errors. Probing: the probe refitted on the benchmark's labels.")
    if variants is not None and len(variants):
        vv = _with_split(variants)
        vv = vv[vv["variant"].isin(["leaf", "leaf_hzr", "p_hzr"])]
        for (ds, enc), g in vv[vv["split"] == "fit"].groupby(["dataset", "encoder"], sort=False):
            same = [BENCHMARK_LABELS[v] for v in g.loc[~g["applies"].astype(str).str.lower().eq("true"), "variant"]]
            if len(same) == 3:
                t.notes.append(f"{ds} / {enc}: every class is a leaf class of the reference tree, so the leaf "
                               "subset, leaf HZR and p-HZR are the GT labels (not repeated).")
            elif same:
                t.notes.append(f"{ds} / {enc}: {', '.join(same)} equal the GT labels (nothing relabelled; not "
                               "repeated).")
    if "split" in rows:
        t.notes.append(SPLIT_NOTE)
    return t


def build_heads_tables(metrics, per_head, *, probe=None, order=None, multilabel=False,
                       n_seeds=None, baselines=None, variants=None, probe_variants=None, knn=None,
                       coarse=None) -> list[ReportTable]:
    """Every heads table; ``n_seeds``: the configured number of seeds (``len(heads.seeds)``);
    ``coarse``: build the coarse-depth table (heads.depths configured; True builds it even before
    any coarse run has finished, as report.partial can ask); None: where ``metrics`` has coarse rows;
    ``baselines``: encoders with random weights (:func:`~embtree.report.common.baseline_encoders`),
    whose rows are never bold; ``variants`` / ``probe_variants`` (heads.hierarchy_variants): the
    runs' ``heads/hzr/variants.tsv`` and ``probe/variants.tsv`` rows, for table 2; ``knn``: the
    runs' ``heads/knn_recall.tsv`` rows (:func:`knn_note` on tables 1 where a backend is approximate)."""
    tables = [heads_summary_table(metrics, probe=probe, order=order, n_seeds=n_seeds),
              heads_table(metrics, probe=probe, order=order, n_seeds=n_seeds),
              heads_spread_table(per_head, order=order)]
    note = knn_note(knn)
    if note:
        for t in tables[:2]:
            t.notes.append(note)
    if variants is not None:
        tables.append(heads_benchmarks_table(metrics, variants, probe=probe, probe_variants=probe_variants,
                                             order=order, n_seeds=n_seeds))
    if coarse is None:
        coarse = bool(len(metrics)) and bool((metrics["granularity"] != "classes").any())
    if coarse:
        tables.append(heads_depth_table(metrics, order=order, n_seeds=n_seeds))
    if multilabel:
        tables.append(heads_multilabel_table(metrics, order=order, n_seeds=n_seeds))
    return [mark_baselines(t, baselines) for t in tables]


# ---------------------------------------------------------------------------------------------
# Sweeps of the number of neighbours and of over-clustering (paper 002 appendix B.3 / B.4,
# figs. 5-6), class separability (section 6, appendix B.1, fig. 4).
# ---------------------------------------------------------------------------------------------

#: The metric each sweep's paper figure plots: fig. 5 ACC vs the number of neighbours, fig. 6 NMI
#: vs the number of clusters (with more clusters than classes a one-to-one ACC counts every
#: sample of an unmatched cluster wrong, so NMI is the paper's score there).
SWEEP_METRIC = {"knn": "acc", "n_clusters": "nmi"}
SWEEP_NAMES = {"knn": "heads_knn_sweep", "n_clusters": "heads_overclustering"}


def sweep_long(metrics):
    """Tidy sweep rows: dataset, encoder, method (label), granularity, seed, split, sweep, x, acc,
    nmi, n_clusters, n_targets.

    ``metrics``: the sweep family's ``metrics.tsv`` rows with the spec keys ``sweep`` ("knn" or
    "n_clusters") and ``sweep_value`` (the configured value; empty for the k-means reference of
    the knn sweep, which uses no neighbours). ``x``: k for the knn sweep, the over-clustering
    factor ``n_clusters / n_targets`` (as run) for the n_clusters sweep; NaN for that reference.
    """
    cols = ["dataset", "encoder", "method", "granularity", "seed", "split", "sweep", "x", "acc", "nmi",
            "n_clusters", "n_targets"]
    if metrics is None or not len(metrics):
        return pd.DataFrame(columns=cols)
    df = metrics.copy()
    if "split" not in df.columns:
        df["split"] = "fit"
    if "seed" not in df.columns:
        df["seed"] = 0
    df["method"] = df["method"].map(lambda m: METHOD_LABELS.get(m, m))
    for c in ("acc", "nmi", "n_clusters", "n_targets"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    value = pd.to_numeric(df["sweep_value"], errors="coerce")
    df["x"] = np.where(df["sweep"] == "knn", value, df["n_clusters"] / df["n_targets"])
    df.loc[(df["sweep"] == "knn") & value.isna(), "x"] = np.nan
    return df[cols].reset_index(drop=True)


def _sweep_column(sweep, x, n_clusters):
    if sweep == "knn":
        return f"k = {int(x)}"
    return f"C = {int(n_clusters)} ({x:g}x)"


def heads_sweep_table(metrics, sweep, *, order=None, n_seeds=None):
    """A sweep as a table (paper 002 fig. 5 for ``sweep="knn"``, fig. 6 for ``"n_clusters"``):
    rows dataset x encoder x granularity [x split] x method, columns ACC and NMI at every sweep
    value, mean ± std over seeds; bold: the best method of each column per data set, encoder and
    granularity. The k-means reference of the knn sweep (no neighbours) fills a column of its own."""
    long = sweep_long(metrics)
    long = long[long["sweep"] == sweep]
    rows, long = split_rows(long, ["dataset", "encoder", "granularity"])
    rows = [*rows, "method"]
    values = sorted({(x, n) for x, n in zip(long["x"], long["n_clusters"]) if pd.notna(x)})
    labels = {}
    for x, n in values:
        labels.setdefault(_sweep_column(sweep, x, n), None)
    ref = "no neighbours"
    long = long.assign(col=[ref if pd.isna(x) else _sweep_column(sweep, x, n)
                            for x, n in zip(long["x"], long["n_clusters"])])
    tidy = long.melt(id_vars=[*rows, "seed", "col"], value_vars=["acc", "nmi"], var_name="m", value_name="v")
    tidy["m"] = tidy["m"].map({"acc": "ACC", "nmi": "NMI"})
    o = dict(order or {})
    o["method"] = METHOD_ORDER
    o["m"] = ["ACC", "NMI"] if SWEEP_METRIC[sweep] == "acc" else ["NMI", "ACC"]
    o["col"] = list(labels) + ([ref] if (long["col"] == ref).any() else [])
    o["split"] = SPLIT_ORDER
    o["granularity"] = sorted(set(long["granularity"]), key=lambda g: (g == "classes", g))
    title = ("Number of nearest neighbours k (paper 002 fig. 5): ACC and NMI, mean ± std over seeds"
             if sweep == "knn" else
             "Over-clustering (paper 002 fig. 6): NMI and ACC vs the number of clusters C, mean ± std over seeds")
    t = wide_table(tidy, rows, ["m", "col"], "v", name=SWEEP_NAMES[sweep], title=title, direction="max", order=o,
                   number_format=_PERCENT[0], decimals=_PERCENT[1], aggregate="mean_std", ddof=1,
                   expected_count=n_seeds)
    t.compare_by = [r for r in rows if r != "method"]
    apply_bold(t)
    t.notes.append(_seeds_note(n_seeds))
    if sweep == "knn":
        t.notes.append("TEMI / SCANv2 draw x' from the k nearest neighbours (one run per k, n_clusters as the main "
                       "run); k-means uses no neighbours: its one run per seed is the 'no neighbours' column.")
    else:
        t.notes.append("C > classes: ACC maps clusters to classes one-to-one (Hungarian), so every sample of an "
                       "unmatched cluster counts as an error and ACC falls with C by construction; the paper "
                       "scores over-clustering by NMI (fig. 6). One run per C, at the main k.")
    if "split" in rows:
        t.notes.append(SPLIT_NOTE)
    return t


#: Separability columns: label, direction (what is better), (format, decimals).
SEPARABILITY_COLUMNS = {
    "probe_acc": ("linear probe ACC", "max", _PERCENT),
    "l_align": ("L_align", "min", ("fixed", 3)),
    "davies_bouldin": ("Davies-Bouldin", "min", ("fixed", 2)),
    "silhouette": ("silhouette", "max", ("fixed", 3)),
    "knn_precision": ("kNN precision", "max", _PERCENT),
}


def separability_frame(separability, probe=None):
    """One row per (dataset, encoder): the separability.tsv measures and the linear probe's ACC
    (its ``eval`` row where there is one, else its ``fit`` row; NaN without a probe)."""
    cols = ["dataset", "encoder", *SEPARABILITY_COLUMNS]
    if separability is None or not len(separability):
        return pd.DataFrame(columns=cols)
    df = separability.copy()
    df["probe_acc"] = np.nan
    if probe is not None and len(probe):
        # The held-out accuracy where there is one (an eval set: the fit row is training accuracy),
        # else the fit row (cross-validated).
        p = probe.assign(split=probe["split"] if "split" in probe.columns else "fit")
        p = p.sort_values("split", key=lambda s: s.ne("eval"), kind="stable")
        acc = p.groupby(["dataset", "encoder"])["acc"].first()
        df["probe_acc"] = [acc.get((d, e), np.nan) for d, e in zip(df["dataset"], df["encoder"])]
    for c in SEPARABILITY_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df[cols].reset_index(drop=True)


def separability_r2(frame):
    """{measure label: R² of the least-squares line measure ~ probe ACC across the rows} (paper 002
    fig. 4); NaN below 3 runs with both values."""
    from embtree.heads.separability import coefficient_of_determination

    return {label: coefficient_of_determination(frame["probe_acc"], frame[c])
            for c, (label, _, _) in SEPARABILITY_COLUMNS.items() if c not in ("probe_acc",)}


def heads_separability_table(separability, probe=None, *, order=None):
    """Class separability per encoder (paper 002 fig. 4 as a table): rows dataset x encoder,
    columns linear probe ACC, L_align over true positive neighbours, Davies-Bouldin score,
    silhouette and the share of true positive neighbours; the R² of each against the probe's ACC
    across the rows in a note. Bold: the most separable encoder of a data set per column."""
    frame = separability_frame(separability, probe)
    long = frame.melt(id_vars=["dataset", "encoder"], value_vars=list(SEPARABILITY_COLUMNS), var_name="m",
                      value_name="v")
    long["m"] = long["m"].map({c: v[0] for c, v in SEPARABILITY_COLUMNS.items()})
    o = dict(order or {})
    o["m"] = [v[0] for v in SEPARABILITY_COLUMNS.values()]
    t = wide_table(long, ["dataset", "encoder"], ["m"], "v", name="heads_separability",
                   title="Class separability per encoder (paper 002 fig. 4): L_align over true positive "
                         "neighbours, Davies-Bouldin score, silhouette",
                   direction=None, order=o, number_format="fixed", decimals=3)
    t.directions = {label: d for label, d, _ in SEPARABILITY_COLUMNS.values()}
    t.column_formats = {label: fmt for label, _, fmt in SEPARABILITY_COLUMNS.values()}
    t.compare_by = ["dataset"]
    apply_bold(t)
    r2 = separability_r2(frame)
    n = int(frame[["probe_acc"]].notna().sum().iloc[0]) if len(frame) else 0
    if n >= 3:
        t.notes.append(f"R² of each measure against the linear probe ACC over the {n} runs (least-squares line, "
                       "paper 002 fig. 4): " + ", ".join(f"{k} {v:.3f}" for k, v in r2.items()) + ".")
    else:
        t.notes.append(f"R² against the linear probe ACC (paper 002 fig. 4) needs at least 3 runs with a probe; "
                       f"this report has {n}.")
    t.notes.append("On L2-normalised features (separability.normalize): L_align = mean squared distance of the "
                   "pairs (sample, one of its k cosine nearest neighbours) that share the class, in [0, 4], lower "
                   "= tighter classes; Davies-Bouldin (lower = better separated) and silhouette (higher = "
                   "better) of the true classes; kNN precision = share of the k neighbours sharing the class. L_align "
                   "alone rewards collapsed features (every sample near every other, e.g. random weights): "
                   "read it beside the others, as Wang & Isola pair it with uniformity.")
    return t
