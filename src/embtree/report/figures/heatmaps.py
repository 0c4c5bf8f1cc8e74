"""Annotated heatmaps of report tables: any numeric table, the CAEC summary, flat clustering."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from embtree.report.common import LABELS
from embtree.report.tables.base import ReportTable, wide_table
from embtree.report.tables.caec import caec_metric_table

CAEC_HEATMAP_METRICS = ["purity", "ri", "nmi"]


def _label(key):
    return " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _draw(ax, values, *, cmap="viridis", vmin=None, vmax=None, mid=None, row_labels=True):
    """Draw ``values`` (DataFrame) on ``ax``, each finite cell annotated; NaN cells grey.

    Annotations are black above ``mid`` (default: the middle of the finite range), else
    white. Returns the image (for a colour bar).
    """
    numeric = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = [_label(t) for t in values.index]
    cols = [_label(t) for t in values.columns]
    im = ax.imshow(np.ma.masked_invalid(numeric), aspect="auto", cmap=plt.get_cmap(cmap).with_extremes(bad="0.9"),
                   vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows if row_labels else [""] * len(rows), fontsize=8)
    if mid is None:
        finite = numeric[np.isfinite(numeric)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(numeric.shape[0]):
        for j in range(numeric.shape[1]):
            v = numeric[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if v > mid else "white")
    return im


def plot_heatmap(table, *, title=None, cmap="viridis"):
    """Heatmap of a numeric :class:`ReportTable` (or DataFrame), values annotated in the cells.

    Missing / not-applicable cells are left blank (grey).
    """
    values = table.values if isinstance(table, ReportTable) else table
    nrow, ncol = values.shape
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * max(ncol, 1), 1.0 + 0.35 * max(nrow, 1)))
    im = _draw(ax, values, cmap=cmap)
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title if title is not None else getattr(table, "title", ""), fontsize=9)
    return fig


def plot_caec_heatmaps(summary, *, order=None):
    """Heatmaps of purity, RI and NMI over (encoder x cluster metric) x dataset, side by side."""
    metrics = [m if m in summary.columns or m != "purity" else "purity_mean" for m in CAEC_HEATMAP_METRICS]
    n = len(metrics)
    tables = [caec_metric_table(summary, m, order=order) for m in metrics]
    nrow, ncol = tables[0].values.shape
    fig, axes = plt.subplots(1, n, figsize=(n * (2.2 + 0.9 * ncol), 1.2 + 0.32 * nrow), squeeze=False)
    for k, (ax, t) in enumerate(zip(axes[0], tables)):
        im = _draw(ax, t.values, vmin=0, vmax=1, mid=0.5, row_labels=k == 0)
        ax.set_title(LABELS.get(metrics[k], metrics[k]), fontsize=9)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.03)
    return fig


def plot_flat_heatmap(flat, value="ami", *, order=None):
    """Heatmap of the flat-clustering ``value`` (mean over seeds): rows clusterer x reducer,
    columns dataset x encoder (dense, unlike the paper-layout table whose rows hold encoders)."""
    t = wide_table(
        flat, ["clusterer", "reducer"], ["dataset", "encoder"], value, name=f"flat_{value}_heatmap",
        title=f"Flat clustering: mean {LABELS.get(value, value)} over seeds", aggregate="mean_std", ddof=1,
        order=order,
    )
    return plot_heatmap(t)
