"""Dendrograms of trees, alone or next to the reference tree (tanglegram style).

Public names
------------
:func:`plot_tree`, :func:`plot_tree_pair`, :func:`comparison_caption`, :func:`tree_figure`.
Trees are Newick strings or ``dendropy.Tree`` (:mod:`embtree.hierarchy.newick`).
"""

from __future__ import annotations

from pathlib import Path

import dendropy
import matplotlib.collections
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from embtree.hierarchy.compare import compare_trees
from embtree.hierarchy.newick import as_tree, parse_newick
from embtree.report.common import MISSING, MissingResultsError
from embtree.report.figures.base import placeholder_figure


def _read(text):
    """Parse a figure's Newick text (:func:`embtree.hierarchy.newick.parse_newick`), which
    must end with ``;`` (a file cut short is reported, not drawn)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("newick text is empty")
    s = text.strip()
    if not s.endswith(";"):
        raise ValueError(f"newick text must end with ';', got ...{s[-20:]!r}")
    return parse_newick(s)


def _nodes(tree):
    """A tree as nested ``(name, length, children)`` tuples, the light structure the layout
    below recurses over (and rotates and relabels without touching the tree).

    ``tree``: Newick text (:func:`_read`), a ``dendropy.Tree``, or tuples already.
    """
    if isinstance(tree, tuple):
        return tree
    tree = as_tree(tree) if isinstance(tree, dendropy.Tree) else _read(tree)

    def node(nd):
        name = nd.taxon.label if nd.taxon is not None else (nd.label or "")
        return (name, nd.edge.length, [node(c) for c in nd.child_node_iter()])

    return node(tree.seed_node)


def _height(node):
    return 0 if not node[2] else 1 + max(_height(c) for c in node[2])



def _all_lengths(tree):
    return all(c[1] is not None and _all_lengths(c) for c in tree[2])



def _layout(tree, use_lengths=True, internals=None):
    """Node positions of a rectangular dendrogram.

    x is the distance from the root (branch lengths when every branch has one, otherwise a
    cladogram with the leaves aligned); y is the leaf order. Returns the line segments
    ``((x0, y0), (x1, y1))`` and the leaves ``(name, x, y)``; ``internals``, a list, receives
    the internal nodes ``(name, x, y)`` below the root (y: the middle of their bar).
    """
    leaves, segs = [], []
    phylogram = use_lengths and _all_lengths(tree)
    top = _height(tree)

    def walk(node, x_parent):
        name, length, children = node
        if phylogram:
            x = x_parent + (length or 0.0) if x_parent is not None else 0.0
        else:
            x = float(top - _height(node))
        if not children:
            y = float(len(leaves))
            leaves.append((name, x, y))
            return x, y
        ys = []
        for c in children:
            cx, cy = walk(c, x)
            segs.append(((x, cy), (cx, cy)))
            ys.append(cy)
        segs.append(((x, min(ys)), (x, max(ys))))
        if internals is not None and x_parent is not None:
            internals.append((name, x, (min(ys) + max(ys)) / 2))
        return x, (min(ys) + max(ys)) / 2

    walk(tree, None)
    return segs, leaves



def _rotate_to(tree, target_y):
    """``tree`` with every node's children sorted by the mean ``target_y`` of their leaves."""

    def walk(node):
        name, length, children = node
        if not children:
            y = target_y.get(name)
            return node, ([y] if y is not None else [])
        done = [walk(c) for c in children]
        done.sort(key=lambda cy: np.mean(cy[1]) if cy[1] else np.inf)
        return (name, length, [c for c, _ in done]), [y for _, ys in done for y in ys]

    return walk(tree)[0]



#: x-axis name of a tree drawn with its branch lengths, when the caller names no unit.
DISTANCE_LABEL = "distance from the root (sum of branch lengths)"
#: x-axis name of a tree drawn without branch lengths (a cladogram: leaves aligned).
CLADOGRAM_LABEL = "cladogram: topology only, no branch lengths"


