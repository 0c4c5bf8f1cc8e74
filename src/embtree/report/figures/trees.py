"""Dendrograms of trees, alone or next to the reference tree (tanglegram style), rectangular or
circular, with branches coloured by superclass and large trees collapsed below a depth.

Public names
------------
Drawing: :func:`plot_tree`, :func:`plot_tree_pair` (rectangular), :func:`plot_tree_circular`,
:func:`plot_circular_pair` (circular: paper 001, figs. 2, 3, 8), :func:`draw_trees` (either, as
``report.tree_figures`` says). Colours and collapsing: :func:`superclass_colours`,
:func:`collapse_tree`, :func:`clades_at`, :func:`auto_collapse_depth`. Report figures:
:func:`tree_figure` (a tree beside the reference), :func:`before_after_figure` (CAEC fig. 7);
their caption lines :func:`comparison_caption`, :func:`before_after_caption`.
Trees are Newick strings or ``dendropy.Tree`` (:mod:`embtree.hierarchy.newick`).
"""

from __future__ import annotations

import collections
from pathlib import Path

import dendropy
import matplotlib.collections
import matplotlib.colors
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from embtree.hierarchy.compare import compare_trees
from embtree.hierarchy.granularity import superclasses
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



def _layout(tree, use_lengths=True, internals=None, leaf_key=None, keys=None):
    """Node positions of a rectangular dendrogram.

    x is the distance from the root (branch lengths when every branch has one, otherwise a
    cladogram with the leaves aligned); y is the leaf order. Returns the line segments
    ``((x0, y0), (x1, y1))`` and the leaves ``(name, x, y)``; ``internals``, a list, receives
    the internal nodes ``(name, x, y)`` below the root (y: the middle of their bar).
    ``keys``, a list, receives one key per segment: the ``leaf_key(name)`` (e.g. a superclass)
    shared by every leaf below it, None where they differ or have none (the colour of a branch).
    """
    leaves, segs = [], []
    phylogram = use_lengths and _all_lengths(tree)
    top = _height(tree)
    key_of = leaf_key or (lambda name: None)

    def walk(node, x_parent):
        name, length, children = node
        if phylogram:
            x = x_parent + (length or 0.0) if x_parent is not None else 0.0
        else:
            x = float(top - _height(node))
        if not children:
            y = float(len(leaves))
            leaves.append((name, x, y))
            return x, y, key_of(name)
        ys, ks = [], []
        for c in children:
            cx, cy, ck = walk(c, x)
            segs.append(((x, cy), (cx, cy)))
            if keys is not None:
                keys.append(ck)
            ys.append(cy)
            ks.append(ck)
        segs.append(((x, min(ys)), (x, max(ys))))
        key = ks[0] if all(k == ks[0] for k in ks) else None
        if keys is not None:
            keys.append(key)
        if internals is not None and x_parent is not None:
            internals.append((name, x, (min(ys) + max(ys)) / 2))
        return x, (min(ys) + max(ys)) / 2, key

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
#: ``layout: auto`` (report.tree_figures): a tree with more leaves than this is drawn circular (paper
#: 001, figs. 2, 3, 8); smaller ones as today's rectangular tanglegram.
CIRCULAR_ABOVE = 60
#: ``collapse_depth: null`` (auto): a tree with more leaves than this is drawn with its clades collapsed
#: at the deepest depth that leaves at most :data:`COLLAPSE_TO` of them (issue 28: 10,000 classes).
COLLAPSE_ABOVE = 2000
COLLAPSE_TO = 1000
#: Colour of the branches of a tree drawn without superclasses.
PLAIN = "0.2"
#: Colour of a branch whose leaves span several superclasses (or lie under none of them).
MIXED = "0.62"
#: At most this many superclasses get a colour (the largest); the others are drawn :data:`MIXED`.
MAX_COLOURS = 18
#: Circular layout: the share of the circle left open between the first and the last leaf.
_GAP = 0.03
#: Circular layout: the smallest leaf-label font drawn (pt); below it, labels are left out.
_MIN_FONT = 1.5


