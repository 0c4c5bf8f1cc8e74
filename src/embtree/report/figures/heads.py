"""Figures of the deep clustering heads (paper 002).

Report: :func:`plot_coarse_depths` (accuracy vs coarse depth, fig. 2 left),
:func:`plot_calibration_grid` (calibration of TEMI vs SCANv2, fig. 3 / fig. 8),
:func:`plot_method_gap` (TEMI - SCANv2 per encoder, fig. 3 right), :func:`plot_heads_sweep`
(the number of neighbours, fig. 5, and over-clustering, fig. 6), :func:`plot_separability`
(separability measures vs linear probing accuracy, fig. 4).
Per run (the heads rule): :func:`plot_reliability` (fig. 3), :func:`plot_msp_histogram`
(fig. 8 left), from :func:`embtree.heads.calibration_inputs`; :func:`plot_hzr_moves` (the
relabelling behind figs. 1, 9, 10).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from embtree import metrics as M
from embtree.report.figures.base import no_data_figure
from embtree.report.tables.heads import METHOD_LABELS, METHOD_ORDER, coarse_depth_long

_COLORS = {"k-means (cosine)": "tab:gray", "TEMI": "tab:blue", "SCANv2": "tab:orange"}


def _n_classes(sub):
    """{depth: number of coarse classes} of one run (the heads' ``n_targets``; absent: none)."""
    n = pd.to_numeric(sub["n_targets"], errors="coerce") if "n_targets" in sub.columns else None
    if n is None or n.isna().all():
        return {}
    return sub.assign(_n=n).dropna(subset=["_n"]).groupby("depth", sort=False)["_n"].max().astype(int).to_dict()


def _legend_below(fig, axes, rect_bottom=0.1):
    """One legend for all ``axes`` (each label once), under the panels, and the layout made room for it."""
    legend = {}
    for ax in np.ravel(axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, h)
    fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=len(legend), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, rect_bottom, 1, 1))


def plot_coarse_depths(metrics):
    """ACC (%) vs maximum hierarchy depth d, one panel per dataset x encoder, one line per method:
    the mean over seeds, with ± 1 sample std error bars where there are several. With a held-out
    evaluation set the held-out scores are drawn (the papers' validation numbers), else the fit set's.

    The full-class accuracy (``classes``, the leaves of the reference) is the last point of each
    line. Each depth's tick names its number of coarse classes k (the heads' ``n_targets``) and a
    grey tick marks 100 / k, the accuracy of one class of k (balanced classes). The ACC axis spans
    the fixed range 0-100 % so that small differences are not magnified. No rows: a "no data" figure.
    """
    long = coarse_depth_long(metrics)
    if not len(long):
        return no_data_figure("coarse-depth accuracies: no heads metrics rows (no heads run finished)")
    split = "eval" if long["split"].astype(str).eq("eval").any() else "fit"
    long = long[long["split"].astype(str).eq(split)]
    n_classes = {run: _n_classes(sub) for run, sub in long.groupby(["dataset", "encoder"], sort=False)}
    long = (long.groupby(["dataset", "encoder", "method", "depth"], sort=False)["acc"].agg(["mean", "std"])
            .reset_index())
    runs = list(dict.fromkeys(zip(long["dataset"], long["encoder"])))
    fig, axes = plt.subplots(1, len(runs), figsize=(3.8 * len(runs), 3.4), squeeze=False, sharey=True)
    for ax, (ds, enc) in zip(axes[0], runs):
        sub = long[(long["dataset"] == ds) & (long["encoder"] == enc)]
        ints = sorted(d for d in set(sub["depth"]) if d != "classes")
        depths = ints + (["classes"] if (sub["depth"] == "classes").any() else [])
        pos = {d: i for i, d in enumerate(depths)}
        k = n_classes.get((ds, enc), {})
        for method in [m for m in METHOD_ORDER if m in set(sub["method"])]:
            s = sub[sub["method"] == method].assign(x=lambda f: f["depth"].map(pos)).sort_values("x")
            err = s["std"] if s["std"].notna().any() else None  # one seed: no std
            ax.errorbar(s["x"], s["mean"], yerr=err, fmt="o-", capsize=3, label=method, color=_COLORS.get(method),
                        clip_on=False)  # points at 100 % stay whole
        chance = [(pos[d], 100 / k[d]) for d in depths if k.get(d)]
        if chance:
            ax.scatter(*zip(*chance), marker="_", s=200, color="0.5", zorder=1, label="100 / k (one class of k)")
        ax.set_xticks(range(len(depths)), [
            ("all classes" if d == "classes" else f"d = {d}") + (f"\nk = {k[d]}" if k.get(d) else "") for d in depths
        ], fontsize=8)
        ax.set_xlim(-0.5, len(depths) - 0.5)
        ax.set(xlabel="maximum hierarchy depth d (k coarse classes)", title=f"{ds} / {enc}")
        ax.title.set_fontsize(9)
    axes[0][0].set_ylim(0, 100)
    axes[0][0].set_ylabel("ACC (%)" + (" on the held-out set" if split == "eval" else ""))
    _legend_below(fig, axes[0], 0.08)  # one legend for every panel, under them (inside, it hid points)
    return fig