def plot_tree(newick, *, ax=None, title="", mirror=False, use_lengths=True, show_labels=True, xlabel=None,
              support=False):
    """Draw a (possibly multifurcating) tree (Newick or ``dendropy.Tree``) as a rectangular dendrogram.

    Branch lengths are used when every branch has one (x axis = distance from the root),
    otherwise a cladogram is drawn (x axis hidden, named :data:`CLADOGRAM_LABEL`). ``xlabel``
    names the distance axis (e.g. ``"euclidean distance from the root"``; default
    :data:`DISTANCE_LABEL`). Leaves that end before the deepest one get a dotted guide to the
    label column. ``mirror=True`` puts the root on the right. ``support=True`` writes the
    internal nodes' integer labels (bootstrap support in %, as the pipeline's trees carry them;
    docs/methods/support.md) beside each node; other internal labels (a reference's synset
    names) are never drawn.
    Returns ``(ax, {leaf name: y})``.
    """
    tree = _nodes(newick)
    internals = []
    segs, leaves = _layout(tree, use_lengths, internals)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, max(2.5, 0.25 * len(leaves))))
    sign = -1 if mirror else 1
    xmax = max(x for _, x, _ in leaves)
    # One LineCollection per style, not one Line2D per segment: a 1,000-leaf tree has ~4,000
    # segments, and per-segment artists made drawing it take most of a minute.
    ax.add_collection(matplotlib.collections.LineCollection(
        [[(sign * x0, y0), (sign * x1, y1)] for (x0, y0), (x1, y1) in segs], colors="0.2", linewidths=1))
    guides = [[(sign * x, y), (sign * xmax, y)] for _, x, y in leaves if x < xmax]
    if guides:
        ax.add_collection(matplotlib.collections.LineCollection(guides, colors="0.7", linewidths=0.6,
                                                                linestyles=":"))
    xs = [0.0, sign * xmax] + [sign * x for seg in segs for x, _ in seg]
    pad = 0.02 * (max(xs) - min(xs) or 1.0)  # collections do not autoscale the axes
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    for name, x, y in leaves:
        if show_labels:
            ax.text(sign * xmax, y, f" {name} " if name else "", va="center", ha="right" if mirror else "left",
                    fontsize=8)
    if support:
        fs = 6 if len(leaves) <= 40 else 4
        for name, x, y in internals:
            if str(name).isdigit():
                ax.text(sign * x, y, f"{name} ", va="bottom", ha="left" if mirror else "right", fontsize=fs,
                        color="tab:blue")
    ax.set_yticks([])
    ax.set_ylim(-0.8, len(leaves) - 0.2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if use_lengths and _all_lengths(tree):
        ax.tick_params(labelsize=8)
        if mirror:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):g}"))
        ax.set_xlabel(xlabel or DISTANCE_LABEL, fontsize=8)
    else:
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.set_xlabel(CLADOGRAM_LABEL, fontsize=8, color="0.4")
    if title:
        ax.set_title(title, fontsize=9)
    return ax, {name: y for name, _, y in leaves}



def plot_tree_pair(newick, reference, *, title="", left_title="relation tree", right_title="reference",
                   caption="", leaf_labels=None, xlabel=None):
    """A tree next to the reference tree (tanglegram style): equal leaves joined by lines.

    ``newick`` and ``reference`` are Newick strings or ``dendropy.Tree``.

    Returns a matplotlib Figure with three panels: the tree (root on the left), the leaf
    labels of both trees joined by a line per shared leaf, and the mirrored reference;
    ``caption`` (e.g. :func:`comparison_caption`) is printed under the panels.
    ``leaf_labels`` maps a leaf name to the text shown beside the tree (e.g. ``cat (87%)``);
    ``xlabel`` names the tree's distance axis (:func:`plot_tree`); the reference is a cladogram.
    The tree's bootstrap support (its integer internal labels) is written at its nodes.
    """
    leaf_labels = leaf_labels or {}
    t = _nodes(newick)
    r = _nodes(reference)
    # Rotate the reference's children (which does not change it) to follow the tree's leaf
    # order, so that lines cross only where the topologies really differ.
    r = _rotate_to(r, {name: y for name, _, y in _layout(t)[1]})
    n = max(len(_layout(t)[1]), len(_layout(r)[1]))
    # Leaves are 0.22 in apart at any size, so labels stay legible (7-8 pt) for 1,000 classes;
    # the middle panel widens for long names (the SVG copy can be zoomed).
    wide = n > 100
    height = max(3.0, 0.22 * n + 1)
    fig, axes = plt.subplots(
        1, 3, figsize=(15 if wide else 11, height),
        gridspec_kw={"width_ratios": [3, 5 if wide else 2.6, 3]},
    )
    _, ya = plot_tree(t, ax=axes[0], title=left_title, show_labels=False, xlabel=xlabel, support=True)
    _, yb = plot_tree(r, ax=axes[2], title=right_title, mirror=True, use_lengths=False, show_labels=False)
    link = axes[1]
    fs = 8 if n <= 40 else 7
    for name, y in ya.items():
        link.text(0, y, leaf_labels.get(name, name), ha="left", va="center", fontsize=fs)
    for name, y in yb.items():
        link.text(1, y, name, ha="right", va="center", fontsize=fs)
    shared = [(y, yb[name]) for name, y in ya.items() if name in yb]
    link.add_collection(matplotlib.collections.LineCollection(
        [[(0.4, y0), (0.6, y1)] for y0, y1 in shared], linewidths=0.7, alpha=0.8,
        colors=["tab:red" if abs(y0 - y1) > 0.5 else "tab:blue" for y0, y1 in shared]))
    link.set_xlim(0, 1)
    for ax in axes[1:]:
        ax.set_ylim(axes[0].get_ylim())
    link.axis("off")
    # Margins in inches, not figure fractions: matplotlib's default fractions (12 % above,
    # 11 % below) left 25 inches of white around a 1,000-leaf figure 220 inches tall.
    top, bottom = 0.75 / height, 0.6 / height  # bottom: the distance axis, its ticks and name
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.2 / height, va="top")
    if caption:
        fig.text(0.5, 0.0, caption, ha="center", va="top", fontsize=8)
    # No tight_layout: savefig(bbox_inches="tight") trims what lies outside.
    fig.subplots_adjust(wspace=0.02, top=1 - top, bottom=bottom)
    return fig