def superclass_colours(superclass_of_leaf):
    """``{superclass: colour}`` for the :data:`MAX_COLOURS` superclasses with the most leaves (ties
    by name): tab10, or tab20 with its dark shades first so that neighbours in the ranking differ,
    without their greys (grey is :data:`MIXED`). None (a leaf under no superclass) and the smaller
    superclasses get none (drawn :data:`MIXED`)."""
    counts = collections.Counter(v for v in superclass_of_leaf.values() if v is not None)
    ranked = sorted(counts, key=lambda k: (-counts[k], str(k)))[:MAX_COLOURS]
    if len(ranked) <= 9:
        palette = [plt.get_cmap("tab10")(i) for i in range(10) if i != 7]
    else:
        palette = [plt.get_cmap("tab20")(i) for i in [*range(0, 20, 2), *range(1, 20, 2)] if i not in (14, 15)]
    return {k: matplotlib.colors.to_hex(palette[i]) for i, k in enumerate(ranked)}


def _colour_of(key, colours):
    return MIXED if key is None else colours.get(key, MIXED)


def _leaf_names(node):
    name, _, children = node
    return [name] if not children else [x for c in children for x in _leaf_names(c)]


def _deepest(node):
    """The longest path (sum of branch lengths) from ``node`` down to a leaf (None if one is unknown)."""
    _, _, children = node
    if not children:
        return 0.0
    below = [(c[1], _deepest(c)) for c in children]
    if any(length is None or d is None for length, d in below):
        return None
    return max(length + d for length, d in below)


def clades_at(tree, depth):
    """Number of clades a collapse at ``depth`` leaves: nodes at that depth (edges from the root)
    plus the leaves above it. ``tree``: Newick, ``dendropy.Tree`` or :func:`_nodes` tuples."""
    def count(node, d):
        return 1 if d == depth or not node[2] else sum(count(c, d + 1) for c in node[2])

    return count(_nodes(tree), 0)


def collapse_tree(tree, depth):
    """``tree`` with every clade rooted at ``depth`` (edges from the root) drawn as one tip.

    A tip keeps the clade's reach (its branch length plus the longest path below it), so a
    phylogram keeps its scale. Returns ``(nodes, members)``: :func:`_nodes` tuples and
    ``{tip name: [leaf names of its clade]}`` (tips named ``#0``, ``#1``, ...; leaves above
    ``depth`` stay as they are). The full tree stays in its Newick file.
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth={depth!r} should be an int >= 1")
    members = {}

    def walk(node, d):
        name, length, children = node
        if not children:
            return node
        if d == depth:
            tip = f"#{len(members)}"
            members[tip] = _leaf_names(node)
            below = _deepest(node)
            return (tip, None if length is None or below is None else length + below, [])
        return (name, length, [walk(c, d + 1) for c in children])

    return walk(_nodes(tree), 0), members


def auto_collapse_depth(tree):
    """``collapse_depth: null``: None (draw every leaf) up to :data:`COLLAPSE_ABOVE` leaves, else
    the deepest depth at which at most :data:`COLLAPSE_TO` clades remain."""
    tree = _nodes(tree)
    if len(_leaf_names(tree)) <= COLLAPSE_ABOVE:
        return None
    depth = 1
    while clades_at(tree, depth + 1) <= COLLAPSE_TO:
        depth += 1
    return depth


def _tip_texts(members, superclass, labels):
    """Label and superclass of each collapsed tip: ``"<majority superclass> 83% · 12 leaves"``;
    the tip's superclass (its colour) only when every leaf of the clade shares it."""
    text, key = {}, {}
    for tip, leaves in members.items():
        sup = [superclass.get(x) for x in leaves] if superclass else []
        counts = collections.Counter(s for s in sup if s is not None)
        if counts:
            top, k = counts.most_common(1)[0]
            text[tip] = f"{top} {100 * k / len(leaves):.0f}% · {len(leaves)} leaves"
            key[tip] = top if k == len(leaves) else None
        else:
            first = labels.get(leaves[0], leaves[0])
            text[tip] = f"{len(leaves)} leaves ({first}, …)" if len(leaves) > 1 else first
            key[tip] = None
    return text, key