def plot_calibration_grid(runs, n_bins=15):
    """Reliability diagrams with ECE, one column per (run, method) (paper 002 fig. 3).

    ``runs``: list of dicts with ``title``, ``soft`` (N, C) and ``targets`` (N,).
    """
    if not runs:
        return no_data_figure("calibration: no heads run with soft assignments")
    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 5.6), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for j, run in enumerate(runs):
        soft, y = np.asarray(run["soft"]), np.asarray(run["targets"])
        top1 = soft.argmax(1)
        correct = M.hungarian_map(y, top1, n_clusters=soft.shape[1])[top1] == y
        conf = np.clip(soft.max(1).astype(float), 0, 1)
        b = M.calibration_bins(conf, correct, n_bins)
        ece = M.expected_calibration_error(conf, correct, n_bins)
        centres = 0.5 * (b["edges"][:-1] + b["edges"][1:])
        ax = axes[0][j]
        ax.bar(centres, np.nan_to_num(b["accuracy"]), width=1 / n_bins, edgecolor="black", color="tab:blue")
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"{run['title']}\nECE {100 * ece:.1f} %, mean MSP {100 * conf.mean():.1f} %")
        ax.title.set_fontsize(8)
        ax.set_xlabel("confidence", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        axes[1][j].hist(conf, bins=np.linspace(0, 1, 31), color="tab:blue", edgecolor="black")
        axes[1][j].set_xlabel("max softmax probability", fontsize=8)
        axes[1][j].set_ylabel("samples", fontsize=8)
    fig.tight_layout()
    return fig


def plot_reliability(confidence, correct, *, n_bins=15, title=None):
    """Reliability diagram (paper 002 fig. 3): per-bin accuracy vs confidence, gap shaded, ECE in the legend."""
    if not np.size(confidence):
        return no_data_figure(f"{title + ': ' if title else ''}no samples scored")
    b = M.calibration_bins(confidence, correct, n_bins)
    ece = M.expected_calibration_error(confidence, correct, n_bins)
    centres = 0.5 * (b["edges"][:-1] + b["edges"][1:])
    width = 1.0 / n_bins
    acc = np.nan_to_num(b["accuracy"])
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.bar(centres, acc, width=width, edgecolor="black", color="tab:blue", label=f"accuracy (ECE {100 * ece:.2f} %)")
    gap = np.where(b["count"] > 0, centres - acc, 0)
    ax.bar(centres, gap, bottom=acc, width=width, color="tab:red", alpha=0.3, label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max softmax probability)", ylabel="accuracy",
           title=title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_msp_histogram(confidence, *, bins=30, title=None):
    """Histogram of the max softmax probabilities (paper 002 fig. 8, left), mean marked."""
    conf = np.asarray(confidence)
    if not conf.size:
        return no_data_figure(f"{title + ': ' if title else ''}no samples scored")
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.hist(conf, bins=np.linspace(0, 1, bins + 1), color="tab:blue", edgecolor="black")
    ax.axvline(conf.mean(), color="tab:red", ls="--", label=f"mean MSP {100 * conf.mean():.1f} %")
    ax.set(xlabel="max softmax probability", ylabel="samples", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_hzr_moves(moves, *, max_classes=12):
    """Where the samples of each class with hyponyms went under leaf HZR and p-HZR (the data of
    paper 002 figs. 1, 9, 10, which show example images with their original and reassessed labels;
    the report reads no images, so it shows the counts behind them).

    ``moves``: the runs' ``heads/hzr/moves.tsv`` rows (dataset, encoder, split, variant, original,
    reassessed, n). One panel per dataset x encoder (the fit set's rows); per original class (the
    ``max_classes`` with most samples) two stacked bars, leaf HZR and p-HZR, the share of its
    samples per reassessed class, the kept label hatched grey; a segment of at least 12 % names its
    class. No rows (every class a leaf class): a "no data" figure.
    """
    if moves is None or not len(moves):
        return no_data_figure("HZR relabelling: no class of the reference tree is a hypernym of another "
                              "(or heads.hierarchy_variants is off)")
    df = moves[moves["split"].astype(str) == "fit"] if "split" in moves.columns else moves
    runs = list(dict.fromkeys(zip(df["dataset"], df["encoder"])))
    heights = []
    for ds, enc in runs:
        sub = df[(df["dataset"] == ds) & (df["encoder"] == enc)]
        heights.append(min(max_classes, sub["original"].nunique()))
    fig, axes = plt.subplots(len(runs), 1, figsize=(8, sum(0.9 * h + 1.2 for h in heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    cmap = plt.get_cmap("tab20")
    for ax, (ds, enc), h in zip(axes[:, 0], runs, heights):
        sub = df[(df["dataset"] == ds) & (df["encoder"] == enc)]
        totals = sub[sub["variant"] == "leaf_hzr"].groupby("original", sort=False)["n"].sum()
        originals = list(totals.sort_values(ascending=False, kind="stable").index[:max_classes])
        colours = {c: cmap(i % 20) for i, c in enumerate(dict.fromkeys(sub["reassessed"]))}
        yticks, ylabels = [], []
        for i, orig in enumerate(originals):
            for j, (variant, label) in enumerate((("leaf_hzr", "leaf HZR"), ("p_hzr", "p-HZR"))):
                y = i * 2.6 + j
                rows = sub[(sub["original"] == orig) & (sub["variant"] == variant)].sort_values(
                    "n", ascending=False, kind="stable")
                share = rows["n"].to_numpy(float) / max(rows["n"].sum(), 1)
                left = 0.0
                for (_, r), w in zip(rows.iterrows(), share):
                    kept = r["reassessed"] == orig
                    ax.barh(y, w, left=left, color="lightgrey" if kept else colours[r["reassessed"]],
                            hatch="//" if kept else None, edgecolor="white")
                    if w >= 0.12:
                        ax.text(left + w / 2, y, str(r["reassessed"])[:18], ha="center", va="center", fontsize=7)
                    left += w
                yticks.append(y)
                ylabels.append(f"{orig} ({int(totals[orig])}) · {label}" if j == 0 else label)
        ax.set_yticks(yticks, ylabels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the class's samples per reassessed class", fontsize=8)
        ax.set_title(f"{ds} / {enc}: reassessed labels of the classes with hyponyms (grey hatched: kept)",
                     fontsize=9)
    fig.tight_layout()
    return fig


def plot_heads_sweep(metrics, sweep):
    """A sweep as curves (paper 002 fig. 5 for ``sweep="knn"``, fig. 6 for ``"n_clusters"``).

    One column of panels per dataset x encoder x granularity, one line per method: the mean over
    seeds with ± 1 sample std bars; the top row is the paper's metric (ACC vs the number of
    neighbours k; NMI vs the over-clustering factor C / classes), the bottom row the other.
    k-means uses no neighbours: in the knn sweep it is a dashed horizontal line at its mean.
    Held-out scores where there is an evaluation set. ``metrics``: the sweep family's rows
    (:func:`embtree.report.tables.heads.sweep_long`). No rows: a "no data" figure.
    """
    from embtree.report.tables.heads import SWEEP_METRIC, sweep_long

    long = sweep_long(metrics)
    long = long[long["sweep"] == sweep]
    if not len(long):
        return no_data_figure(f"{sweep} sweep: no heads metrics rows")
    split = "eval" if long["split"].astype(str).eq("eval").any() else "fit"
    long = long[long["split"].astype(str).eq(split)]
    first = SWEEP_METRIC[sweep]
    metrics_drawn = [first, "nmi" if first == "acc" else "acc"]
    panels = list(dict.fromkeys(zip(long["dataset"], long["encoder"], long["granularity"])))
    fig, axes = plt.subplots(2, len(panels), figsize=(3.8 * len(panels), 6.0), squeeze=False, sharex="col")
    for j, (ds, enc, gran) in enumerate(panels):
        sub = long[(long["dataset"] == ds) & (long["encoder"] == enc) & (long["granularity"] == gran)]
        for i, m in enumerate(metrics_drawn):
            ax = axes[i][j]
            agg = (sub.assign(v=100 * sub[m]).groupby(["method", "x"], dropna=False, sort=False)["v"]
                   .agg(["mean", "std"]).reset_index())
            for method in [mm for mm in METHOD_ORDER if mm in set(agg["method"])]:
                a = agg[agg["method"] == method]
                line = a[a["x"].notna()].sort_values("x")
                if len(line):
                    err = line["std"] if line["std"].notna().any() else None
                    ax.errorbar(line["x"], line["mean"], yerr=err, fmt="o-", capsize=3, label=method,
                                color=_COLORS.get(method), clip_on=False)
                ref = a[a["x"].isna()]
                if len(ref):  # k-means in the knn sweep: one value, no k
                    ax.axhline(ref["mean"].iloc[0], ls="--", color=_COLORS.get(method), label=f"{method} (no k)")
            xs = sorted(set(sub["x"].dropna()))
            if xs:
                ax.set_xscale("log", base=2 if sweep == "n_clusters" else 10)
                ax.set_xticks(xs, [f"{x:g}" if sweep == "knn" else f"{x:g}x" for x in xs], fontsize=8)
                ax.minorticks_off()
            ax.set_ylim(0, 100)
            ax.set_ylabel(("ACC" if m == "acc" else "NMI") + " (%)"
                          + (" (one-to-one)" if m == "acc" and sweep == "n_clusters" else ""), fontsize=8)
            if i == 0:
                ax.set_title(f"{ds} / {enc}\n{gran}", fontsize=9)
        axes[1][j].set_xlabel("nearest neighbours k" if sweep == "knn" else "clusters C / classes", fontsize=8)
    _legend_below(fig, axes, 0.06)
    return fig


def plot_method_gap(metrics, a="temi", b="scanv2"):
    """Clustering ACC of ``a`` minus ``b`` per encoder, in percentage points (paper 002 fig. 3
    right: TEMI - SCANv2), one panel per dataset, the class-level main runs.

    Seeds are paired (the difference of each seed both methods ran), the bar is their mean with
    ± 1 sample std; held-out scores where there is an evaluation set. No pair: a "no data" figure.
    """
    la, lb = METHOD_LABELS.get(a, a), METHOD_LABELS.get(b, b)
    if metrics is None or not len(metrics):
        return no_data_figure(f"{la} - {lb}: no heads metrics rows")
    df = metrics[(metrics["granularity"] == "classes") & metrics["method"].isin([a, b])].copy()
    if "split" not in df.columns:
        df["split"] = "fit"
    if "seed" not in df.columns:
        df["seed"] = 0
    split = "eval" if df["split"].astype(str).eq("eval").any() else "fit"
    df = df[df["split"].astype(str).eq(split)]
    df["acc"] = 100 * pd.to_numeric(df["acc"], errors="coerce")
    wide = df.pivot_table(index=["dataset", "encoder", "seed"], columns="method", values="acc", aggfunc="first")
    if a not in wide.columns or b not in wide.columns or not (wide[a] - wide[b]).notna().any():
        return no_data_figure(f"{la} - {lb}: no run has both methods")
    gap = (wide[a] - wide[b]).dropna().rename("gap").reset_index()
    agg = gap.groupby(["dataset", "encoder"], sort=False)["gap"].agg(["mean", "std", "count"]).reset_index()
    datasets = list(dict.fromkeys(agg["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(max(3.6, 1.0 + 0.8 * agg.groupby("dataset").size().max())
                                                         * len(datasets), 3.4), squeeze=False)
    # One symmetric range for every panel: the sign is the finding, and panels compare.
    lim = max(1.0, float((agg["mean"].abs() + agg["std"].fillna(0)).max()) * 1.2)
    for ax, ds in zip(axes[0], datasets):
        sub = agg[agg["dataset"] == ds]
        colors = [_COLORS[la] if v >= 0 else _COLORS[lb] for v in sub["mean"]]
        ax.bar(range(len(sub)), sub["mean"], yerr=sub["std"].fillna(0), capsize=3, color=colors, edgecolor="black")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(sub)), [f"{e}\n(n={int(c)})" for e, c in zip(sub["encoder"], sub["count"])],
                      fontsize=8, rotation=30 if len(sub) > 4 else 0)
        ax.set_title(ds, fontsize=9)
        ax.set_ylabel(f"ACC {la} - {lb} (points)" + (" held-out" if split == "eval" else ""), fontsize=8)
        ax.set_ylim(-lim, lim)
    fig.tight_layout()
    return fig


def plot_separability(separability, probe=None):
    """Separability measures against the linear probing accuracy (paper 002 fig. 4): panels
    L_align, Davies-Bouldin score and silhouette (y) vs probe ACC (x), one point per dataset x
    encoder (labelled), the least-squares line and its R² where there are at least 3 points.
    ``separability``: separability.tsv rows; ``probe``: the probe's metrics.tsv rows."""
    from embtree.report.tables.heads import SEPARABILITY_COLUMNS, separability_frame, separability_r2

    frame = separability_frame(separability, probe)
    if not len(frame):
        return no_data_figure("separability: no separability.tsv rows")
    r2 = separability_r2(frame)
    measures = [c for c in ("l_align", "davies_bouldin", "silhouette")]
    fig, axes = plt.subplots(1, len(measures), figsize=(4.0 * len(measures), 3.6), squeeze=False)
    x = 100 * frame["probe_acc"]
    for ax, c in zip(axes[0], measures):
        label, direction, _ = SEPARABILITY_COLUMNS[c]
        y = frame[c]
        for (ds, enc), xi, yi in zip(zip(frame["dataset"], frame["encoder"]), x, y):
            if pd.notna(yi):
                ax.scatter(xi if pd.notna(xi) else np.nan, yi, color="tab:blue", zorder=3)
                if pd.notna(xi):
                    ax.annotate(f"{ds}/{enc}", (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ok = x.notna() & y.notna()
        if np.isfinite(r2[label]):
            slope, icpt = np.polyfit(x[ok], y[ok], 1)
            xs = np.linspace(x[ok].min(), x[ok].max(), 2)
            ax.plot(xs, icpt + slope * xs, "k--", lw=1)
            title = f"{label}: R² = {r2[label]:.3f} (n={int(ok.sum())})"
        else:
            title = f"{label}: R² n/a ({int(ok.sum())} point{'s' if ok.sum() != 1 else ''} with a probe)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("linear probe ACC (%)", fontsize=8)
        ax.set_ylabel(f"{label} ({'lower' if direction == 'min' else 'higher'} = more separable)", fontsize=8)
        if not x.notna().any():
            ax.text(0.5, 0.5, "no linear probe (probe.enabled: false)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8, color="0.4")
    fig.tight_layout()
    return fig
