"""Newick trees: the one reader and writer, and the one parsed tree type (``dendropy.Tree``).

Public names
------------
:func:`parse_newick` (Newick string -> ``dendropy.Tree``), :func:`as_tree` (a string or an
already parsed tree -> ``dendropy.Tree``), :func:`leaf_names`, :func:`check_tree_leaves`,
:func:`linkage_to_newick` (scipy linkage -> Newick, optionally with clade support as internal
labels), :func:`newick_to_linkage` (tree -> scipy linkage), :func:`quote_label`,
:func:`check_names`, :func:`support_percent`.

Conventions
-----------
* Leaf labels are written unquoted when they consist of ``[A-Za-z0-9_.+-]`` only,
  otherwise single-quoted (``'`` doubled inside), as the Newick standard says.
  Underscores are *kept* on reading (``maple_tree`` stays ``maple_tree``; dendropy's
  default would turn them into spaces).
* Branch lengths written by :func:`linkage_to_newick` are differences of merge heights,
  so a leaf's root distance is the root's merge height (ultrametric for UPGMA).
* Internal-node labels (bootstrap support in percent, :mod:`embtree.hierarchy.support`) are
  read as node labels, never as taxa (``suppress_internal_node_taxa``), so a labelled tree has
  the same leaves, clades and scores as the unlabelled one.
* Reading a tree never changes it: functions given a ``dendropy.Tree`` skip its unary
  nodes instead of suppressing them.
"""

from __future__ import annotations

import re
import sys

# dendropy costs ~0.1 s to import (numpy + scipy: ~0.4 s), so it is imported at the top.
import dendropy
import numpy as np
from scipy.cluster import hierarchy

__all__ = [
    "as_tree",
    "check_names",
    "check_tree_leaves",
    "leaf_names",
    "linkage_to_newick",
    "newick_to_linkage",
    "parse_newick",
    "quote_label",
    "support_percent",
]

_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9_.+\-]+$")


def quote_label(name: str) -> str:
    """``name`` as a Newick label: unquoted if plain (``[A-Za-z0-9_.+-]``), else single-quoted."""
    name = str(name)
    if _PLAIN_LABEL.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _fmt_length(x: float) -> str:
    # repr-precision keeps heights exact through a write/read round trip.
    return repr(float(max(x, 0.0)))


def check_names(names, n_leaves=None, arg="names") -> list[str]:
    """``names`` as a list of str; raises ``ValueError`` on a wrong count, duplicates or ``""``."""
    names = [str(n) for n in np.asarray(names, dtype=object).ravel()]
    if n_leaves is not None and len(names) != n_leaves:
        raise ValueError(f"len({arg})={len(names)} != number of leaves {n_leaves}")
    seen, dups = set(), []
    for n in names:
        if n in seen:
            dups.append(n)
        seen.add(n)
    if dups:
        raise ValueError(f"{arg} has duplicate leaf names: {sorted(set(dups))}")
    if any(n == "" for n in names):
        raise ValueError(f"{arg} contains an empty name")
    return names


def support_percent(support):
    """Clade support (shares in [0, 1]) as integer percents, rounded down.

    Rounded down so that 100 means every replicate (99.6 % is written 99, never 100).
    """
    s = np.asarray(support, dtype=float)
    if s.size and not ((s >= 0) & (s <= 1)).all():
        raise ValueError(f"support must lie in [0, 1], got {s.min()}..{s.max()}")
    # The rounding guard keeps exact shares such as 29/100 (28.999... in float) at 29.
    return np.floor(np.round(100 * s, 9)).astype(np.int64)


