"""Dendrograms of Newick trees, alone or next to the reference tree (tanglegram style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from embtree.report.common import MISSING, MissingResultsError
from embtree.report.figures.base import placeholder_figure


def parse_newick(text):
    """Parse a Newick string into nested ``(name, length, children)`` tuples.

    Hand-written (about 30 lines) rather than dendropy because the report only needs
    topology, leaf names and branch lengths, and dendropy's taxon-namespace handling renames
    leaves (underscores to spaces) which would break matching against class names.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("newick text is empty")
    s = text.strip()
    if not s.endswith(";"):
        raise ValueError(f"newick text must end with ';', got ...{s[-20:]!r}")
    pos = 0

    def label():
        nonlocal pos
        start = pos
        if pos < len(s) and s[pos] == "'":
            end = s.index("'", pos + 1)
            pos = end + 1
            name = s[start + 1 : end]
        else:
            while pos < len(s) and s[pos] not in ",():;":
                pos += 1
            name = s[start:pos].strip()
        length = None
        if pos < len(s) and s[pos] == ":":
            pos += 1
            start = pos
            while pos < len(s) and s[pos] not in ",();":
                pos += 1
            length = float(s[start:pos])
        return name, length

    def node():
        nonlocal pos
        children = []
        if s[pos] == "(":
            pos += 1
            children.append(node())
            while s[pos] == ",":
                pos += 1
                children.append(node())
            if s[pos] != ")":
                raise ValueError(f"newick: expected ')' at position {pos}")
            pos += 1
        name, length = label()
        return (name, length, children)

    tree = node()
    if s[pos] != ";":
        raise ValueError(f"newick: unexpected text at position {pos}: {s[pos:pos + 20]!r}")
    return tree



def _height(node):
    return 0 if not node[2] else 1 + max(_height(c) for c in node[2])



def _all_lengths(tree):
    return all(c[1] is not None and _all_lengths(c) for c in tree[2])



