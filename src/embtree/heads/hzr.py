"""Paper 002's fine-grained benchmarks (section 4.2, table 2; figs. 1, 9, 10): the leaf-class
subset, relabelling to the tree's leaves (leaf HZR) and parent HZR (p-HZR).

On a data set whose classes sit at several levels of the semantic tree (a class may be a
hypernym of others, :mod:`embtree.hierarchy.class_tree`):

* **leaf** ("ImageNet21K leaf"): only the samples of leaf classes, labels unchanged;
* **leaf HZR**: the samples of a class with hyponyms are relabelled by descending the tree,
  at each node picking the child the sample matches best, until a leaf class is reached;
* **p-HZR**: the same descent with the current class itself among the choices at each class
  node, so a sample that fits none of the hyponyms better keeps its label.

The paper scores the choices with CLIP zero-shot classification over the hyponyms' names
(openCLIP ViT-G). embtree has no text model, so the choice is a nearest-prototype one in the
encoder's own space (:func:`prototype_scorer`): a node's prototype is the normalised mean of
the L2-normalised features of the samples whose class sits in the node's subtree (the node's
class included), and a sample goes to the candidate of highest cosine similarity.
:func:`hzr_relabel` takes any scorer, so an external zero-shot model can replace it.

:func:`hierarchy_variants` (every variant's labels of a set), :func:`variant_scores` (ACC of a
clustering against them), :func:`moves_table` (original -> reassessed class counts, the data of
figs. 1, 9, 10). Method notes: docs/methods/heads.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree import metrics
from embtree.hierarchy.class_tree import ClassTree

__all__ = ["VARIANTS", "node_prototypes", "prototype_scorer", "hzr_relabel", "hierarchy_variants",
           "variant_labels", "variant_scores", "variants_table", "moves_table"]

#: The variants of paper 002 table 2 embtree computes, in its row order (ids used in file columns).
VARIANTS = ("leaf", "leaf_hzr", "p_hzr")


def _unit(X):
    X = np.asarray(X, dtype=np.float64)
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norm > 0, norm, 1.0)


def node_prototypes(features, labels, tree: ClassTree):
    """Prototype of every node: the normalised mean of the unit-normalised features of the
    samples whose class sits in the node's subtree (zero row for a subtree without samples).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    labels : int array of shape (n_samples,), classes ``0 .. n_classes-1``
    tree : ClassTree

    Returns
    -------
    ndarray of shape (n_nodes, n_features), float64
    """
    X = _unit(features)
    sums = np.zeros((tree.n_nodes, X.shape[1]))
    np.add.at(sums, tree.class_node[np.asarray(labels)], X)
    for k in range(tree.n_nodes - 1, 0, -1):  # reverse preorder: a subtree's sum before its parent's
        sums[tree.parent[k]] += sums[k]
    return _unit(sums)


def prototype_scorer(features, prototypes):
    """``score(idx, nodes)``: cosine similarity (len(idx), len(nodes)) of samples ``idx`` of
    ``features`` (n_samples, n_features) to the ``prototypes`` (n_nodes, n_features) of ``nodes``."""
    X = np.asarray(features, dtype=np.float64)

    def score(idx, nodes):
        return _unit(X[idx]) @ prototypes[nodes].T

    return score


def hzr_relabel(labels, tree: ClassTree, score, *, parent=False):
    """Hierarchical relabelling (paper 002 section 4.2): leaf HZR, or p-HZR with ``parent``.

    Every sample starts at the node of its class and descends: at each node with candidates
    (:attr:`ClassTree.candidates`) it moves to the best-scoring one, until it reaches a leaf
    class. With ``parent`` the class sitting at the node (if any) competes with its hyponyms,
    and choosing it stops the descent (the sample keeps that class). A sample passing through
    an internal node that is no class (a synset of the tree that is not a class of the data
    set) always descends: it cannot be labelled there.

    Parameters
    ----------
    labels : int array of shape (n_samples,), classes ``0 .. n_classes-1``
    tree : ClassTree
    score : callable ``score(idx, nodes) -> ndarray (len(idx), len(nodes))``, higher is better
        (:func:`prototype_scorer`); ties go to the first candidate, the parent first
    parent : bool, p-HZR

    Returns
    -------
    ndarray of shape (n_samples,), int64: the reassessed classes
    """
    labels = np.asarray(labels, dtype=np.int64)
    node = tree.class_node[labels].copy()
    # Samples only move to children, which come later in preorder: one pass settles them all.
    for v in range(tree.n_nodes):
        cands = tree.candidates[v]
        if not len(cands):
            continue
        idx = np.flatnonzero(node == v)
        if not len(idx):
            continue
        options = np.concatenate([[v], cands]) if parent and tree.node_class[v] >= 0 else cands
        node[idx] = options[np.argmax(score(idx, options), axis=1)]
    return tree.node_class[node]


def hierarchy_variants(features, labels, tree: ClassTree, eval_features=None, eval_labels=None):
    """Labels of every fine-grained variant (:data:`VARIANTS`) of a fit set and, optionally, of a
    held-out set (relabelled with the fit set's prototypes).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features); labels : int array (n_samples,)
    tree : ClassTree
    eval_features, eval_labels : optional, the held-out set

    Returns
    -------
    dict: for the fit set ``leaf`` (bool mask (n_samples,): the sample's class is a leaf class),
    ``leaf_hzr`` and ``p_hzr`` (int64 (n_samples,)); with a held-out set the same keys prefixed
    ``eval_``. Where no class is a hypernym of another, ``leaf`` is all True and both
    relabellings return the labels unchanged.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_classes = len(tree.class_node)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(f"labels must have shape ({len(features)},), got {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} (the tree's classes)")
    protos = node_prototypes(features, labels, tree)
    sets = [("", features, labels)]
    if eval_features is not None:
        sets.append(("eval_", eval_features, np.asarray(eval_labels, dtype=np.int64)))
    out = {}
    for prefix, X, y in sets:
        score = prototype_scorer(X, protos)
        out[prefix + "leaf"] = tree.leaf_class[y]
        out[prefix + "leaf_hzr"] = hzr_relabel(y, tree, score)
        out[prefix + "p_hzr"] = hzr_relabel(y, tree, score, parent=True)
    return out


def variant_scores(labels, top1, variants, n_clusters, prefix=""):
    """ACC (Hungarian) of a clustering against every variant's labels, with their sizes.

    Parameters
    ----------
    labels : int array of shape (n_samples,), the classes (ground truth)
    top1 : int array of shape (n_samples,), the clusters
    variants : dict from :func:`hierarchy_variants`
    n_clusters : int, the clustering's K (clusters left unmatched count as wrong)
    prefix : ``""`` (fit set) or ``"eval_"``

    Returns
    -------
    dict: ``acc_{v}``, ``n_samples_{v}``, ``n_classes_{v}`` for v in :data:`VARIANTS`, and
    ``n_relabelled_{v}`` for the HZR variants (samples whose class changed). A variant whose
    labels are the ground truth's (every class a leaf class, or no sample relabelled) has
    ``acc_{v}`` NaN: its score would only repeat ACC.
    """
    labels = np.asarray(labels, dtype=np.int64)
    top1 = np.asarray(top1, dtype=np.int64)
    leaf = np.asarray(variants[prefix + "leaf"], dtype=bool)
    K = max(int(n_clusters), int(top1.max()) + 1)
    out = {"acc_leaf": (_acc(labels[leaf], top1[leaf], K) if leaf.any() and not leaf.all() else float("nan")),
           "n_samples_leaf": int(leaf.sum()), "n_classes_leaf": int(len(np.unique(labels[leaf])))}
    for v in ("leaf_hzr", "p_hzr"):
        y = np.asarray(variants[prefix + v], dtype=np.int64)
        moved = int((y != labels).sum())
        out[f"acc_{v}"] = _acc(y, top1, K) if moved else float("nan")
        out[f"n_samples_{v}"] = int(len(y))
        out[f"n_classes_{v}"] = int(len(np.unique(y)))
        out[f"n_relabelled_{v}"] = moved
    return out


def _acc(y, top1, K):
    """Hungarian ACC of clusters ``top1`` (ids < K) against classes ``y`` renumbered densely."""
    dense = np.unique(y, return_inverse=True)[1]
    mapping = metrics.hungarian_map(dense, top1, n_clusters=K)
    return float(np.mean(mapping[top1] == dense))


def variant_labels(labels, variants, variant, prefix=""):
    """(sample mask, labels) of one benchmark: ``"classes"`` (all samples, the classes), or a
    variant of :data:`VARIANTS` (``leaf``: the leaf-class samples with their classes)."""
    labels = np.asarray(labels, dtype=np.int64)
    if variant == "classes":
        return np.ones(len(labels), dtype=bool), labels
    if variant == "leaf":
        mask = np.asarray(variants[prefix + "leaf"], dtype=bool)
        return mask, labels[mask]
    if variant in VARIANTS:
        return np.ones(len(labels), dtype=bool), np.asarray(variants[prefix + variant], dtype=np.int64)
    raise ValueError(f"variant={variant!r} should be 'classes' or one of {VARIANTS}")


def variants_table(labels, variants, prefix=""):
    """Size of every benchmark of a set (paper 002 table 2's "# samples" and "# classes"):
    DataFrame with columns variant (``classes`` and :data:`VARIANTS`), n_samples, n_classes,
    n_relabelled and applies (False where the variant's labels are the classes')."""
    labels = np.asarray(labels, dtype=np.int64)
    rows = []
    for v in ("classes",) + VARIANTS:
        mask, y = variant_labels(labels, variants, v, prefix)
        moved = int((y != labels[mask]).sum())
        applies = v == "classes" or (not mask.all() if v == "leaf" else moved > 0)
        rows.append({"variant": v, "n_samples": int(mask.sum()), "n_classes": int(len(np.unique(y))),
                     "n_relabelled": moved, "applies": bool(applies)})
    return pd.DataFrame(rows)


def moves_table(labels, variants, class_names, prefix=""):
    """Original class -> reassessed class counts of the HZR variants (figs. 1, 9, 10's data).

    Returns a DataFrame with columns variant, original, reassessed, n: one row per (variant,
    original class with hyponyms, reassessed class) with n > 0; the samples of leaf classes,
    never moved, are left out.
    """
    labels = np.asarray(labels, dtype=np.int64)
    names = np.asarray([str(c) for c in class_names], dtype=object)
    leaf = np.asarray(variants[prefix + "leaf"], dtype=bool)
    frames = []
    for v in ("leaf_hzr", "p_hzr"):
        new = np.asarray(variants[prefix + v])[~leaf]
        old = labels[~leaf]
        pairs, n = np.unique(np.stack([old, new]), axis=1, return_counts=True)
        frames.append(pd.DataFrame({"variant": v, "original": names[pairs[0]] if len(n) else [],
                                    "reassessed": names[pairs[1]] if len(n) else [], "n": n}))
    return pd.concat(frames, ignore_index=True)
