"""Merge & Expand figures (paper 003): t-SNE maps of the classes, seed regions and merged
clusters (figs. 3a/b), the three pairwise score heat maps (fig. 3c), example clean and unclean
images with their nearest neighbours (figs. 4a/b) and the consistent-neighbour histograms of
clean / unclean / all embeddings (fig. 4c)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from embtree.report.figures.base import no_data_figure, no_data_panel


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


def _palette(n):
    """``n`` colours: tab10 up to 10, tab20 up to 20, then tab20 + tab20b + tab20c cycled."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    base = [plt.get_cmap(m)(i) for m in ("tab20", "tab20b", "tab20c") for i in range(20)]
    return [base[i % len(base)] for i in range(n)]


def _tsne_axes(ax, panel):
    ax.set_title(panel, fontsize=9)
    ax.set_xlabel("t-SNE 1 (no unit)", fontsize=8)
    ax.set_ylabel("t-SNE 2", fontsize=8)
    ax.tick_params(labelsize=7)


def plot_me_tsne(xy, classes, class_names, regions, seeds, clusters, clean, *, translated=None, title=""):
    """Figs. 3a/b: one t-SNE map of a subsample of the embeddings, coloured three ways.

    (a) by true class (the paper's fig. 3a; with ``translated``, MNIST-TRAN's moved digits are
    triangles); (b) by seed region (fig. 3b: every seed region its colour and its id at its
    median; the samples of the other regions small and grey); (c) by Merge & Expand's final
    cluster, clean samples as dots, unclean as crosses.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), the t-SNE coordinates
    classes : ndarray of shape (n,), int true class
    class_names : sequence of str
    regions : ndarray of shape (n,), int phase 1 region
    seeds : ndarray of shape (K,), the seed region ids
    clusters : ndarray of shape (n,), int final cluster
    clean : ndarray of shape (n,), bool
    translated : ndarray of shape (n,), bool, optional
    """
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or len(xy) == 0:
        return no_data_figure(f"{title + ': ' if title else ''}no t-SNE coordinates")
    classes, regions, clusters = (np.asarray(a, dtype=np.int64) for a in (classes, regions, clusters))
    clean, seeds = np.asarray(clean, dtype=bool), np.asarray(seeds, dtype=np.int64)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    # (a) true classes
    ax = axes[0]
    C = len(class_names)
    colours = _palette(C)
    moved = np.zeros(len(xy), bool) if translated is None else np.asarray(translated, dtype=bool)
    for c in range(C):
        for is_moved, marker in ((False, "o"), (True, "^")):
            sel = (classes == c) & (moved == is_moved)
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=5 if not is_moved else 9, marker=marker, color=colours[c],
                           alpha=0.6, linewidths=0, rasterized=True,
                           label=str(class_names[c]) if C <= 20 and not is_moved else None)
    _tsne_axes(ax, "(a) true classes" + ("; triangles: translated images" if moved.any() else ""))
    if C <= 20:
        ax.legend(fontsize=6, markerscale=2, ncol=2 if C > 10 else 1, loc="center left",
                  bbox_to_anchor=(1.0, 0.5), title="class", title_fontsize=7)
    # (b) seed regions
    ax = axes[1]
    if len(seeds):
        rest = ~np.isin(regions, seeds)
        ax.scatter(xy[rest, 0], xy[rest, 1], s=2, color="0.8", linewidths=0, rasterized=True)
        colours = _palette(len(seeds))
        for j, r in enumerate(seeds):
            sel = regions == r
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=12, color=colours[j], linewidths=0, rasterized=True)
                mx, my = np.median(xy[sel], axis=0)
                ax.text(mx, my, str(r), fontsize=7, ha="center", va="center",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": colours[j], "alpha": 0.8})
        _tsne_axes(ax, f"(b) the {len(seeds)} seed regions (labelled by region id; grey: other regions)")
    else:
        no_data_panel(ax, "no seed regions")
    # (c) merged clusters, clean vs unclean
    ax = axes[2]
    ids = np.unique(clusters)
    colours = _palette(len(ids))
    for j, c in enumerate(ids):
        for is_clean, marker, size in ((True, "o", 5), (False, "x", 7)):
            sel = (clusters == c) & (clean == is_clean)
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=size, marker=marker, color=colours[j],
                           linewidths=0 if is_clean else 0.6, alpha=0.7, rasterized=True)
    _tsne_axes(ax, f"(c) the {len(ids)} merged clusters: dots clean ({int(clean.sum())}), "
                   f"crosses unclean ({int((~clean).sum())})")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# Where the 8 nearest neighbours sit around the example (the centre), nearest first.
_RING = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]


def plot_me_examples(clean_thumbs, clean_labels, unclean_thumbs, unclean_labels, class_names, *, title=""):
    """Figs. 4a/b: clean and unclean example images, each amid its 8 nearest neighbours.

    Every example is a 3x3 mosaic: the example in the centre (blue frame), its nearest
    neighbours in the embedding around it clockwise from the top left, nearest first; each tile
    names its true class, its frame green where that is the example's class, red where not.
    (a) clean examples in the left column, (b) unclean in the right.

    Parameters
    ----------
    clean_thumbs, unclean_thumbs : ndarray of shape (n, 9, H, W, 3), uint8
        the example (index 0) and its neighbours (1..8, nearest first)
    clean_labels, unclean_labels : ndarray of shape (n, 9), int true classes
    class_names : sequence of str
    """
    kinds = [("(a) clean", np.asarray(clean_thumbs), np.asarray(clean_labels)),
             ("(b) unclean", np.asarray(unclean_thumbs), np.asarray(unclean_labels))]
    rows = max(len(t) for _, t, _ in kinds)
    if rows == 0:
        return no_data_figure(f"{title + ': ' if title else ''}no examples")
    fig = plt.figure(figsize=(7.5, 3.7 * rows + 0.4))
    outer = fig.add_gridspec(rows, 2, wspace=0.15, hspace=0.25)
    for col, (name, thumbs, labels) in enumerate(kinds):
        for row in range(rows):
            if row >= len(thumbs):
                ax = fig.add_subplot(outer[row, col])
                no_data_panel(ax, f"no {name.split()[-1]} samples")
                continue
            inner = outer[row, col].subgridspec(3, 3, wspace=0.05, hspace=0.3)
            for t, (r, c) in enumerate([(1, 1)] + _RING[: thumbs.shape[1] - 1]):
                ax = fig.add_subplot(inner[r, c])
                ax.imshow(thumbs[row, t], interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                same = labels[row, t] == labels[row, 0]
                edge = "tab:blue" if t == 0 else ("tab:green" if same else "tab:red")
                for spine in ax.spines.values():
                    spine.set_edgecolor(edge)
                    spine.set_linewidth(3 if t == 0 else 2)
                ax.set_title(textwrap.shorten(str(class_names[labels[row, t]]), 14, placeholder="."), fontsize=7,
                             pad=2, color=edge, fontweight="bold" if t == 0 else "normal")
            n_same = int((labels[row, 1:] == labels[row, 0]).sum())
            top = fig.add_subplot(outer[row, col], frameon=False)
            top.set_xticks([])
            top.set_yticks([])
            top.set_title(f"{name} example {row + 1}: {n_same}/{thumbs.shape[1] - 1} neighbours share its class",
                          fontsize=8, pad=14)
    fig.suptitle(title, fontsize=10)
    return fig