def _layout(tree, use_lengths=True):
    """Node positions of a rectangular dendrogram.

    x is the distance from the root (branch lengths when every branch has one, otherwise a
    cladogram with the leaves aligned); y is the leaf order. Returns the line segments
    ``((x0, y0), (x1, y1))`` and the leaves ``(name, x, y)``.
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



def plot_tree(newick, *, ax=None, title="", mirror=False, use_lengths=True, show_labels=True):
    """Draw a (possibly multifurcating) Newick tree as a rectangular dendrogram.

    Branch lengths are used when every branch has one (x axis = distance from the root),
    otherwise a cladogram is drawn (x axis hidden). Leaves that end before the deepest one get
    a dotted guide to the label column. ``mirror=True`` puts the root on the right.
    Returns ``(ax, {leaf name: y})``.
    """
    tree = parse_newick(newick) if isinstance(newick, str) else newick
    segs, leaves = _layout(tree, use_lengths)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, max(2.5, 0.25 * len(leaves))))
    sign = -1 if mirror else 1
    xmax = max(x for _, x, _ in leaves)
    for (x0, y0), (x1, y1) in segs:
        ax.plot([sign * x0, sign * x1], [y0, y1], color="0.2", lw=1)
    for name, x, y in leaves:
        if x < xmax:
            ax.plot([sign * x, sign * xmax], [y, y], color="0.7", lw=0.6, ls=":")
        if show_labels:
            ax.text(sign * xmax, y, f" {name} " if name else "", va="center", ha="right" if mirror else "left",
                    fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.8, len(leaves) - 0.2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if use_lengths and _all_lengths(tree):
        ax.tick_params(labelsize=7)
        if mirror:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):g}"))
    else:
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax, {name: y for name, _, y in leaves}



def plot_tree_pair(newick, reference, *, title="", left_title="relation tree", right_title="reference",
                   caption=""):
    """A tree next to the reference tree (tanglegram style): equal leaves joined by lines.

    Returns a matplotlib Figure with three panels: the tree (root on the left), the leaf
    labels of both trees joined by a line per shared leaf, and the mirrored reference;
    ``caption`` (e.g. :func:`comparison_caption`) is printed under the panels.
    """
    t = parse_newick(newick) if isinstance(newick, str) else newick
    r = parse_newick(reference) if isinstance(reference, str) else reference
    # Rotate the reference's children (which does not change it) to follow the tree's leaf
    # order, so that lines cross only where the topologies really differ.
    r = _rotate_to(r, {name: y for name, _, y in _layout(t)[1]})
    n = max(len(_layout(t)[1]), len(_layout(r)[1]))
    fig, axes = plt.subplots(
        1, 3, figsize=(11, max(3.0, 0.22 * n + 1)), gridspec_kw={"width_ratios": [3, 2.6, 3]}
    )
    _, ya = plot_tree(t, ax=axes[0], title=left_title, show_labels=False)
    _, yb = plot_tree(r, ax=axes[2], title=right_title, mirror=True, use_lengths=False, show_labels=False)
    link = axes[1]
    fs = 8 if n <= 40 else 6 if n <= 100 else 4
    for name, y in ya.items():
        link.text(0, y, name, ha="left", va="center", fontsize=fs)
    for name, y in yb.items():
        link.text(1, y, name, ha="right", va="center", fontsize=fs)
    for name, y in ya.items():
        if name in yb:
            crossed = abs(y - yb[name]) > 0.5
            link.plot([0.4, 0.6], [y, yb[name]], color="tab:red" if crossed else "tab:blue", lw=0.7, alpha=0.8)
    link.set_xlim(0, 1)
    for ax in axes[1:]:
        ax.set_ylim(axes[0].get_ylim())
    link.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    if caption:
        fig.text(0.5, 0.0, caption, ha="center", va="top", fontsize=8)
    fig.subplots_adjust(wspace=0.02)  # no tight_layout: savefig(bbox_inches="tight") trims the margins
    return fig



def comparison_caption(newick, reference):
    """One line of the tree-vs-reference scores for a figure (``""`` if they cannot be computed).

    RF (lower is better; against a multifurcating reference it also counts the binary tree's
    resolution of polytomies), clade recall / precision (higher is better; 1 / 1 = every
    reference clade recovered, extra resolution allowed), DI and DI/DI_max (lower is better).
    """
    from embtree import trees

    try:
        s = trees.compare_trees(newick, reference)
    except ValueError:  # e.g. different leaf sets: the figure still shows both trees
        return ""
    return (f"RF {s['rf']}/{s['rf_max']} (lower better) · clade recall {s['clade_recall']:.2f}, "
            f"precision {s['clade_precision']:.2f} (higher better) · DI {s['di']:.3g}, "
            f"DI/DI_max {s['di_norm']:.3f} (lower better)")  # fmt: skip


def tree_figure(run, partial=False):
    """The figure of one tree-figure spec of the report rules.

    ``run`` holds ``tree`` (Newick path), ``reference`` (Newick path or None), ``title`` and
    ``left`` (title of the tree panel). A missing file raises :class:`MissingResultsError`,
    or with ``partial=True`` gives a placeholder figure naming it.
    """
    gone = [f for f in (run["tree"], run["reference"]) if f and not Path(f).exists()]
    if gone:
        if not partial:
            raise MissingResultsError(f"tree figure needs {', '.join(gone)} (file not found)")
        return placeholder_figure(f"{MISSING}: {', '.join(gone)}")
    if run["reference"]:
        tree, reference = Path(run["tree"]).read_text(), Path(run["reference"]).read_text()
        return plot_tree_pair(tree, reference, title=run["title"], left_title=run["left"],
                              caption=comparison_caption(tree, reference))
    return plot_tree(Path(run["tree"]).read_text(), title=run["title"])[0].figure