def plot_tree(newick, *, ax=None, title="", mirror=False, use_lengths=True, show_labels=True, xlabel=None,
              support=False, superclass=None, colours=None):
    """Draw a (possibly multifurcating) tree (Newick or ``dendropy.Tree``) as a rectangular dendrogram.

    Branch lengths are used when every branch has one (x axis = distance from the root),
    otherwise a cladogram is drawn (x axis hidden, named :data:`CLADOGRAM_LABEL`). ``xlabel``
    names the distance axis (e.g. ``"euclidean distance from the root"``; default
    :data:`DISTANCE_LABEL`). Leaves that end before the deepest one get a dotted guide to the
    label column. ``mirror=True`` puts the root on the right. ``support=True`` writes the
    internal nodes' integer labels (bootstrap support in %, as the pipeline's trees carry them;
    docs/methods/support.md) beside each node; other internal labels (a reference's synset
    names) are never drawn. ``superclass`` ({leaf: superclass}) colours every branch whose leaves
    share one superclass (``colours``, default :func:`superclass_colours`), the others :data:`MIXED`.
    Returns ``(ax, {leaf name: y})``.
    """
    tree = _nodes(newick)
    internals, keys = [], ([] if superclass else None)
    colours = colours if colours is not None else superclass_colours(superclass or {})
    segs, leaves = _layout(tree, use_lengths, internals, leaf_key=(superclass or {}).get, keys=keys)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, max(2.5, 0.25 * len(leaves))))
    sign = -1 if mirror else 1
    xmax = max(x for _, x, _ in leaves)
    # One LineCollection per style, not one Line2D per segment: a 1,000-leaf tree has ~4,000
    # segments, and per-segment artists made drawing it take most of a minute.
    ax.add_collection(matplotlib.collections.LineCollection(
        [[(sign * x0, y0), (sign * x1, y1)] for (x0, y0), (x1, y1) in segs], linewidths=1,
        colors=[_colour_of(k, colours) for k in keys] if keys is not None else PLAIN))
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
                    fontsize=8, color=_colour_of(superclass.get(name), colours) if superclass else "black")
    if support:
        fs = 6 if len(leaves) <= 40 else 4
        for name, x, y in internals:
            if str(name).isdigit():
                ax.text(sign * x, y, f"{name} ", va="bottom", ha="left" if mirror else "right", fontsize=fs,
                        color="0.15")  # not a superclass colour
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


def _theta(y, n):
    """Angle (radians) of leaf position ``y`` of ``n`` in the circular layout, counter-clockwise from east."""
    return 2 * np.pi * (1 - _GAP) * (np.asarray(y, dtype=float) + 0.5) / n


def circular_lines(segs, n):
    """The rectangular layout's segments (:func:`_layout`) bent into a circle: x -> radius, leaf
    order y -> angle (:func:`_theta`). A segment along x becomes a radial line, one along y an arc
    (sampled every ~2 degrees). Returns a list of (m, 2) arrays of x, y points."""
    lines = []
    for (x0, y0), (x1, y1) in segs:
        if y0 == y1:
            t = _theta(y0, n)
            lines.append(np.array([[x0 * np.cos(t), x0 * np.sin(t)], [x1 * np.cos(t), x1 * np.sin(t)]]))
        else:
            t0, t1 = _theta(y0, n), _theta(y1, n)
            t = np.linspace(t0, t1, 2 + int(abs(t1 - t0) * 90 / np.pi))
            lines.append(np.column_stack([x0 * np.cos(t), x0 * np.sin(t)]))
    return lines


def _circle_inches(n):
    """Side of a circular panel: ~0.1 in of circumference per leaf, within 6-14 in (at 1,000 leaves
    the names shrink to ~2 pt: legible in the SVG, the colours carry the PNG)."""
    return float(np.clip(n * 0.1 / np.pi * 1.4, 6.0, 14.0))


