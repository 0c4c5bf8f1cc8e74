"""Clustering benchmark (paper 004, appendix H): flat-clustering scores, mean ± std over seeds.

:func:`flat_table` (one score per encoder x clusterer x reducer: AMI, ARI, silhouette), and
:func:`flat_found_k_tables`: what the clusterers that choose the number of clusters themselves
found (paper 004 tables 16-19: the noise share, the predicted number of clusters);
:func:`flat_ranking_table` (fig. 6: mean ranks, Wilcoxon tests) and
:func:`flat_silhouette_correlation_table` (§ 4.6: AMI against the silhouette);
:func:`flat_reducer_choice_table` and :func:`flat_threshold_choice_table` (tables 3-4: the reducer and
the distance threshold chosen per encoder on the development data sets) and :func:`flat_group_tables`
(fig. 1: mean AMI and rank per data-set group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree.flat.ranking import rank_clusterers, score_correlation
from embtree.flat.registry import NEEDS_N_CLUSTERS
from embtree.flat.selection import group_means, select
from embtree.report.common import LABELS
from embtree.report.tables.base import apply_bold, wide_table


def flat_table(flat, value="ami", *, missing=None, order=None):
    """Clustering benchmark (paper 004, appendix H): ``value`` per encoder x clusterer x reducer.

    Columns datasets; cells are mean ± std over seeds (sample std, ``ddof=1``: seeds are
    repeated runs; a single seed prints the mean alone).
    """
    return wide_table(
        flat,
        ["encoder", "clusterer", "reducer"],
        ["dataset"],
        value,
        name=f"flat_{value}",
        title=f"Flat clustering: {LABELS.get(value, value)} per encoder, clusterer and reducer (mean ± std over seeds)",
        aggregate="mean_std",
        ddof=1,
        missing=missing,
        order=order,
    )


def flat_found_k_tables(flat, *, missing=None, order=None, settings=None):
    """Paper 004 tables 16-19: the number of clusters found (``n_clusters``) and the share of
    samples left as noise (``noise_fraction``, HDBSCAN's label -1), for the clusterers that
    choose the number of clusters themselves (not in
    :data:`embtree.flat.registry.NEEDS_N_CLUSTERS`: affinity propagation, HDBSCAN, Merge &
    Expand; and agglomerative clustering given a distance threshold, by ``settings["clusterers"]``);
    mean ± std over seeds. Descriptive: no bold.
    """
    if len(flat):
        flat = flat[_k_found(flat, (settings or {}).get("clusterers")).to_numpy()]
    tables = []
    for value, what in (("n_clusters", "number of clusters found (tables 17-19)"),
                        ("noise_fraction", "share of samples left as noise (table 16)")):
        t = flat_table(flat, value, missing=missing, order=order)
        t.title = f"Flat clustering: {what}, clusterers that choose k themselves (mean ± std over seeds)"
        t.directions = None
        t.bold = t.bold & False
        t.empty_note = "none: no configured clusterer chooses the number of clusters itself"
        t.notes.append("Compare the number of clusters found with the data set's number of classes. "
                       "No bold: the columns describe what each clusterer found.")
        tables.append(t)
    return tables


def _run_means(flat, value):
    """Mean over seeds of ``value`` per (encoder, dataset, reducer, clusterer)."""
    keys = ["encoder", "dataset", "reducer", "clusterer"]
    df = flat.assign(**{value: pd.to_numeric(flat[value], errors="coerce")})
    return df.groupby(keys, sort=False)[value].mean().reset_index()


def flat_ranking_table(flat, value="ami", *, order=None):
    """Paper 004 fig. 6 as a table: each clusterer's mean rank by ``value`` over the runs
    (encoder x data set x reducer blocks, 1 = best; :func:`embtree.flat.ranking.rank_clusterers`),
    the blocks it was ranked in, and the Wilcoxon signed-rank p-value of the best-ranked
    clusterer against it. Bold: the lowest mean rank.
    """
    cols = ["mean rank", "runs", "p vs best (Wilcoxon)"]
    rows = []
    if len(flat) and value in flat.columns:
        means = _run_means(flat, value)
        S = means.pivot_table(index=["encoder", "dataset", "reducer"], columns="clusterer", values=value,
                              aggfunc="first", sort=False)
        if S.shape[1] >= 2:
            res = rank_clusterers(S.to_numpy())
            for j, c in enumerate(S.columns):
                rows += [{"clusterer": c, "m": cols[0], "v": res["mean_rank"][j]},
                         {"clusterer": c, "m": cols[1], "v": res["n_blocks"][j]},
                         {"clusterer": c, "m": cols[2], "v": res["p_vs_best"][j]}]
    long = pd.DataFrame(rows, columns=["clusterer", "m", "v"])
    o = dict(order or {})
    o["m"] = cols
    t = wide_table(long, ["clusterer"], ["m"], "v", name=f"flat_ranking_{value}" if value != "ami" else "flat_ranking",
                   title=f"Flat clustering: clusterers ranked by {LABELS.get(value, value)} within every encoder x "
                         "data set x reducer run (paper 004, fig. 6)",
                   direction={"mean rank": "min", "runs": None, "p vs best (Wilcoxon)": None}, order=o)
    t.column_formats = {"mean rank": ("fixed", 2), "runs": ("count", 0), "p vs best (Wilcoxon)": ("pvalue", 3)}
    t.empty_note = "none: ranking needs at least two clusterers"
    t.notes.append("Rank 1 = the best clusterer of a run (ties share their mean rank); p vs best: two-sided "
                   "Wilcoxon signed-rank test of the best-ranked clusterer's scores against this one's over the "
                   "runs both have, as the paper tests its best clusterer against each other one.")
    return t


def flat_silhouette_correlation_table(flat, *, order=None):
    """Paper 004 § 4.6, figs. 4 and 10: Spearman's rank correlation of AMI with the silhouette
    score (measured in the space each clusterer saw) over every encoder x data set x clusterer
    run, per reducer. Descriptive: no bold."""
    cols = ["Spearman ρ", "p", "runs"]
    rows = []
    if len(flat) and {"ami", "silhouette"} <= set(flat.columns):
        a = _run_means(flat, "ami")
        s = _run_means(flat, "silhouette")
        both = a.merge(s, on=["encoder", "dataset", "reducer", "clusterer"])
        for reducer, g in both.groupby("reducer", sort=False):
            r = score_correlation(g["ami"].to_numpy(), g["silhouette"].to_numpy())
            rows += [{"reducer": reducer, "m": cols[0], "v": r["rho"]}, {"reducer": reducer, "m": cols[1], "v": r["p"]},
                     {"reducer": reducer, "m": cols[2], "v": r["n"]}]
    long = pd.DataFrame(rows, columns=["reducer", "m", "v"])
    o = dict(order or {})
    o["m"] = cols
    t = wide_table(long, ["reducer"], ["m"], "v", name="flat_silhouette_ami",
                   title="Flat clustering: Spearman correlation of AMI with the silhouette score, per reducer "
                         "(paper 004, § 4.6)", direction=None, order=o)
    t.column_formats = {"Spearman ρ": ("fixed", 2), "p": ("pvalue", 3), "runs": ("count", 0)}
    t.directions = None
    t.empty_note = "none: no run has both scores"
    t.notes.append("A high ρ makes the label-free silhouette a usable proxy of cluster quality; the paper finds "
                   "it higher in the UMAP-reduced space. No bold.")
    return t


def _k_found(flat, settings):
    """Bool per row of ``flat``: its clusterer chooses the number of clusters itself (not in
    NEEDS_N_CLUSTERS, or an agglomerative one given a distance threshold). ``settings``:
    {clusterer name: {"method", **params}} (:func:`flat_report_settings`); names it lacks are
    taken as registry methods."""
    names = flat["clusterer"].astype(str)

    def finds(name):
        s = (settings or {}).get(name, {"method": name})
        return s["method"] not in NEEDS_N_CLUSTERS or s.get("distance_threshold") is not None

    return names.map({n: finds(n) for n in names.unique()}).astype(bool)


def _selection_scores(means, datasets, weights):
    """The development data sets of a choice (``datasets``, or every data set of ``means``) and
    their weights (1 where ``weights`` names none), with the note saying which."""
    present = list(dict.fromkeys(means["dataset"].astype(str)))
    dev = [d for d in (datasets or present) if d in present]
    w = [float((weights or {}).get(d, 1.0)) for d in dev]
    how = ", ".join(f"{d} × {x:g}" for d, x in zip(dev, w))
    if datasets:
        note = f"Chosen on the development data sets (flat.selection.datasets), weights: {how}."
    else:
        note = (f"No development data sets configured (flat.selection.datasets): chosen on every data set of the "
                f"run ({how}), an in-sample choice, not the paper's held-out one.")
    return dev, w, note


def _choice_rows(means, group_keys, candidate, dev, w, relative, extra=None):
    """Long rows (group keys, candidate, m, v) of a weighted choice per group, and the winners."""
    rows, winners = [], {}
    label = "weighted relative AMI" if relative else "weighted AMI"
    for key, g in means[means["dataset"].isin(dev)].groupby(group_keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        S = g.pivot_table(index=candidate, columns="dataset", values="ami", aggfunc="first", sort=False)
        S = S.reindex(columns=dev)
        # the development data sets this group ran on (an encoder may lack some): a candidate
        # missing one of those is incomplete, one no candidate ran on is left out
        ran = S.notna().any().to_numpy()
        res = select(S.to_numpy()[:, ran], np.asarray(w)[ran], relative=relative)
        base = dict(zip(group_keys, key))
        for i, cand in enumerate(S.index):
            r = {**base, candidate: cand}
            for col, v in (extra(cand) if extra else []):
                rows.append({**r, "m": col, "v": v})
            rows.append({**r, "m": label, "v": res["weighted"][i]})
            rows += [{**r, "m": f"AMI {d}", "v": S.iat[i, j]} for j, d in enumerate(dev)]
        if res["best"] >= 0:
            winners[key] = S.index[res["best"]]
    return rows, winners, label


def flat_reducer_choice_table(flat, settings=None, *, order=None):
    """Paper 004 tables 3-4 ("Dim Reduction" per encoder and clusterer; § 3.5, appendix E.2): every
    reducer's AMI averaged over the development data sets with their weights
    (:func:`embtree.flat.selection.select`), per encoder x clusterer. Bold: the reducer chosen (the
    highest weighted AMI of its encoder x clusterer). The note lists the choices, and where
    ``flat.encoder_reducers`` configures another.
    """
    settings = settings or {}
    rows, notes = [], []
    if len(flat) and "ami" in flat.columns:
        means = _run_means(flat, "ami")
        dev, w, note = _selection_scores(means, settings.get("selection_datasets"), settings.get("selection_weights"))
        notes.append(note)
        rows, winners, label = _choice_rows(means, ["encoder", "clusterer"], "reducer", dev, w, relative=False)
        by_reducer = {}
        for (enc, clu), red in winners.items():
            by_reducer.setdefault(red, []).append(f"{enc} / {clu}")
        if by_reducer:
            notes.append("Chosen: " + "; ".join(f"{red} for {', '.join(v)}" for red, v in by_reducer.items()) + ".")
        configured = settings.get("encoder_reducers") or {}
        differ = [f"{enc} / {clu}: {configured[enc][clu]} configured, {red} chosen"
                  for (enc, clu), red in winners.items() if configured.get(enc, {}).get(clu, red) != red]
        if differ:
            notes.append("flat.encoder_reducers differs from this choice for " + "; ".join(differ) + ".")
    else:
        label = "weighted AMI"
    long = pd.DataFrame(rows, columns=["encoder", "clusterer", "reducer", "m", "v"])
    o = dict(order or {})
    o["m"] = [label] + [m for m in dict.fromkeys(long["m"]) if m != label]
    t = wide_table(long, ["encoder", "clusterer", "reducer"], ["m"], "v", name="flat_reducer_choice",
                   title="Flat clustering: the reducer chosen per encoder and clusterer by the weighted AMI over the "
                         "development data sets (paper 004, tables 3-4)",
                   direction={label: "max"}, order=o, number_format="percent", decimals=1)
    t.directions = {label: "max"}
    t.compare_by = ["encoder", "clusterer"]
    apply_bold(t)
    t.empty_note = "none: no flat clustering run on the development data sets"
    t.notes += notes + ["Bold: the chosen reducer of its encoder x clusterer (rows compared within it). A reducer "
                        "without a score on every development data set gets no average."]
    return t


def flat_threshold_choice_table(flat, settings=None, *, order=None):
    """Paper 004 tables 3-4 ("Dist. Thr." of AC w/o C; appendix E.7): for every encoder x reducer x
    linkage x metric, each ``agglomerative-threshold`` clusterer's AMI relative to the best threshold
    of its data set, averaged over the development data sets with their weights. Bold: the
    threshold chosen. One clusterer variant per threshold makes the grid
    (:func:`embtree.flat.selection.threshold_grid`: the paper's 21 thresholds).
    """
    settings = settings or {}
    clus = {n: s for n, s in (settings.get("clusterers") or {}).items() if s.get("method") == "agglomerative-threshold"}
    rows, notes = [], []
    label = "weighted relative AMI"
    if len(flat) and "ami" in flat.columns and clus:
        sub = flat[flat["clusterer"].astype(str).isin(clus)]
        if len(sub):
            means = _run_means(sub, "ami")
            means["linkage / metric"] = [f"{clus[c]['linkage']} / {clus[c]['metric']}" for c in means["clusterer"]]
            dev, w, note = _selection_scores(means, settings.get("selection_datasets"),
                                             settings.get("selection_weights"))
            notes.append(note)
            rows, winners, label = _choice_rows(
                means, ["encoder", "reducer", "linkage / metric"], "clusterer", dev, w, relative=True,
                extra=lambda c: [("distance threshold", clus[c]["distance_threshold"])])
            if winners:
                notes.append("Chosen: " + "; ".join(f"{' / '.join(k)}: {clus[c]['distance_threshold']:g} ({c})"
                                                    for k, c in winners.items()) + ".")
    long = pd.DataFrame(rows, columns=["encoder", "reducer", "linkage / metric", "clusterer", "m", "v"])
    o = dict(order or {})
    o["m"] = ["distance threshold", label] + [m for m in dict.fromkeys(long["m"])
                                             if m not in ("distance threshold", label)]
    t = wide_table(long, ["encoder", "reducer", "linkage / metric", "clusterer"], ["m"], "v",
                   name="flat_threshold_choice",
                   title="Flat clustering: the distance threshold of agglomerative clustering without k chosen per "
                         "encoder by the weighted relative AMI over the development data sets (paper 004, "
                         "appendix E.7, tables 3-4)", order=o, number_format="percent", decimals=1)
    t.column_formats = {"distance threshold": ("fixed", 3)}
    t.directions = {label: "max"}
    t.compare_by = ["encoder", "reducer", "linkage / metric"]
    apply_bold(t)
    t.empty_note = ("none: no agglomerative-threshold clusterer ran (list one variant per threshold in "
                    "flat.clusterer_variants)")
    t.notes += notes + ["Relative AMI: each data set's AMI divided by the best of its thresholds (E.7: every data "
                        "set gets the same dynamic range). Bold: the chosen threshold of its encoder x reducer x "
                        "linkage / metric."]
    return t


#: Row label of the mean over clusterers in the by-group tables (the paper's fig. 1 averages over them).
ALL_CLUSTERERS = "mean of clusterers"


def _used_runs(means, settings):
    """Per (encoder, clusterer, dataset) the AMI of the reducer used on the test data sets: the one
    flat.encoder_reducers configures, else the one :func:`flat_reducer_choice_table`'s rule chooses
    on the development data sets. Returns (rows, note)."""
    configured = settings.get("encoder_reducers") or {}
    dev, w, _ = _selection_scores(means, settings.get("selection_datasets"), settings.get("selection_weights"))
    _, winners, _ = _choice_rows(means, ["encoder", "clusterer"], "reducer", dev, w, relative=False)
    keep = []
    for (enc, clu), g in means.groupby(["encoder", "clusterer"], sort=False):
        red = configured.get(enc, {}).get(clu) or winners.get((enc, clu))
        if red is None and g["reducer"].nunique() == 1:
            red = g["reducer"].iloc[0]
        if red is not None:
            keep.append(g[g["reducer"] == red])
    used = pd.concat(keep, ignore_index=True) if keep else means.iloc[:0]
    return used


def flat_group_tables(flat, settings=None, *, order=None):
    """Paper 004 § 4.2, fig. 1: mean AMI over the data sets of each group (``datasets.<name>.group``,
    table 1's five domains) per encoder and clusterer, with the mean over clusterers (the paper's
    fig. 1 averages over them), and every encoder's rank within each group by that mean
    (:func:`embtree.flat.selection.group_means`). Each encoder x clusterer uses one reducer: the one
    ``flat.encoder_reducers`` configures, else the one chosen on the development data sets
    (:func:`flat_reducer_choice_table`); development data sets are left out of the groups.

    Returns [flat_groups, flat_group_ranks].
    """
    settings = settings or {}
    groups = {str(k): str(v) for k, v in (settings.get("groups") or {}).items()}
    dev = set(settings.get("selection_datasets") or [])
    mean_rows, rank_rows = [], []
    if len(flat) and "ami" in flat.columns and groups:
        means = _run_means(flat, "ami")
        used = _used_runs(means, settings)
        used = used[used["dataset"].isin(groups) & ~used["dataset"].isin(dev)]
        if len(used):
            per = used.pivot_table(index=["encoder", "clusterer"], columns="dataset", values="ami", aggfunc="first",
                                   sort=False)
            datasets = list(per.columns)
            # fig. 1: per data set, the mean over clusterers first
            over = per.groupby(level="encoder", sort=False).mean()
            over.index = pd.MultiIndex.from_arrays([over.index, [ALL_CLUSTERERS] * len(over)],
                                                   names=["encoder", "clusterer"])
            full = pd.concat([per, over])
            res = group_means(full.to_numpy(), [groups[d] for d in datasets])
            for i, (enc, clu) in enumerate(full.index):
                for j, grp in enumerate(res["groups"]):
                    mean_rows.append({"encoder": enc, "clusterer": clu, "group": grp, "v": res["mean"][i, j]})
            sel = [i for i, (_, clu) in enumerate(full.index) if clu == ALL_CLUSTERERS]
            ranks = group_means(full.to_numpy()[sel], [groups[d] for d in datasets])
            for k, i in enumerate(sel):
                for j, grp in enumerate(ranks["groups"]):
                    rank_rows.append({"encoder": full.index[i][0], "group": grp, "v": ranks["rank"][k, j]})
    o = dict(order or {})
    o["clusterer"] = list(o.get("clusterer", [])) + [ALL_CLUSTERERS]
    o["group"] = ["in-domain", "domain-shift", "near-ood", "fine-grained", "far-ood"]
    t = wide_table(pd.DataFrame(mean_rows, columns=["encoder", "clusterer", "group", "v"]), ["encoder", "clusterer"],
                   ["group"], "v", name="flat_groups",
                   title="Flat clustering: mean AMI per data-set group, encoder and clusterer (paper 004, fig. 1)",
                   direction="max", order=o, number_format="percent", decimals=1)
    t.compare_by = ["clusterer"]
    apply_bold(t)
    empty = "none: no data set has a group (datasets.<name>.group) outside flat.selection.datasets"
    t.empty_note = empty
    t.notes.append(f"Each cell averages the group's data sets (development data sets left out); '{ALL_CLUSTERERS}' "
                   "averages the clusterers per data set first, as the paper's fig. 1. Each encoder x clusterer uses "
                   "the reducer flat.encoder_reducers names, else the one chosen in flat_reducer_choice. Bold: the "
                   "best encoder of its clusterer.")
    r = wide_table(pd.DataFrame(rank_rows, columns=["encoder", "group", "v"]), ["encoder"], ["group"], "v",
                   name="flat_group_ranks",
                   title="Flat clustering: rank of every encoder within each data-set group by its mean AMI over "
                         "clusterers (paper 004, fig. 1)", direction="min", order=o, number_format="fixed",
                   decimals=1)
    r.empty_note = empty
    r.notes.append(f"1 = the highest '{ALL_CLUSTERERS}' AMI of the group in flat_groups; ties share their mean rank.")
    return [t, r]
