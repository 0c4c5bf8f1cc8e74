"""Metric heatmaps of the CAEC summary and of the flat-clustering scores."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from embtree.report.common import LABELS
from embtree.report.figures.base import plot_heatmap
from embtree.report.table import wide_table
from embtree.report.tables.caec import caec_metric_table


CAEC_HEATMAP_METRICS = ["purity", "ri", "nmi"]



def plot_caec_heatmaps(summary, *, order=None):
    """Heatmaps of purity, RI and NMI over (encoder x cluster metric) x dataset, side by side."""
    metrics = [m if m in summary.columns or m != "purity" else "purity_mean" for m in CAEC_HEATMAP_METRICS]
    n = len(metrics)
    tables = [caec_metric_table(summary, m, order=order) for m in metrics]
    nrow, ncol = tables[0].values.shape
    fig, axes = plt.subplots(1, n, figsize=(n * (2.2 + 0.9 * ncol), 1.2 + 0.32 * nrow), squeeze=False)
    rows = [" / ".join(map(str, t)) for t in tables[0].values.index]
    for k, (ax, t) in enumerate(zip(axes[0], tables)):
        v = t.values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        im = ax.imshow(np.ma.masked_invalid(v), aspect="auto", cmap=plt.get_cmap("viridis").with_extremes(bad="0.9"),
                       vmin=0, vmax=1)
        ax.set_xticks(range(ncol), [str(c) for c in t.values.columns], rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(nrow), rows if k == 0 else [""] * nrow, fontsize=8)
        for i in range(nrow):
            for j in range(ncol):
                if np.isfinite(v[i, j]):
                    ax.text(j, i, f"{v[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="black" if v[i, j] > 0.5 else "white")
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