def linkage_to_newick(Z, names, *, branch_lengths: bool = True, support=None) -> str:
    """Write a scipy linkage matrix as a rooted Newick string.

    Parameters
    ----------
    Z : ndarray of shape (n_leaves - 1, 4)
        scipy linkage matrix (rows: child a, child b, merge height, size).
    names : sequence of str, length n_leaves
        Leaf labels; leaf ``i`` of ``Z`` is ``names[i]``. Must be unique.
    branch_lengths : bool, default True
        Write ``:length`` after every non-root node, where the length is the
        parent's merge height minus the node's (leaves have height 0). Negative
        differences (non-monotone linkages, e.g. centroid/median) are clipped to 0.
    support : array-like of shape (n_leaves - 1,), optional
        Bootstrap support of the clade of every linkage row (share in [0, 1],
        :func:`embtree.hierarchy.support.clade_support`), written as the internal node's
        label in integer percent (:func:`support_percent`), e.g. ``(a,b)87:0.5``. The root
        is left unlabelled (its clade is in every replicate).

    Returns
    -------
    str
        Newick terminated by ``;``.
    """
    Z = np.asarray(Z, dtype=float)
    hierarchy.is_valid_linkage(Z, throw=True, name="Z")
    n = Z.shape[0] + 1
    names = check_names(names, n)
    heights = np.concatenate([np.zeros(n), Z[:, 2]])
    if support is not None:
        support = np.asarray(support, dtype=float).ravel()
        if support.shape != (n - 1,):
            raise ValueError(f"support has {support.size} values; Z has {n - 1} internal nodes")
        pct = [str(p) for p in support_percent(support)]
        pct[-1] = ""  # the root
    # Iterative post-order so 10^4+ leaves do not hit the recursion limit.
    text: dict[int, str] = {}
    for i in range(n):
        text[i] = quote_label(names[i])
    for k, row in enumerate(Z):
        node = n + k
        parts = []
        for child in (int(row[0]), int(row[1])):
            s = text.pop(child)
            if branch_lengths:
                s += ":" + _fmt_length(heights[node] - heights[child])
            parts.append(s)
        text[node] = "(" + ",".join(parts) + ")" + (pct[k] if support is not None else "")
    return text[2 * n - 2] + ";"


# ---------------------------------------------------------------------------
# Newick parsing (dendropy) and conversion back to a linkage matrix
# ---------------------------------------------------------------------------


def _check_leaves(tree, newick):
    """Raise unless every leaf of ``tree`` has a label and the labels are unique."""
    labels = []
    for leaf in tree.leaf_node_iter():
        if leaf.taxon is None or not leaf.taxon.label:
            raise ValueError(f"newick has an unlabelled leaf (input: {newick!r:.120})")
        labels.append(leaf.taxon.label)
    check_names(labels, arg="newick leaves")


def parse_newick(newick, taxon_namespace=None, *, rooted=True):
    """Parse a Newick string into a ``dendropy.Tree`` (rooted unless ``rooted=False``).

    Underscores in unquoted labels are preserved. Internal-node labels are
    ignored for the leaf set. Raises ``ValueError`` for an empty or
    unparseable string, an unlabelled leaf, or duplicate leaf labels.
    """
    if not isinstance(newick, str) or not newick.strip():
        raise ValueError(f"newick must be a non-empty Newick string, got {newick!r:.80}")
    text = newick.strip()
    if not text.endswith(";"):
        text += ";"
    kwargs = dict(
        data=text,
        schema="newick",
        preserve_underscores=True,
        rooting="force-rooted" if rooted else "force-unrooted",
        suppress_internal_node_taxa=True,
        suppress_leaf_node_taxa=False,
    )
    if taxon_namespace is not None:
        kwargs["taxon_namespace"] = taxon_namespace
    # dendropy's reader recurses once per nesting level: a 1,000-leaf caterpillar
    # (a possible L2H / UPGMA shape) needs more than Python's default 1,000 frames.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * text.count("(") + 1000))
    try:
        tree = dendropy.Tree.get(**kwargs)
    except Exception as exc:  # dendropy raises several private error types
        raise ValueError(f"newick could not be parsed: {exc} (input: {newick!r:.120})") from exc
    finally:
        sys.setrecursionlimit(limit)
    _check_leaves(tree, newick)
    return tree


def as_tree(tree):
    """``tree`` as a ``dendropy.Tree``: a Newick string is parsed (:func:`parse_newick`),
    a ``dendropy.Tree`` is returned as it is once its leaves are checked (labelled, unique).

    Every public function of :mod:`embtree.hierarchy` that takes a tree goes through this,
    so a caller comparing one tree with many can parse it once.
    """
    if isinstance(tree, dendropy.Tree):
        _check_leaves(tree, tree)
        return tree
    return parse_newick(tree)


def leaf_names(newick) -> list[str]:
    """Leaf labels of a tree (Newick string or ``dendropy.Tree``), in the order they appear."""
    return [leaf.taxon.label for leaf in as_tree(newick).leaf_node_iter()]


