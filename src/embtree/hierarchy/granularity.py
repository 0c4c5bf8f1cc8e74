"""Class granularity and multi-labels from a reference tree (paper 002, sections 4.2, 4.4).

- :func:`coarsen_classes` maps every class (a leaf of the reference tree) to its ancestor
  at maximum depth ``d``: classes deeper than ``d`` go to their depth-``d`` ancestor,
  shallower ones stay as they are (section 4.2). Depth counts edges from the root.
- :func:`read_multi_labels` reads per-sample label sets (ImageNet ReaL style JSON).
- :func:`ancestor_label_sets` gives every class its label set S_L = the class and every
  class that is one of its semantic ancestors in the reference tree (section 4.4: "for
  hierarchically structured datasets, we set S_L to be all semantic ancestors of the GT
  label"), for top-1 -> L and top-5 -> L.
- :func:`leaf_depths`: depth of every leaf.
- :func:`superclasses` names every leaf's superclass (its ancestor at a depth, or the deepest of
  named internal nodes) for colouring drawn trees (paper 001, figs. 2, 3 and 8) and for the
  report's per-class tables aggregated by superclass (``max_groups``, issue 28).

Trees are Newick strings or ``dendropy.Tree`` (:func:`embtree.hierarchy.newick.as_tree`).
"""

from __future__ import annotations

import json

import numpy as np

from embtree.hierarchy.newick import as_tree

__all__ = ["leaf_depths", "coarsen_classes", "read_multi_labels", "ancestor_label_sets", "superclasses",
           "AUTO_MAX_SHARE"]


def _node_name(node):
    if node.label:
        return str(node.label)
    if node.taxon is not None and node.taxon.label:
        return str(node.taxon.label)
    return "+".join(sorted(leaf.taxon.label for leaf in node.leaf_iter()))


def _class_leaves(newick, class_names):
    """(class names as str, leaf node by name); the leaves must be exactly the classes."""
    tree = as_tree(newick)
    names = [str(c) for c in class_names]
    leaves = {leaf.taxon.label: leaf for leaf in tree.leaf_node_iter()}
    if set(leaves) != set(names) or len(names) != len(leaves):
        missing = sorted(set(names) - set(leaves))[:5]
        extra = sorted(set(leaves) - set(names))[:5]
        raise ValueError(f"reference tree leaves differ from the class names (missing {missing}, extra {extra})")
    return names, leaves


def leaf_depths(newick) -> dict:
    """Depth (edges from the root) of every leaf of a tree (str or ``dendropy.Tree``), by leaf name."""
    tree = as_tree(newick)
    return {leaf.taxon.label: leaf.level() for leaf in tree.leaf_node_iter()}


def _ancestor_at(node, depth):
    """``node``'s ancestor ``depth`` edges below the root; ``node`` itself when it is not deeper."""
    while node.level() > depth:
        node = node.parent_node
    return node


def coarsen_classes(newick, class_names, depth):
    """Coarse label of every class at maximum hierarchy depth ``depth``.

    Parameters
    ----------
    newick : str or dendropy.Tree, reference tree whose leaves are exactly ``class_names``
    class_names : sequence of str, length n_classes
    depth : int, ``1 <= depth <= max leaf depth``

    Returns
    -------
    coarse_of_class : ndarray of shape (n_classes,), int64, ids ``0 .. n_coarse-1``
        numbered in the order of first appearance over ``class_names``.
    coarse_names : list of str (internal-node label, or the leaf name for classes kept)
    """
    names, leaves = _class_leaves(newick, class_names)
    max_depth = max(leaf.level() for leaf in leaves.values())
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 1 <= depth <= max_depth:
        raise ValueError(f"coarse depth={depth!r} must be an int in 1..{max_depth} (the tree's maximum depth)")
    coarse_names, index, out = [], {}, np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        key = _node_name(_ancestor_at(leaves[name], depth))
        if key not in index:
            index[key] = len(coarse_names)
            coarse_names.append(key)
        out[i] = index[key]
    return out, coarse_names


#: ``superclasses(depth="auto")``: the shallowest depth whose largest superclass holds at most this
#: share of the leaves (ImageNet's WordNet tree: depth 4, artifact 52 % / organism 41 %, paper 001 fig. 3a;
#: CIFAR-10's: depth 1, vehicle / vertebrate).
AUTO_MAX_SHARE = 0.6


def _clade_name(node):
    """A superclass's name: the node's label, the leaf's name, else its first and last leaf (an
    unlabelled clade, e.g. of a planted tree; :func:`_node_name` would join every leaf)."""
    if node.label:
        return str(node.label)
    if node.taxon is not None and node.taxon.label:
        return str(node.taxon.label)
    leaves = sorted(leaf.taxon.label for leaf in node.leaf_iter())
    return f"{leaves[0]}…{leaves[-1]}"


