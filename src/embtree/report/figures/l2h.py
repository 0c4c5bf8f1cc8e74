"""Dendrogram of a scipy linkage with named (and purity-labelled) leaves: :func:`plot_dendrogram`.

Used for the L2H hierarchies (``workflow/scripts/l2h.py``) and the UPGMA relation trees
(``workflow/scripts/relation_tree.py``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.transforms import offset_copy
import numpy as np
from scipy.cluster import hierarchy

from embtree.hierarchy.newick import support_percent
from embtree.report.figures.base import no_data_figure

__all__ = ["plot_dendrogram"]


def _node_positions(Z, leaves):
    """Leaf-axis position of every internal node of ``Z`` as scipy's dendrogram draws it.

    ``leaves`` is the dendrogram's leaf order (``R["leaves"]``): leaf ``leaves[i]`` sits at
    ``5 + 10 i`` and a node at the midpoint of its two children, as scipy places the top of
    each U-link. Returned in row order (row ``k`` = node ``n_leaves + k``).
    """
    n = Z.shape[0] + 1
    pos = np.empty(2 * n - 1)
    pos[np.asarray(leaves)] = 5.0 + 10.0 * np.arange(n)
    for k, (a, b) in enumerate(Z[:, :2].astype(np.int64)):
        pos[n + k] = (pos[a] + pos[b]) / 2
    return pos[n:]


def plot_dendrogram(Z, names, *, leaf_purity=None, title=None, ylabel="merge step", support=None):
    """Matplotlib figure of a linkage with leaves labelled ``name (purity %)``.

    Parameters
    ----------
    Z : array of shape (n_leaves - 1, 4), a scipy linkage matrix
    names : sequence of n_leaves str, the leaf names
    leaf_purity : sequence of n_leaves float, optional; NaN is shown as ``(empty)``
    title, ylabel : str, the axes title and the name of the merge-height axis (with its unit, e.g.
        ``"euclidean distance (UPGMA merge height)"``; an empty one falls back to ``"merge height"``)
    support : sequence of n_leaves - 1 float in [0, 1], optional
        Bootstrap support of the clade of every linkage row
        (:func:`embtree.hierarchy.support.clade_support`), written in integer percent
        (rounded down) next to each internal node's junction; the root is left out.

    Returns the ``matplotlib.figure.Figure`` (the caller saves it); a linkage of a single leaf
    (nothing merged) gives a "no data" figure.
    """
    Z = np.asarray(Z, dtype=float).reshape(-1, 4)
    k = Z.shape[0] + 1
    if k < 2:
        return no_data_figure(f"{title + ': ' if title else ''}a single leaf, nothing merged")
    labels = [str(s) for s in names]
    if leaf_purity is not None:
        labels = [
            f"{s} ({100 * p:.0f}%)" if np.isfinite(p) else f"{s} (empty)"
            for s, p in zip(labels, leaf_purity)
        ]
    height = max(4.0, min(0.16 * k, 160.0))
    fig, ax = plt.subplots(figsize=(8, height))
    font = max(3.0, min(9.0, 600.0 / k))
    R = hierarchy.dendrogram(
        Z,
        labels=labels,
        orientation="left",
        ax=ax,
        color_threshold=0,
        above_threshold_color="0.3",
        leaf_font_size=font,
    )
    if support is not None:
        pct = support_percent(np.asarray(support, dtype=float).ravel())
        if pct.shape != (k - 1,):
            raise ValueError(f"support has {pct.size} values; Z has {k - 1} internal nodes")
        # orientation="left": merge heights on x, leaves on y; each label sits on the node's
        # branch (root side of the bar joining its two children), just above the line.
        # ax.text on one shared offset transform: ~3x cheaper to draw than ax.annotate, which
        # matters at 1,000 leaves (999 labels).
        shifted = offset_copy(ax.transData, fig=fig, x=-1.0, y=0.5, units="points")
        for x, y, p in zip(Z[:-1, 2], _node_positions(Z, R["leaves"])[:-1], pct[:-1]):
            ax.text(x, y, str(p), transform=shifted, ha="right", va="bottom", fontsize=0.8 * font,
                    color="tab:blue")
    ax.set_xlabel(ylabel or "merge height")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
