"""Merge & Expand figures (paper 003): the three pairwise score heat maps (fig. 3c) and the
consistent-neighbour histograms of clean / unclean / all embeddings (fig. 4c)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_me_scores(m1, m2, m3, partition, *, title=""):
    """Heat maps of M1 (co-contribution), M2 (leakage p-value) and M3 (replacement), fig. 3c.

    Seeds are ordered by merged block (blocks outlined), so merged seeds sit together.

    Parameters
    ----------
    m1, m2, m3 : ndarray of shape (K, K)
    partition : ndarray of shape (K,), merged block of each seed
    """
    partition = np.asarray(partition)
    K = len(partition)
    order = np.argsort(partition, kind="stable")
    fig, axes = plt.subplots(1, 3, figsize=(3.6 * 3, 3.6))
    panels = (("M1 co-contribution", m1, "viridis"), ("M2 leakage p-value", m2, "viridis_r"),
              ("M3 replacement", m3, "viridis"))
    for ax, (name, M, cmap) in zip(axes, panels):
        M = np.asarray(M, dtype=float)[np.ix_(order, order)]
        shown = np.where(np.eye(K, dtype=bool), np.nan, M)
        im = ax.imshow(np.ma.masked_invalid(shown), cmap=plt.get_cmap(cmap).with_extremes(bad="0.85"),
                       vmin=0, vmax=1 if "p-value" in name else None)
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(K), order, fontsize=6, rotation=90)
        ax.set_yticks(range(K), order, fontsize=6)
        # Block outlines.
        p = partition[order]
        start = 0
        for i in range(1, K + 1):
            if i == K or p[i] != p[start]:
                if i - start > 1:
                    ax.add_patch(plt.Rectangle((start - 0.5, start - 0.5), i - start, i - start, fill=False,
                                               edgecolor="red", linewidth=1.2))
                start = i
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title or f"{K} seed regions -> {len(np.unique(partition))} merged (red boxes)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_consistent_neighbours(hist, *, k=None, title=""):
    """Fig. 4c: distribution of the number of consistent neighbours among the k nearest.

    Parameters
    ----------
    hist : DataFrame with columns ``consistent`` (0..k) and ``clean``, ``unclean``, ``all`` (counts)
    """
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = hist["consistent"].to_numpy()
    for col, colour in (("clean", "tab:blue"), ("unclean", "tab:red"), ("all", "black")):
        counts = hist[col].to_numpy(dtype=float)
        total = counts.sum()
        frac = counts / total if total else counts
        ax.plot(x, frac, marker="o", color=colour, label=f"{col} (n={int(total)})")
    ax.set_xlabel(f"consistent neighbours among the {k or int(x.max())} nearest")
    ax.set_ylabel("fraction of embeddings")
    ax.set_xticks(x)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