def superclasses(newick, depth="auto", *, nodes=None, max_groups=None):
    """The superclass of every leaf of a reference tree, to colour other trees by (paper 001, figs. 2, 3, 8).

    Parameters
    ----------
    newick : str or dendropy.Tree
    depth : int >= 1 or "auto"
        Every leaf's superclass is its ancestor at this depth (edges from the root; a shallower
        leaf is its own superclass, as in :func:`coarsen_classes`); a depth past the deepest leaf
        is clipped to it. ``"auto"``: the shallowest depth whose largest superclass holds at most
        :data:`AUTO_MAX_SHARE` of the leaves (else the deepest).
    nodes : sequence of str, optional
        Internal-node labels (e.g. ``["bird.n.01", "dog.n.01", "clothing.n.01"]``, paper 001 fig. 8):
        a leaf's superclass is the deepest of them above it, None for a leaf under none of them;
        replaces ``depth``. Labels the tree lacks are ignored.
    max_groups : int >= 1, optional
        With ``depth="auto"``: the deepest depth at which the leaves fall into at most this many
        superclasses (the finest grouping that fits, e.g. a table's columns), depth 1 when even it
        has more. The number of superclasses grows with the depth: a node at the depth, or a leaf
        above it.

    Returns
    -------
    superclass_of_leaf : dict {leaf name: superclass name or None}
    depth : int, the depth used (None with ``nodes``)
    """
    tree = as_tree(newick)
    leaves = list(tree.leaf_node_iter())
    if nodes is not None:
        wanted = {str(n) for n in nodes}
        out = {}
        for leaf in leaves:
            node = leaf.parent_node
            while node is not None and str(node.label or "") not in wanted:
                node = node.parent_node
            out[leaf.taxon.label] = None if node is None else str(node.label)
        return out, None
    levels = {leaf.taxon.label: leaf.level() for leaf in leaves}
    max_depth = max(levels.values())
    if depth != "auto" and (isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1):
        raise ValueError(f"depth={depth!r} should be an int >= 1 or 'auto'")
    if max_groups is not None and (isinstance(max_groups, bool) or not isinstance(max_groups, (int, np.integer))
                                   or max_groups < 1):
        raise ValueError(f"max_groups={max_groups!r} should be an int >= 1")

    names = {}  # one name per clade, not one walk over its leaves per leaf

    def at(d):
        out = {}
        for leaf in leaves:
            node = _ancestor_at(leaf, d)
            if id(node) not in names:
                names[id(node)] = _clade_name(node)
            out[leaf.taxon.label] = names[id(node)]
        return out

    if depth != "auto":
        d = min(int(depth), max_depth)
        return at(d), d
    if max_groups is not None:
        # Superclasses at depth d: the nodes at d plus the leaves shallower than d (one pass over the
        # node levels, not one walk per depth).
        node_levels = np.array([nd.level() for nd in tree.preorder_node_iter()])
        leaf_levels = np.array(list(levels.values()))
        n_at = [int((node_levels == d).sum() + (leaf_levels < d).sum()) for d in range(1, max_depth + 1)]
        fits = [d for d, n in enumerate(n_at, start=1) if n <= max_groups]
        d = max(fits) if fits else 1
        return at(d), d
    for d in range(1, max_depth + 1):
        out = at(d)
        _, counts = np.unique(list(out.values()), return_counts=True)
        if counts.max() <= AUTO_MAX_SHARE * len(leaves):
            return out, d
    return out, max_depth


def read_multi_labels(path, class_names, n_samples):
    """Per-sample label sets from JSON: a list (one entry per sample) of lists of class
    indices or class names (ImageNet ReaL's ``real.json`` format; empty lists allowed).

    Returns a boolean matrix of shape (n_samples, n_classes).
    """
    with open(path) as fh:
        data = json.load(fh)
    if not isinstance(data, list) or len(data) != n_samples:
        got = len(data) if isinstance(data, list) else type(data).__name__
        raise ValueError(f"multi_labels {path}: expected a JSON list of {n_samples} label lists, got {got}")
    names = {str(c): i for i, c in enumerate(class_names)}
    C = len(class_names)
    out = np.zeros((n_samples, C), dtype=bool)
    for i, labs in enumerate(data):  # parsing a JSON file: one entry per sample
        if not isinstance(labs, list):
            raise ValueError(f"multi_labels {path}: entry {i} is not a list")
        for lab in labs:
            j = names.get(lab) if isinstance(lab, str) else lab
            if not isinstance(j, int) or not 0 <= j < C:
                raise ValueError(f"multi_labels {path}: entry {i} has unknown class {lab!r}")
            out[i, j] = True
    return out


def ancestor_label_sets(newick, class_names, synsets=None):
    """Label set of every class: itself and the classes that are its ancestors in the tree.

    A multi-label accuracy can only credit a prediction that is a *class* of the data set,
    so an ancestor counts when it is one: an internal node of the reference tree whose label
    is a class name, or the synset of a class (``synsets``, as in ``results/{dataset}/synsets.tsv``;
    WordNet-built trees label internal nodes with synset names and hang a class whose synset
    is an ancestor of others as a leaf below that node). On ImageNet21K every WordNet node
    is a class; on data sets whose classes are all leaves (CIFAR-10, ImageNet-1K) every set
    is the class alone and top-1 -> L equals top-1 accuracy.

    Parameters
    ----------
    newick : str or dendropy.Tree, reference tree whose leaves are exactly ``class_names``
    class_names : sequence of str, length n_classes
    synsets : sequence of str or None, length n_classes (empty string: none)

    Returns
    -------
    ndarray of shape (n_classes, n_classes), bool: ``[c, a]`` is True when class ``a`` is
    ``c`` or one of its ancestors. Index it with the labels for the per-sample matrix.
    """
    names, leaves = _class_leaves(newick, class_names)
    if synsets is not None and len(synsets) != len(names):
        raise ValueError(f"synsets has {len(synsets)} entries for {len(names)} classes")
    alias = {}
    for i, name in enumerate(names):
        alias.setdefault(name, set()).add(i)
        if synsets is not None and synsets[i]:
            alias.setdefault(str(synsets[i]), set()).add(i)
    out = np.eye(len(names), dtype=bool)
    for i, name in enumerate(names):
        node = leaves[name].parent_node
        while node is not None:  # walking up one tree path per class (depth <= 20 in WordNet)
            for j in alias.get(str(node.label) if node.label else "", ()):
                out[i, j] = True
            node = node.parent_node
    return out
