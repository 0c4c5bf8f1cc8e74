"""Figure helpers shared by every report figure: atomic PNG + SVG saving, placeholders, a table heatmap."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from embtree.io import atomic_path
from embtree.report.table import ReportTable


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (``.png``) and the same name with ``.svg``, atomically."""
    path = Path(path)
    out = []
    # One tight bounding box for both formats: bbox_inches="tight" would draw each figure an
    # extra time per format (most of the cost of report regeneration).
    bbox = fig.get_tightbbox().padded(0.1)
    for p in (path.with_suffix(".png"), path.with_suffix(".svg")):
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=100 if p.suffix == ".png" else None, bbox_inches=bbox, format=p.suffix[1:])
        out.append(p)
    plt.close(fig)
    return out



def placeholder_figure(message):
    """A figure that states what is missing (partial reports keep every figure slot visible)."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    ax.axis("off")
    return fig



def plot_heatmap(table, *, title=None, cmap="viridis"):
    """Heatmap of a numeric :class:`ReportTable` (or DataFrame), values annotated in the cells.

    Missing / not-applicable cells are left blank (grey).
    """
    values = table.values if isinstance(table, ReportTable) else table
    numeric = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = [" / ".join(map(str, t)) if isinstance(t, tuple) else str(t) for t in values.index]
    cols = [" / ".join(map(str, t)) if isinstance(t, tuple) else str(t) for t in values.columns]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * max(len(cols), 1), 1.0 + 0.35 * max(len(rows), 1)))
    masked = np.ma.masked_invalid(numeric)
    cm = plt.get_cmap(cmap).with_extremes(bad="0.9")
    im = ax.imshow(masked, aspect="auto", cmap=cm)
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    finite = numeric[np.isfinite(numeric)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(numeric.shape[0]):
        for j in range(numeric.shape[1]):
            v = numeric[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if v > mid else "white")
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title if title is not None else getattr(table, "title", ""), fontsize=9)
    return fig