def comparison_caption(newick, reference):
    """One line of the tree-vs-reference scores for a figure (``""`` if they cannot be computed).

    RF (lower is better; against a multifurcating reference it also counts the binary tree's
    resolution of polytomies), clade recall / precision (higher is better; 1 / 1 = every
    reference clade recovered, extra resolution allowed), DI and DI/DI_max (lower is better).
    ``newick`` and ``reference`` are Newick strings or ``dendropy.Tree``.
    """
    try:
        s = compare_trees(newick, reference)
    except ValueError:  # e.g. different leaf sets: the figure still shows both trees
        return ""
    return (f"RF {s['rf']}/{s['rf_max']} (lower better) · clade recall {s['clade_recall']:.2f}, "
            f"precision {s['clade_precision']:.2f} (higher better) · DI {s['di']:.3g}, "
            f"DI/DI_max {s['di_norm']:.3f} (lower better)")  # fmt: skip


def tree_figure(run, partial=False):
    """The figure of one tree-figure spec of the report rules.

    ``run`` holds ``tree`` (Newick path), ``reference`` (Newick path or None), ``title`` and
    ``left`` (title of the tree panel), optionally ``xlabel`` (the name of its distance axis,
    default :data:`DISTANCE_LABEL`). A missing file raises :class:`MissingResultsError`,
    or with ``partial=True`` gives a placeholder figure naming it.
    """
    gone = [f for f in (run["tree"], run["reference"]) if f and not Path(f).exists()]
    if gone:
        if not partial:
            raise MissingResultsError(f"tree figure needs {', '.join(gone)} (file not found)")
        return placeholder_figure(f"{MISSING}: {', '.join(gone)}")
    labels = _leaf_purity_labels(run.get("leaves"))
    tree = _read(Path(run["tree"]).read_text())  # parsed once for the caption and the drawing
    if run["reference"]:
        reference = _read(Path(run["reference"]).read_text())
        return plot_tree_pair(tree, reference, title=run["title"], left_title=run["left"],
                              caption=comparison_caption(tree, reference), leaf_labels=labels,
                              xlabel=run.get("xlabel"))
    tree = _nodes(tree)
    if labels:
        _relabel(tree, labels)
    return plot_tree(tree, title=run["title"], xlabel=run.get("xlabel"))[0].figure


def _leaf_purity_labels(path):
    """``{leaf: "leaf (87%)"}`` from an L2H ``leaves.tsv`` (none when absent)."""
    if not path or not Path(path).exists():
        return {}
    t = pd.read_csv(path, sep="\t", keep_default_na=False, dtype={"leaf": str})
    return {
        str(r.leaf): f"{r.leaf} ({100 * float(r.purity):.0f}%)" if r.purity != "" else str(r.leaf)
        for r in t.itertuples()
    }


def _relabel(node, labels):
    """Rename the leaves of a :func:`_nodes` tree in place."""
    name, length, children = node
    for i, child in enumerate(children):
        if child[2]:
            _relabel(child, labels)
        else:
            children[i] = (labels.get(child[0], child[0]), child[1], child[2])