def plot_tree_circular(newick, *, ax=None, title="", use_lengths=True, show_labels=True, superclass=None,
                       colours=None, leaf_labels=None):
    """Draw a tree as a circular dendrogram (paper 001, figs. 2, 3 and 8): the root in the centre,
    the distance from the root as the radius (a cladogram with the leaves on one circle when a branch
    has no length), the leaves around the circle with radial labels.

    ``superclass`` ({leaf: superclass}) colours every branch whose leaves share one superclass, and
    the leaf labels (``colours``, default :func:`superclass_colours`); ``leaf_labels`` maps a leaf to
    its shown text. Labels smaller than 1.5 pt (thousands of leaves on one panel) are left out.
    Returns ``(ax, {leaf name: y})`` (y: the leaf's rank around the circle).
    """
    tree = _nodes(newick)
    superclass = superclass or {}
    colours = colours if colours is not None else superclass_colours(superclass)
    leaf_labels = leaf_labels or {}
    keys = []
    segs, leaves = _layout(tree, use_lengths, leaf_key=superclass.get, keys=keys)
    n = len(leaves)
    if ax is None:
        side = _circle_inches(n)
        _, ax = plt.subplots(figsize=(side, side))
    rmax = max(x for _, x, _ in leaves) or 1.0
    ax.add_collection(matplotlib.collections.LineCollection(
        circular_lines(segs, n), linewidths=0.8 if n > 300 else 1.2,
        colors=[_colour_of(k, colours) for k in keys] if superclass else PLAIN))
    short = [(x, y) for _, x, y in leaves if x < rmax]  # dotted guides out to the label circle
    if short:
        t = _theta([y for _, y in short], n)
        r = np.array([x for x, _ in short])
        ax.add_collection(matplotlib.collections.LineCollection(
            [[(a * np.cos(b), a * np.sin(b)), (rmax * np.cos(b), rmax * np.sin(b))] for a, b in zip(r, t)],
            colors="0.75", linewidths=0.5, linestyles=":"))
    # The circle and the labels share the panel: the radius leaves room for the longest label, whose
    # font follows the circumference per leaf (at most 8 pt), so both are solved for together.
    fig = ax.figure
    half_in = 0.5 * min(ax.get_position().width * fig.get_figwidth(), ax.get_position().height * fig.get_figheight())
    chars = max((len(str(leaf_labels.get(name, name))) for name, _, _ in leaves), default=1) if show_labels else 0
    fs, r_in = 8.0, half_in
    for _ in range(3):
        r_in = max(0.3 * half_in, half_in - chars * fs * 0.6 / 72 - 0.1)
        fs = float(min(8.0, 0.85 * 2 * np.pi * r_in * (1 - _GAP) / n * 72))
    if show_labels and fs >= _MIN_FONT:
        for name, _, y in leaves:
            t = float(_theta(y, n))
            deg = np.degrees(t) % 360
            flip = 90 < deg < 270  # left half: text reads outwards from the circle, not upside down
            ax.text(1.02 * rmax * np.cos(t), 1.02 * rmax * np.sin(t), leaf_labels.get(name, name),
                    rotation=deg - 180 if flip else deg, rotation_mode="anchor", ha="right" if flip else "left",
                    va="center", fontsize=fs, color=_colour_of(superclass.get(name), colours) if superclass else "black")
    lim = rmax * half_in / r_in
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax, {name: y for name, _, y in leaves}


def _legend(fig, colours, superclass, title, *, y, fontsize=8):
    """Superclass colours with their leaf counts (``superclass``: {leaf: superclass} of the full
    tree, collapsed or not) under the panels, at figure height ``y``."""
    counts = collections.Counter(superclass.values())
    handles = [matplotlib.patches.Patch(color=c, label=f"{k} ({counts[k]})") for k, c in colours.items()]
    if any(v is None or v not in colours for v in superclass.values()) or len(colours) < len(counts):
        handles.append(matplotlib.patches.Patch(color=MIXED, label="several superclasses / other"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, y), ncol=min(4, len(handles)),
               fontsize=fontsize, title=title, title_fontsize=fontsize, frameon=False)