def check_tree_leaves(newick, class_names, source="reference tree"):
    """Raise ``ValueError`` unless the Newick tree's leaves are exactly ``class_names``."""
    tree = as_tree(newick)
    leaves = [n.taxon.label for n in tree.leaf_node_iter()]
    dup = sorted({x for x in leaves if leaves.count(x) > 1})
    if dup:
        raise ValueError(f"{source}: duplicate leaf names {dup[:10]}")
    extra = sorted(set(leaves) - {str(c) for c in class_names})
    missing = sorted({str(c) for c in class_names} - set(leaves))
    if extra or missing:
        raise ValueError(
            f"{source}: leaves must equal the data set's class names; "
            f"not classes: {extra[:10]}, classes missing from the tree: {missing[:10]}"
        )
    return leaves


def _skip_unary(node):
    """The first node at or below ``node`` that does not have exactly one child."""
    while node.num_child_nodes() == 1:
        node = node.child_nodes()[0]
    return node


def _edge_length(node):
    """Length of ``node``'s edge with its unary ancestors merged into it.

    The sum runs bottom-up, as ``dendropy.Tree.suppress_unifurcations`` adds it.
    """
    length = node.edge.length
    up = node.parent_node
    while up is not None and up.num_child_nodes() == 1:
        if up.edge.length is not None:
            length = up.edge.length if length is None else length + up.edge.length
        up = up.parent_node
    return length


def newick_to_linkage(newick, names=None):
    """Convert a binary rooted tree to a scipy linkage matrix.

    Parameters
    ----------
    newick : str or dendropy.Tree
        A rooted tree whose internal nodes all have exactly two children
        (unary internal nodes are skipped, their lengths merged; a multifurcation
        raises ``ValueError`` because a linkage cannot represent it).
    names : sequence of str, optional
        Leaf order of the result (leaf ``i`` of ``Z`` is ``names[i]``); must be
        a permutation of the tree's leaves. Default: order of appearance.

    Returns
    -------
    Z : ndarray of shape (n_leaves - 1, 4)
        Merge heights are the node's height above its deepest leaf when every
        branch has a length (for ultrametric trees: the root-to-leaf distance
        minus the node's root distance); otherwise the topological height
        (1 + max child height). Rows are sorted by height, children first.
    names : list of str
        The leaf order used.
    """
    tree = as_tree(newick)
    tree_leaves = [leaf.taxon.label for leaf in tree.leaf_node_iter()]
    if names is None:
        names = tree_leaves
    else:
        names = check_names(names)
        if set(names) != set(tree_leaves):
            raise ValueError(
                "names must be the tree's leaves: missing "
                f"{sorted(set(tree_leaves) - set(names))}, extra {sorted(set(names) - set(tree_leaves))}"
            )
    n = len(names)
    if n < 2:
        raise ValueError(f"newick has {n} leaf; a linkage needs at least 2")
    index = {name: i for i, name in enumerate(names)}
    # The tree with its unary nodes suppressed, without changing ``tree``.
    root = _skip_unary(tree.seed_node)
    nodes = [nd for nd in tree.postorder_node_iter() if nd.num_child_nodes() != 1]
    length = {nd: _edge_length(nd) for nd in nodes if nd is not root}
    has_lengths = all(x is not None for x in length.values())
    height: dict = {}
    rows = []  # (height, order, node, child_a, child_b)
    for order, nd in enumerate(nodes):
        kids = [_skip_unary(c) for c in nd.child_nodes()]
        if not kids:
            height[nd] = 0.0
            continue
        if len(kids) != 2:
            raise ValueError(
                f"newick has a node with {len(kids)} children; newick_to_linkage needs a binary tree"
            )
        if has_lengths:
            # Negative lengths (seen in NJ trees) are clipped so heights stay monotone.
            h = max(height[c] + max(float(length[c]), 0.0) for c in kids)
        else:
            h = 1.0 + max(height[c] for c in kids)
        height[nd] = h
        rows.append((h, order, nd, kids[0], kids[1]))
    rows.sort(key=lambda r: (r[0], r[1]))  # postorder tie-break keeps children before parents
    node_id = {nd: index[nd.taxon.label] for nd in tree.leaf_node_iter()}
    size = dict.fromkeys(node_id, 1)
    Z = np.empty((n - 1, 4))
    for k, (h, _, nd, a, b) in enumerate(rows):
        ia, ib = node_id[a], node_id[b]
        size[nd] = size[a] + size[b]
        node_id[nd] = n + k
        Z[k] = (min(ia, ib), max(ia, ib), h, size[nd])
    hierarchy.is_valid_linkage(Z, throw=True, name="Z")
    return Z, list(names)
