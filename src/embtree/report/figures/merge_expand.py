"""Merge & Expand figures (paper 003): the three pairwise score heat maps (fig. 3c) and the
consistent-neighbour histograms of clean / unclean / all embeddings (fig. 4c)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from embtree.report.figures.base import no_data_figure


def _seed_ticks(ax, order, max_labels=20):
    """Seed ids on both axes, legible at any K: at most ``max_labels`` labels (every n-th seed)."""
    K = len(order)
    every = max(1, int(np.ceil(K / max_labels)))
    ticks = np.arange(0, K, every)
    ax.set_xticks(ticks, [str(order[t]) for t in ticks], fontsize=8)
    ax.set_yticks(ticks, [str(order[t]) for t in ticks], fontsize=8)
    what = "seed region" + (f" (every {every}th labelled)" if every > 1 else "")
    ax.set_xlabel(f"{what} j", fontsize=8)
    ax.set_ylabel("seed region i (ordered by merged block)", fontsize=8)


def plot_me_scores(m1, m2, m3, partition, *, title=""):
    """Heat maps of M1 (co-contribution), M2 (leakage p-value) and M3 (replacement), fig. 3c.

    Seeds are ordered by merged block (blocks outlined), so merged seeds sit together; both axes
    are seed regions (at most 20 labelled), the diagonal (a seed with itself) is grey. M2 is drawn
    on its full range 0-1; M1 and M3 from 0 to their largest off-diagonal value, which each colour
    bar states. No seeds: a "no data" figure.

    Parameters
    ----------
    m1, m2, m3 : ndarray of shape (K, K)
    partition : ndarray of shape (K,), merged block of each seed
    """
    partition = np.asarray(partition)
    K = len(partition)
    if K == 0:
        return no_data_figure(f"{title + ': ' if title else ''}no seed regions (Merge & Expand found none)")
    order = np.argsort(partition, kind="stable")
    fig, axes = plt.subplots(1, 3, figsize=(4.0 * 3, 4.0))
    panels = (("M1 co-contribution", m1, "viridis", "mean output of seed j's classifier on seed i's points"),
              ("M2 leakage p-value", m2, "viridis_r", "p-value (range 0-1; low = leakage)"),
              ("M3 replacement", m3, "viridis", "replacement score"))
    for ax, (name, M, cmap, unit) in zip(axes, panels):
        M = np.asarray(M, dtype=float)[np.ix_(order, order)]
        shown = np.where(np.eye(K, dtype=bool), np.nan, M)
        im = ax.imshow(np.ma.masked_invalid(shown), cmap=plt.get_cmap(cmap).with_extremes(bad="0.85"),
                       vmin=0, vmax=1 if "p-value" in name else None)
        ax.set_title(name, fontsize=9)
        _seed_ticks(ax, order)
        # Block outlines.
        p = partition[order]
        start = 0
        for i in range(1, K + 1):
            if i == K or p[i] != p[start]:
                if i - start > 1:
                    ax.add_patch(plt.Rectangle((start - 0.5, start - 0.5), i - start, i - start, fill=False,
                                               edgecolor="red", linewidth=1.2))
                start = i
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        bar.ax.tick_params(labelsize=8)
        bar.set_label(textwrap.fill(unit, 34), fontsize=7)
    fig.suptitle(title or f"{K} seed regions -> {len(np.unique(partition))} merged (red boxes)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_consistent_neighbours(hist, *, k=None, title=""):
    """Fig. 4c: distribution of the number of consistent neighbours among the k nearest.

    Parameters
    ----------
    hist : DataFrame with columns ``consistent`` (0..k) and ``clean``, ``unclean``, ``all`` (counts)
    """
    if not len(hist) or not hist[["clean", "unclean", "all"]].to_numpy(dtype=float).sum():
        return no_data_figure(f"{title + ': ' if title else ''}no embeddings counted")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = hist["consistent"].to_numpy()
    for col, colour in (("clean", "tab:blue"), ("unclean", "tab:red"), ("all", "black")):
        counts = hist[col].to_numpy(dtype=float)
        total = counts.sum()
        frac = counts / total if total else counts
        ax.plot(x, frac, marker="o", color=colour, label=f"{col} (n={int(total)})", clip_on=False)
    ax.set_xlabel(f"consistent neighbours among the {k or int(x.max())} nearest")
    ax.set_ylabel("fraction of embeddings (0-1)")
    ax.set_ylim(0, 1)
    ax.set_xticks(x)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