def plot_tree_pair(newick, reference, *, title="", left_title="relation tree", right_title="reference",
                   caption="", leaf_labels=None, xlabel=None, right_lengths=False, right_xlabel=None,
                   superclass=None, legend_title="", legend_leaves=None):
    """A tree next to the reference tree (tanglegram style): equal leaves joined by lines.

    ``newick`` and ``reference`` are Newick strings or ``dendropy.Tree``.

    Returns a matplotlib Figure with three panels: the tree (root on the left), the leaf
    labels of both trees joined by a line per shared leaf, and the mirrored reference;
    ``caption`` (e.g. :func:`comparison_caption`) is printed under the panels.
    ``leaf_labels`` maps a leaf name to the text shown beside the tree (e.g. ``cat (87%)``);
    ``xlabel`` names the tree's distance axis (:func:`plot_tree`); the reference is a cladogram
    unless ``right_lengths`` (then ``right_xlabel`` names its axis: another tree, e.g. CAEC fig. 7's
    after-clustering tree). The tree's bootstrap support (its integer internal labels) is written
    at its nodes. ``superclass`` ({leaf: superclass}) colours both trees' branches and the labels,
    with a legend titled ``legend_title`` (paper 001, figs. 2, 3, 8) counting the leaves of
    ``legend_leaves`` ({leaf: superclass} of the uncollapsed tree; default ``superclass``).
    """
    leaf_labels = leaf_labels or {}
    colours = superclass_colours(superclass or {})
    t = _nodes(newick)
    r = _nodes(reference)
    # Rotate the reference's children (which does not change it) to follow the tree's leaf
    # order, so that lines cross only where the topologies really differ.
    r = _rotate_to(r, {name: y for name, _, y in _layout(t)[1]})
    n = max(len(_layout(t)[1]), len(_layout(r)[1]))
    # Leaves are 0.22 in apart at any size, so labels stay legible (7-8 pt) for 1,000 classes;
    # the middle panel widens for long names (the SVG copy can be zoomed).
    wide = n > 100
    extra = 0.9 if superclass else 0.0  # the legend under the caption
    height = max(3.0, 0.22 * n + 1) + extra
    fig, axes = plt.subplots(
        1, 3, figsize=(15 if wide else 11, height),
        gridspec_kw={"width_ratios": [3, 5 if wide else 2.6, 3]},
    )
    _, ya = plot_tree(t, ax=axes[0], title=left_title, show_labels=False, xlabel=xlabel, support=True,
                      superclass=superclass, colours=colours)
    _, yb = plot_tree(r, ax=axes[2], title=right_title, mirror=True, use_lengths=right_lengths, show_labels=False,
                      xlabel=right_xlabel, support=right_lengths, superclass=superclass, colours=colours)
    link = axes[1]
    fs = 8 if n <= 40 else 7

    def colour(name):
        return _colour_of(superclass.get(name), colours) if superclass else "black"

    for name, y in ya.items():
        link.text(0, y, leaf_labels.get(name, name), ha="left", va="center", fontsize=fs, color=colour(name))
    for name, y in yb.items():
        link.text(1, y, name, ha="right", va="center", fontsize=fs, color=colour(name))
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
    top, bottom = 0.75 / height, (0.6 + extra) / height  # bottom: the distance axis, its ticks and name
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.2 / height, va="top")
    if caption:
        fig.text(0.5, extra / height, caption, ha="center", va="top", fontsize=8)
    if superclass:
        _legend(fig, colours, legend_leaves or superclass, legend_title, y=(extra - 0.2) / height)
    # No tight_layout: savefig(bbox_inches="tight") trims what lies outside.
    fig.subplots_adjust(wspace=0.02, top=1 - top, bottom=bottom)
    return fig


def plot_circular_pair(newick, other=None, *, title="", left_title="", right_title="", caption="",
                       leaf_labels=None, other_labels=None, right_lengths=False, superclass=None, legend_title="",
                       legend_leaves=None):
    """One tree, or two side by side, as circular dendrograms (:func:`plot_tree_circular`) coloured
    alike by ``superclass`` (paper 001, figs. 2, 3, 8): e.g. a hierarchy beside its reference, whose
    children are turned (without changing it) to follow the tree's leaf order. ``other`` is drawn with
    branch lengths only with ``right_lengths`` (a reference has none). ``caption`` goes under the
    panels, the superclass legend (``legend_title``; leaves counted in ``legend_leaves``, default
    ``superclass``) under it. Returns the Figure."""
    colours = superclass_colours(legend_leaves or superclass or {})
    t = _nodes(newick)
    panels = [(t, left_title, True, leaf_labels)]
    if other is not None:
        r = _rotate_to(_nodes(other), {name: y for name, _, y in _layout(t)[1]})
        panels.append((r, right_title, right_lengths, other_labels))
    n = max(len(_leaf_names(p[0])) for p in panels)
    side = _circle_inches(n)
    fs = float(np.clip(8 * side / 9, 8, 13))  # titles, caption and legend grow with the panels
    n_legend = (len(colours) + 2) // 4 + 1 if superclass else 0
    lines = title.count("\n") + 1 if title else 0
    extra = (0.3 + 0.25 * n_legend + 0.3) * fs / 8 + 0.2  # caption and legend under the circles
    top = (0.3 + 0.22 * lines) * fs / 8 + 0.3  # the title and the panel titles above them
    height = side + top + extra
    fig, axes = plt.subplots(1, len(panels), figsize=(side * len(panels), height), squeeze=False)
    fig.subplots_adjust(left=0.01, right=0.99, wspace=0.02, top=1 - top / height, bottom=extra / height)
    for ax, (tree, name, lengths, labels) in zip(axes[0], panels):
        plot_tree_circular(tree, ax=ax, use_lengths=lengths, superclass=superclass, colours=colours,
                           leaf_labels=labels)
        if name:
            ax.set_title(name, fontsize=fs + 1)
    if title:
        fig.suptitle(title, fontsize=fs + 2, y=1 - 0.1 / height, va="top")
    if caption:
        fig.text(0.5, (extra - 0.1) / height, caption, ha="center", va="top", fontsize=fs)
    if superclass:
        _legend(fig, colours, legend_leaves or superclass, legend_title, y=(extra - 0.35 * fs / 8 - 0.1) / height,
                fontsize=fs)
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




