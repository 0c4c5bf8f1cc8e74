"""Where every class sits in the reference tree: leaf classes and classes with hyponyms
(paper 002 section 4.2, "Fine-grained benchmarks"; the tree logic of :mod:`embtree.heads.hzr`).

On ImageNet21K a class can be a hypernym of other classes ("furniture" above "chair"); the
paper's fine-grained benchmarks keep or relabel the samples of such classes. embtree's
reference trees have exactly the classes as leaves; a class that is a hypernym of others is
an internal node *aliased* to the class: labelled with the class name, or with the class's
synset (WordNet-built trees hang such a class as a leaf below its own synset node;
docs/methods/reference-trees.md), as :func:`embtree.hierarchy.granularity.ancestor_label_sets`
reads it. Such a class *sits* at that internal node; every other class sits at its leaf.

:func:`class_tree` gives a :class:`ClassTree`: the nodes in preorder as arrays, the class at
each node, the node of each class, the candidates one step below each node, and which
classes are leaf classes (no other class below them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embtree.hierarchy.newick import as_tree

__all__ = ["ClassTree", "class_tree"]


@dataclass(frozen=True)
class ClassTree:
    """A reference tree over ``n_classes`` classes, nodes numbered in preorder (root 0).

    Attributes
    ----------
    names : list of str, length n_nodes: the node's label (leaf: the class name; internal:
        its label, or ``""``)
    parent : ndarray of shape (n_nodes,), int64, ``-1`` at the root
    node_class : ndarray of shape (n_nodes,), int64: the class sitting at the node, or ``-1``
        (an unlabelled node, a synset that is no class, or the leaf of a class that sits at an
        aliased internal node)
    class_node : ndarray of shape (n_classes,), int64: the node each class sits at
    candidates : list of int64 arrays, length n_nodes: the children of the node a relabelling
        may move a sample to (a child leaf of a class that sits elsewhere is left out: it is
        the same class, not a hyponym)
    leaf_class : ndarray of shape (n_classes,), bool: the class has no hyponym class (no
        other class sits below its node)
    """

    names: list
    parent: np.ndarray
    node_class: np.ndarray
    class_node: np.ndarray
    candidates: list
    leaf_class: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.parent)

    @property
    def hierarchical(self) -> bool:
        """Some class is a hypernym of another (the HZR variants change labels)."""
        return not bool(self.leaf_class.all())


def class_tree(newick, class_names, synsets=None) -> ClassTree:
    """The :class:`ClassTree` of a reference tree whose leaves are exactly ``class_names``.

    Parameters
    ----------
    newick : str or dendropy.Tree
    class_names : sequence of str, length n_classes
    synsets : sequence of str or None, length n_classes; an internal node labelled with a
        class's synset (``""``: none) is that class's node, as is one labelled with its name.
        Where several internal nodes alias one class, the one nearest the root is its node.

    Returns
    -------
    ClassTree
    """
    tree = as_tree(newick)
    names = [str(c) for c in class_names]
    if len(set(names)) != len(names):
        raise ValueError("class_names must be unique")
    if synsets is not None and len(synsets) != len(names):
        raise ValueError(f"synsets has {len(synsets)} entries for {len(names)} classes")
    index = {n: i for i, n in enumerate(names)}
    alias = dict(index)
    if synsets is not None:
        for i, s in enumerate(synsets):
            if s:
                alias.setdefault(str(s), i)
    nodes = list(tree.preorder_node_iter())
    pos = {id(v): k for k, v in enumerate(nodes)}
    n = len(nodes)
    parent = np.full(n, -1, dtype=np.int64)
    labels, leaves = [], {}
    for k, v in enumerate(nodes):
        if v.parent_node is not None:
            parent[k] = pos[id(v.parent_node)]
        if v.is_leaf():
            name = str(v.taxon.label) if v.taxon is not None else str(v.label or "")
            leaves.setdefault(name, []).append(k)
        else:
            name = str(v.label or "")
        labels.append(name)
    if set(leaves) != set(names) or any(len(ks) > 1 for ks in leaves.values()):
        missing = sorted(set(names) - set(leaves))[:5]
        extra = sorted(set(leaves) - set(names))[:5]
        raise ValueError(f"reference tree leaves differ from the class names (missing {missing}, extra {extra})")
    class_node = np.array([leaves[name][0] for name in names], dtype=np.int64)
    aliased = np.zeros(len(names), dtype=bool)
    for k, v in enumerate(nodes):  # preorder: the aliased node nearest the root wins
        if not v.is_leaf() and labels[k] in alias:
            c = alias[labels[k]]
            if not aliased[c]:
                class_node[c], aliased[c] = k, True
    node_class = np.full(n, -1, dtype=np.int64)
    node_class[class_node] = np.arange(len(names))
    children = [[] for _ in range(n)]
    for k in range(1, n):
        children[parent[k]].append(k)
    # A leaf whose class sits at an aliased node is that class again, not a hyponym.
    candidates = [np.array([c for c in ch if not (nodes[c].is_leaf() and node_class[c] < 0)], dtype=np.int64)
                  for ch in children]
    # A class is a leaf class when no other class sits strictly below its node.
    below = np.zeros(n, dtype=bool)  # some class sits strictly below the node
    for k in range(n - 1, 0, -1):  # reverse preorder: children before parents
        if below[k] or node_class[k] >= 0:
            below[parent[k]] = True
    return ClassTree(names=labels, parent=parent, node_class=node_class, class_node=class_node,
                     candidates=candidates, leaf_class=~below[class_node])
