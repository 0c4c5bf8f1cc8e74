"""Dendrogram of a scipy linkage with named (and purity-labelled) leaves: :func:`plot_dendrogram`.

Used for the L2H hierarchies (``workflow/scripts/l2h.py``) and the UPGMA relation trees
(``workflow/scripts/relation_tree.py``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster import hierarchy

__all__ = ["plot_dendrogram"]


def plot_dendrogram(Z, names, *, leaf_purity=None, title=None, ylabel="merge step"):
    """Matplotlib figure of a linkage with leaves labelled ``name (purity %)``.

    Parameters
    ----------
    Z : array of shape (n_leaves - 1, 4), a scipy linkage matrix
    names : sequence of n_leaves str, the leaf names
    leaf_purity : sequence of n_leaves float, optional; NaN is shown as ``(empty)``
    title, ylabel : str, the axes title and the label of the merge-height axis

    Returns the ``matplotlib.figure.Figure`` (the caller saves it).
    """
    Z = np.asarray(Z, dtype=float)
    k = Z.shape[0] + 1
    labels = [str(s) for s in names]
    if leaf_purity is not None:
        labels = [
            f"{s} ({100 * p:.0f}%)" if np.isfinite(p) else f"{s} (empty)"
            for s, p in zip(labels, leaf_purity)
        ]
    height = max(4.0, min(0.16 * k, 160.0))
    fig, ax = plt.subplots(figsize=(8, height))
    hierarchy.dendrogram(
        Z,
        labels=labels,
        orientation="left",
        ax=ax,
        color_threshold=0,
        above_threshold_color="0.3",
        leaf_font_size=max(3.0, min(9.0, 600.0 / k)),
    )
    ax.set_xlabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