def _superclasses(reference, style):
    """(superclass {leaf: name}, legend title) from the reference and report.tree_figures (none
    without a reference)."""
    if reference is None:
        return None, ""
    nodes = list(style.get("superclasses") or [])
    sup, depth = superclasses(reference, style.get("superclass_depth", "auto"), nodes=nodes or None)
    if nodes:
        return sup, f"superclass: the deepest of {', '.join(nodes)} above each leaf in the reference"
    return sup, f"superclass: each leaf's ancestor at depth {depth} of the reference tree (report.tree_figures)"


def draw_trees(tree, other=None, *, style=None, colour_by=None, title="", left_title="", right_title="",
               caption="", leaf_labels=None, xlabel=None, right_lengths=False, right_xlabel=None):
    """A tree, alone or beside another one, as report.tree_figures says (``style``: ``layout``
    auto / rectangular / circular, ``superclass_depth``, ``superclasses``, ``collapse_depth``).

    ``colour_by`` (a reference tree) gives every leaf its superclass (:func:`superclasses`), which
    colours both trees' branches; ``layout: auto`` draws trees of more than :data:`CIRCULAR_ABOVE`
    leaves circular (:func:`plot_circular_pair`), smaller ones as the tanglegram
    (:func:`plot_tree_pair`) or alone (:func:`plot_tree`). ``collapse_depth`` (default
    :func:`auto_collapse_depth`) draws each clade at that depth as one tip labelled with its majority
    superclass (:func:`collapse_tree`); the title says so. The other arguments as for
    :func:`plot_tree_pair`. Returns the Figure.
    """
    style = dict(style or {})
    layout = style.get("layout", "auto")
    if layout not in ("auto", "rectangular", "circular"):
        raise ValueError(f"layout={layout!r} should be one of auto, rectangular, circular")
    t = _nodes(tree)
    o = _nodes(other) if other is not None else None
    superclass, legend_title = _superclasses(colour_by, style)
    labels = dict(leaf_labels or {})
    n = len(_leaf_names(t))
    depth = style.get("collapse_depth")
    depth = auto_collapse_depth(t) if depth is None else int(depth)
    legend_leaves = superclass
    if depth is not None and clades_at(t, depth) < n:
        t, members = collapse_tree(t, depth)
        texts, keys = _tip_texts(members, superclass, labels)
        labels.update(texts)
        other_labels = {}
        if o is not None:
            # The other tree at its own depth, with about as many clades: a binary tree and a
            # multifurcating reference reach equal clade counts at very different depths.
            d_other = 1
            while d_other < _height(o) and clades_at(o, d_other + 1) <= max(len(members), clades_at(o, 1)):
                d_other += 1
            o, other_members = collapse_tree(o, d_other)
            o = _renamed(o, {tip: f"{tip}'" for tip in other_members})  # tips of two trees are not the same
            texts_o, keys_o = _tip_texts(other_members, superclass, {})
            other_labels = {f"{tip}'": s for tip, s in texts_o.items()}
            keys.update({f"{tip}'": k for tip, k in keys_o.items()})
        superclass = {**(superclass or {}), **keys} if superclass else None
        title = (f"{title}\n" if title else "") + (
            f"clades below depth {depth} collapsed: {len(_leaf_names(t))} tips for {n} leaves "
            "(report.tree_figures.collapse_depth; the Newick file holds the full tree)")
    else:
        other_labels = {}
    if layout == "circular" or (layout == "auto" and n > CIRCULAR_ABOVE):
        return plot_circular_pair(t, o, title=title, left_title=left_title, right_title=right_title,
                                  caption=caption, leaf_labels=labels, other_labels=other_labels,
                                  right_lengths=right_lengths, superclass=superclass, legend_title=legend_title,
                                  legend_leaves=legend_leaves)
    if o is not None:
        return plot_tree_pair(t, o, title=title, left_title=left_title, right_title=right_title, caption=caption,
                              leaf_labels=labels, xlabel=xlabel, right_lengths=right_lengths,
                              right_xlabel=right_xlabel, superclass=superclass, legend_title=legend_title,
                              legend_leaves=legend_leaves)
    if labels:
        _relabel(t, labels)
        superclass = {labels.get(k, k): v for k, v in superclass.items()} if superclass else None
    return plot_tree(t, title=title, xlabel=xlabel, superclass=superclass)[0].figure


def _renamed(node, names):
    """A :func:`_nodes` tree with the leaves of ``names`` renamed."""
    name, length, children = node
    if not children:
        return (names.get(name, name), length, children)
    return (name, length, [_renamed(c, names) for c in children])


def _absent(paths, partial):
    """The figure of missing inputs: raises :class:`MissingResultsError`, or with ``partial``
    returns a placeholder naming them (None when every file exists)."""
    gone = [f for f in paths if f and not Path(f).exists()]
    if not gone:
        return None
    if not partial:
        raise MissingResultsError(f"tree figure needs {', '.join(gone)} (file not found)")
    return placeholder_figure(f"{MISSING}: {', '.join(gone)}")


def tree_figure(run, partial=False, style=None):
    """The figure of one tree-figure spec of the report rules.

    ``run`` holds ``tree`` (Newick path), ``reference`` (Newick path or None), ``title`` and
    ``left`` (title of the tree panel), optionally ``xlabel`` (the name of its distance axis,
    default :data:`DISTANCE_LABEL`) and ``leaves`` (an L2H ``leaves.tsv``: purity labels).
    ``style``: report.tree_figures (:func:`draw_trees`); the reference colours both trees. A missing
    file raises :class:`MissingResultsError`, or with ``partial=True`` gives a placeholder figure naming it.
    """
    missing = _absent([run["tree"], run["reference"]], partial)
    if missing is not None:
        return missing
    labels = _leaf_purity_labels(run.get("leaves"))
    tree = _read(Path(run["tree"]).read_text())  # parsed once for the caption and the drawing
    reference = _read(Path(run["reference"]).read_text()) if run["reference"] else None
    return draw_trees(tree, reference, style=style, colour_by=reference, title=run["title"],
                      left_title=run["left"], right_title="reference",
                      caption=comparison_caption(tree, reference) if reference is not None else "",
                      leaf_labels=labels, xlabel=run.get("xlabel"))


def before_after_caption(before, after, reference=None):
    """One line comparing a run's trees before and after clustering (CAEC fig. 7): their RF distance
    (0: the same topology) and, with a reference, each one's RF and clade recall against it."""
    try:
        s = compare_trees(before, after)
    except ValueError:
        return ""
    line = f"before vs after: RF {s['rf']}/{s['rf_max']} ({'same topology' if s['rf'] == 0 else 'topologies differ'})"
    if reference is not None:
        try:
            b, a = compare_trees(before, reference), compare_trees(after, reference)
        except ValueError:
            return line
        line += (f" · against the reference: before RF {b['rf']}, recall {b['clade_recall']:.2f}; "
                 f"after RF {a['rf']}, recall {a['clade_recall']:.2f} (RF lower, recall higher is better)")
    return line


def before_after_figure(run, partial=False, style=None):
    """CAEC paper fig. 7: a run's relation tree before clustering (UPGMA on the class centroids G)
    beside the one after it (UPGMA on the CAEC points G^f or P), as report.tree_figures draws trees.

    ``run`` holds ``before`` and ``after`` (Newick paths), ``reference`` (Newick path or None: the
    superclass colours), ``title``, ``left`` / ``right`` (panel titles) and ``xlabel`` (both trees'
    distance axis). Missing files as :func:`tree_figure`.
    """
    missing = _absent([run["before"], run["after"], run.get("reference")], partial)
    if missing is not None:
        return missing
    before = _read(Path(run["before"]).read_text())
    after = _read(Path(run["after"]).read_text())
    reference = _read(Path(run["reference"]).read_text()) if run.get("reference") else None
    return draw_trees(before, after, style=style, colour_by=reference, title=run["title"], left_title=run["left"],
                      right_title=run["right"], caption=before_after_caption(before, after, reference),
                      xlabel=run.get("xlabel"), right_lengths=True, right_xlabel=run.get("xlabel"))


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
