"""Relation trees between classes and their comparison with a reference hierarchy.

The package's tree format is a scipy linkage matrix ``Z`` of shape
``(n_leaves - 1, 4)`` (checked with ``scipy.cluster.hierarchy.is_valid_linkage``);
Newick strings appear only at the edges (files, reference trees).

Newick conventions used here
----------------------------
* Leaf labels are written unquoted when they consist of ``[A-Za-z0-9_.+-]``
  only, otherwise single-quoted (``'`` doubled inside), as the Newick standard
  says. Underscores are *kept* on reading (``maple_tree`` stays ``maple_tree``;
  dendropy's default would turn them into spaces).
* Branch lengths written by :func:`linkage_to_newick` are differences of merge
  heights, so a leaf's root distance is the root's merge height (ultrametric for
  UPGMA).

Over 600 lines on purpose: building relation trees and comparing them with a reference share
the Newick/linkage conventions and the leaf order every comparison runs on.
"""

from __future__ import annotations

import re
import sys

import numpy as np
from scipy.cluster import hierarchy

from embtree.validation import check_matrix

__all__ = [
    "TREE_METRICS",
    "linkage_to_newick",
    "newick_to_linkage",
    "leaf_names",
    "parse_newick",
    "upgma",
    "upgma_linkage",
    "ReferenceTree",
    "robinson_foulds",
    "robinson_foulds_details",
    "clade_scores",
    "deformity_index",
    "deformity_scores",
    "clade_deformations",
    "max_clade_deformation",
    "COMPARE_COLUMNS",
    "compare_trees",
]

_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9_.+\-]+$")


def _quote(name: str) -> str:
    name = str(name)
    if _PLAIN_LABEL.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _fmt_length(x: float) -> str:
    # repr-precision keeps heights exact through a write/read round trip.
    return repr(float(max(x, 0.0)))


def _check_names(names, n_leaves=None, arg="names") -> list[str]:
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


def linkage_to_newick(Z, names, *, branch_lengths: bool = True) -> str:
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

    Returns
    -------
    str
        Newick terminated by ``;``.
    """
    Z = np.asarray(Z, dtype=float)
    hierarchy.is_valid_linkage(Z, throw=True, name="Z")
    n = Z.shape[0] + 1
    names = _check_names(names, n)
    heights = np.concatenate([np.zeros(n), Z[:, 2]])
    # Iterative post-order so 10^4+ leaves do not hit the recursion limit.
    text: dict[int, str] = {}
    for i in range(n):
        text[i] = _quote(names[i])
    for k, row in enumerate(Z):
        node = n + k
        parts = []
        for child in (int(row[0]), int(row[1])):
            s = text.pop(child)
            if branch_lengths:
                s += ":" + _fmt_length(heights[node] - heights[child])
            parts.append(s)
        text[node] = "(" + ",".join(parts) + ")"
    return text[2 * n - 2] + ";"


# ---------------------------------------------------------------------------
# Newick parsing (dendropy) and conversion back to a linkage matrix
# ---------------------------------------------------------------------------


def parse_newick(newick, taxon_namespace=None, *, rooted=True):
    """Parse a Newick string into a ``dendropy.Tree`` (rooted unless ``rooted=False``).

    Underscores in unquoted labels are preserved. Internal-node labels are
    ignored for the leaf set. Raises ``ValueError`` for an empty or
    unparseable string, an unlabelled leaf, or duplicate leaf labels.
    """
    import dendropy

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
    labels = []
    for leaf in tree.leaf_node_iter():
        if leaf.taxon is None or not leaf.taxon.label:
            raise ValueError(f"newick has an unlabelled leaf (input: {newick!r:.120})")
        labels.append(leaf.taxon.label)
    _check_names(labels, arg="newick leaves")
    return tree


def leaf_names(newick) -> list[str]:
    """Leaf labels of a Newick string, in the order they appear."""
    return [leaf.taxon.label for leaf in parse_newick(newick).leaf_node_iter()]


def newick_to_linkage(newick, names=None):
    """Convert a binary rooted Newick tree to a scipy linkage matrix.

    Parameters
    ----------
    newick : str
        A rooted tree whose internal nodes all have exactly two children
        (unary internal nodes are collapsed first; a multifurcation raises
        ``ValueError`` because a linkage cannot represent it).
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
    tree = parse_newick(newick)
    tree.suppress_unifurcations()
    tree_leaves = [leaf.taxon.label for leaf in tree.leaf_node_iter()]
    if names is None:
        names = tree_leaves
    else:
        names = _check_names(names)
        if set(names) != set(tree_leaves):
            raise ValueError(
                "names must be the tree's leaves: missing "
                f"{sorted(set(tree_leaves) - set(names))}, extra {sorted(set(names) - set(tree_leaves))}"
            )
    n = len(names)
    if n < 2:
        raise ValueError(f"newick has {n} leaf; a linkage needs at least 2")
    index = {name: i for i, name in enumerate(names)}
    has_lengths = all(
        nd.edge.length is not None for nd in tree.preorder_node_iter() if nd is not tree.seed_node
    )
    height: dict = {}
    rows = []  # (height, order, node, child_a, child_b)
    for order, nd in enumerate(tree.postorder_node_iter()):
        kids = nd.child_nodes()
        if not kids:
            height[nd] = 0.0
            continue
        if len(kids) != 2:
            raise ValueError(
                f"newick has a node with {len(kids)} children; newick_to_linkage needs a binary tree"
            )
        if has_lengths:
            # Negative lengths (seen in NJ trees) are clipped so heights stay monotone.
            h = max(height[c] + max(float(c.edge.length), 0.0) for c in kids)
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


# ---------------------------------------------------------------------------
# UPGMA relation trees (CAEC paper section 3.3, eq. 15-16)
# ---------------------------------------------------------------------------

#: Tree metrics of the CAEC paper (eq. 11-13) -> scipy ``pdist`` names.
TREE_METRICS = {"euclidean": "euclidean", "manhattan": "cityblock", "canberra": "canberra"}


def _check_points(points, arg="points"):
    X = check_matrix(points, arg, axes="(n_leaves, n_features)").astype(float, copy=False)
    if X.shape[0] < 3:
        raise ValueError(f"{arg} has {X.shape[0]} rows; a relation tree needs at least 3 leaves")
    return X


def upgma_linkage(points, metric="euclidean"):
    """UPGMA (average-linkage) linkage matrix of a set of points.

    UPGMA merges the two closest clusters, with the cluster distance the mean
    pairwise distance (eq. 15), updated by the size-weighted average (eq. 16);
    this is exactly ``scipy.cluster.hierarchy.linkage(method="average")``.

    Parameters
    ----------
    points : array-like of shape (n_leaves, n_features)
        One point per leaf (class centroids G, final centroids G^f or MMPs P).
    metric : {"euclidean", "manhattan", "canberra"}
        Leaf-to-leaf distance (eq. 11-13). Canberra terms with ``|x_i|+|y_i| = 0``
        count 0 (scipy's convention).

    Returns
    -------
    Z : ndarray of shape (n_leaves - 1, 4)
    """
    from scipy.spatial.distance import pdist

    if metric not in TREE_METRICS:
        raise ValueError(f"metric={metric!r} is not one of {sorted(TREE_METRICS)}")
    X = _check_points(points)
    d = pdist(X, metric=TREE_METRICS[metric])
    return hierarchy.linkage(d, method="average")


def upgma(points, names, metric="euclidean") -> str:
    """UPGMA relation tree over labelled points, as Newick (CAEC paper 3.3, eq. 15-16).

    Parameters
    ----------
    points : array-like of shape (n_leaves, n_features)
        One point per leaf; ``n_leaves >= 3``.
    names : sequence of str, length n_leaves
        Unique leaf labels (class names), in the row order of ``points``.
    metric : {"euclidean", "manhattan", "canberra"}

    Returns
    -------
    str
        Rooted Newick with branch lengths = differences of merge heights.
    """
    X = _check_points(points)
    names = _check_names(names, X.shape[0])
    return linkage_to_newick(upgma_linkage(X, metric), names)


# ---------------------------------------------------------------------------
# Tree comparison: Robinson-Foulds (CAEC 4.5.1), split recall / precision and the
# Deformity Index (CAEC 4.5.2, eq. 21; Mahapatra & Mukherjee 2021)
# ---------------------------------------------------------------------------
#
# Every comparison runs on boolean leaf-membership matrices over one leaf order
# (the reference's, sorted names), so a reference is parsed once
# (:class:`ReferenceTree`) and each comparison is a few matrix products; the
# older per-comparison dendropy namespaces and Python big-int loops took ~77 s
# on a 1,000-leaf tree.


def _same_leaves(a_names, b_names):
    a, b = set(a_names), set(b_names)
    if a != b:
        raise ValueError(
            "trees have different leaf sets: only in tree_a "
            f"{sorted(a - b)[:10]}, only in tree_b {sorted(b - a)[:10]}"
        )
    if len(a) < 3:
        raise ValueError(f"trees have {len(a)} leaves; comparison needs at least 3")


class _Topology:
    """A rooted tree as arrays over a fixed leaf order (unary nodes suppressed).

    Attributes
    ----------
    n : int, number of leaves
    members : bool array (n_internal, n)
        Leaf set of every internal node, preorder (row 0 is the root).
    parent : int array (n_internal,)
        Row of each internal node's parent (-1 for the root).
    depth : int array (n_internal,)
        Edges from the root (root 0).
    leaf_depth : int array (n,)
        Edges from the root to each leaf, in leaf-index order.
    """

    __slots__ = ("n", "members", "parent", "depth", "leaf_depth")

    def __init__(self, tree, index):
        tree.suppress_unifurcations()
        nodes = list(tree.preorder_node_iter())
        pos = {nd: i for i, nd in enumerate(nodes)}
        parent = np.array([pos[nd.parent_node] if nd.parent_node is not None else -1 for nd in nodes])
        is_leaf = np.array([nd.is_leaf() for nd in nodes])
        depth = np.zeros(len(nodes), dtype=np.int64)
        for i in range(1, len(nodes)):  # preorder: a parent precedes its children
            depth[i] = depth[parent[i]] + 1
        leaves = np.flatnonzero(is_leaf)
        leaf_id = np.array([index[nodes[i].taxon.label] for i in leaves])
        internal = np.flatnonzero(~is_leaf)
        row = np.full(len(nodes), -1)
        row[internal] = np.arange(len(internal))
        n = len(index)
        members = np.zeros((len(internal), n), dtype=bool)
        # Walk all leaves up together: one vector step per level of the tree.
        cur, lid = parent[leaves], leaf_id
        while cur.size:
            members[row[cur], lid] = True
            up = parent[cur]
            keep = up >= 0
            cur, lid = up[keep], lid[keep]
        self.n = n
        self.members = members
        self.parent = np.where(parent[internal] >= 0, row[np.maximum(parent[internal], 0)], -1)
        self.depth = depth[internal]
        self.leaf_depth = np.empty(n, dtype=np.int64)
        self.leaf_depth[leaf_id] = depth[leaves]

    def lca_depth(self):
        """Depth of LCA(v, x) for every internal node v (row) and leaf x: int32 (n_internal, n).

        Top-down by level: LCA(v, x) is v when x is below v, else LCA(parent(v), x).
        """
        H = np.zeros(self.members.shape, dtype=np.int32)
        order = np.argsort(self.depth, kind="stable")
        bounds = np.flatnonzero(np.diff(self.depth[order])) + 1
        for rows in np.split(order, bounds)[1:]:  # the root row (depth 0) stays 0
            H[rows] = np.where(self.members[rows], self.depth[rows, None], H[self.parent[rows]])
        return H


def _canonical_splits(members):
    """Unique non-trivial unrooted splits of a tree's clades: bool (n_splits, n).

    Each clade is written as the side of its bipartition without leaf 0, so a
    clade and its complement (the two children of a bifurcating root) are one
    split; trivial sides (fewer than 2 leaves or more than n - 2) are dropped.
    """
    n = members.shape[1]
    side = members ^ members[:, :1]
    size = side.sum(axis=1)
    side = side[(size >= 2) & (size <= n - 2)]
    if not len(side):
        return side
    packed = np.packbits(side, axis=1)
    _, first = np.unique(packed, axis=0, return_index=True)
    return side[np.sort(first)]


def _row_keys(rows):
    """Set of packed rows of a boolean matrix (hashable leaf sets)."""
    return {bytes(r) for r in np.packbits(rows, axis=1)}


class ReferenceTree:
    """A reference tree prepared once for many comparisons.

    Parameters
    ----------
    newick : str
        Rooted Newick reference (may be multifurcating, e.g. WordNet); n >= 3
        uniquely labelled leaves.

    Attributes
    ----------
    names : list of str
        Leaf order of every matrix (sorted names).
    clades : bool array (n_clades, n)
        Leaf sets of the reference's internal nodes (root included, unary nodes
        suppressed): the clade list Λ(T_R) of the Deformity Index.
    split_keys, clade_keys : set of bytes
        Packed non-trivial unrooted splits (RF) and non-root clades (recall).
    """

    def __init__(self, newick):
        tree = parse_newick(newick)
        self.newick = newick
        self.names = sorted(x.taxon.label for x in tree.leaf_node_iter())
        if len(self.names) < 3:
            raise ValueError(f"trees have {len(self.names)} leaves; comparison needs at least 3")
        self.index = {name: i for i, name in enumerate(self.names)}
        topo = _Topology(tree, self.index)
        self.clades = topo.members
        self.split_keys = _row_keys(_canonical_splits(topo.members))
        self.clade_keys = _row_keys(topo.members[1:])

    @property
    def n(self) -> int:
        return len(self.names)

    def topology(self, newick) -> _Topology:
        """Parse ``newick`` over this reference's leaf order (same leaf set required)."""
        tree = parse_newick(newick)
        _same_leaves([x.taxon.label for x in tree.leaf_node_iter()], self.names)
        return _Topology(tree, self.index)


def _as_reference(reference) -> ReferenceTree:
    return reference if isinstance(reference, ReferenceTree) else ReferenceTree(reference)


def _rf_unrooted(topo: _Topology, ref: ReferenceTree) -> dict:
    est = _row_keys(_canonical_splits(topo.members))
    rf = len(est ^ ref.split_keys)
    rf_max = len(est) + len(ref.split_keys)
    return {
        "rf": rf,
        "rf_max": rf_max,
        "rf_norm": rf / rf_max if rf_max else 0.0,
        "n_splits_a": len(est),
        "n_splits_b": len(ref.split_keys),
    }


def clade_scores(tree, reference) -> dict:
    """Reference-clade recall and estimate-clade precision (rooted splits).

    A clade is the leaf set below an internal non-root node (2 <= size <= n - 1).
    Unlike the unrooted RF, this keeps the root: in ``((a,b,c),(d,e))`` the
    clades {a,b,c} and {d,e} are one unrooted split but two clades.

    Parameters
    ----------
    tree : str
        The estimate (e.g. a binary UPGMA or L2H tree), over the reference's leaves.
    reference : str or ReferenceTree
        The reference hierarchy; may be multifurcating.

    Returns
    -------
    dict
        ``false_negatives`` (reference clades missing from the tree) and
        ``false_positives`` (tree clades not in the reference), as
        ``dendropy.calculate.treecompare.false_positives_and_negatives`` counts
        them on rooted trees; ``clade_recall`` = share of the reference's clades
        present in the tree (higher is better; NaN for a star reference);
        ``clade_precision`` = share of the tree's clades *compatible* with every
        reference clade (nested in it, containing it or disjoint from it), so a
        clade that only resolves a multifurcation of the reference counts as
        correct (higher is better; NaN when the tree has no clade). A binary
        tree that resolves a multifurcating reference perfectly has recall 1 and
        precision 1 while its RF still counts every extra resolution.
        ``n_clades_tree``, ``n_clades_reference``.
    """
    ref = _as_reference(reference)
    topo = tree if isinstance(tree, _Topology) else ref.topology(tree)
    est = topo.members[1:]  # row 0 is the root
    est_keys = _row_keys(est)
    shared = len(est_keys & ref.clade_keys)
    n_est, n_ref = len(est_keys), len(ref.clade_keys)
    # Clades e, r are compatible iff e ⊆ r, r ⊆ e or e ∩ r = ∅: |e ∩ r| for
    # every pair by one product (counts <= n are exact in float32).
    if n_est and n_ref:
        R = ref.clades[1:]
        inter = est.astype(np.float32) @ R.T.astype(np.float32)
        e_size = est.sum(axis=1)[:, None]
        r_size = R.sum(axis=1)[None, :]
        ok = ((inter == 0) | (inter == e_size) | (inter == r_size)).all(axis=1)
        # duplicate rows cannot occur (unary nodes are suppressed), so rows = unique clades
        compatible = int(ok.sum())
    else:
        compatible = n_est
    return {
        "false_negatives": n_ref - shared,
        "false_positives": n_est - shared,
        "clade_recall": shared / n_ref if n_ref else float("nan"),
        "clade_precision": compatible / n_est if n_est else float("nan"),
        "n_clades_tree": n_est,
        "n_clades_reference": n_ref,
    }


def robinson_foulds_details(tree_a, tree_b, *, rooted=False) -> dict:
    """Robinson-Foulds distance with its maximum and normalised value.

    Parameters
    ----------
    tree_a, tree_b : str
        Newick strings over the same leaf names; either may be multifurcating
        (a WordNet reference usually is). ``tree_b`` may be a :class:`ReferenceTree`.
    rooted : bool, default False
        False compares unrooted bipartitions (splits), the usual RF and the one
        the CAEC paper's table 17 reports (its CIFAR-10 maximum 13 = 7 splits of
        a binary 10-leaf tree + 6 of the WordNet tree); True compares clades
        (``dendropy`` rooted bipartitions).

    Returns
    -------
    dict
        ``rf``: splits in exactly one tree; ``rf_max``: non-trivial splits of
        ``tree_a`` plus those of ``tree_b`` (for two binary unrooted trees
        ``2 (n - 3)``); ``rf_norm = rf / rf_max`` (0 when ``rf_max = 0``);
        ``n_splits_a``, ``n_splits_b``. See :func:`clade_scores` for recall and
        precision.
    """
    if not rooted:
        ref = _as_reference(tree_b)
        return _rf_unrooted(ref.topology(tree_a), ref)
    import dendropy
    from dendropy.calculate import treecompare

    if isinstance(tree_b, ReferenceTree):
        tree_b = tree_b.newick
    tns = dendropy.TaxonNamespace()
    ta = parse_newick(tree_a, tns, rooted=True)
    tb = parse_newick(tree_b, tns, rooted=True)
    _same_leaves(
        [x.taxon.label for x in ta.leaf_node_iter()], [x.taxon.label for x in tb.leaf_node_iter()]
    )
    for t in (ta, tb):
        t.suppress_unifurcations()
        t.encode_bipartitions()
    rf = int(treecompare.symmetric_difference(ta, tb, is_bipartitions_updated=True))
    na = sum(not b.is_trivial() for b in ta.bipartition_encoding)
    nb = sum(not b.is_trivial() for b in tb.bipartition_encoding)
    rf_max = na + nb
    return {
        "rf": rf,
        "rf_max": int(rf_max),
        "rf_norm": rf / rf_max if rf_max else 0.0,
        "n_splits_a": int(na),
        "n_splits_b": int(nb),
    }


def robinson_foulds(tree_a, tree_b, *, rooted=False) -> int:
    """Robinson-Foulds distance (number of splits in exactly one tree).

    See :func:`robinson_foulds_details` for the maximum and normalised value.
    """
    return robinson_foulds_details(tree_a, tree_b, rooted=rooted)["rf"]


def _clade_scores(topo: _Topology, clades):
    """DefIn score of placing each clade at each internal node of the target.

    Mahapatra & Mukherjee's reference implementation (DefIn, github.com/aritramhp/
    DefIn, ``Deformity_Score_for_Clade``) scores a clade C at a target node v by
    the moves that turn the leaf set L(v) into C:

    * transfer-in, for every x in C outside L(v):
      ``(level(parent(x)) - level(m)) + (level(v) - level(m))`` with m the MRCA of
      x and C ∩ L(v) (of x and L(v) when C ∩ L(v) is empty); m = LCA(x, v)
      either way, so the term is ``dist(x, v) - 1``;
    * transfer-out, for every y in L(v) outside C:
      ``level(parent(y)) - level(v) + 1 = dist(y, v)``;

    ``score(v, C) = (transfer_in + transfer_out) · |C| / |L(v)|``; level is the
    number of edges from the root. Written with the depth d and
    ``H[v, x] = d(LCA(v, x))``, both sums are matrix products over the leaves,
    so all (v, C) pairs cost three GEMMs instead of DefIn's per-leaf MRCA calls
    (memory: a few (n_internal, n) matrices, ~20 MB at 1,000 leaves, 2 GB at 10,000).

    Returns
    -------
    scores : float64 array (n_internal, n_clades)
    """
    M = topo.members
    C = np.asarray(clades, dtype=bool)
    dx = topo.leaf_depth
    dv = topo.depth[:, None]
    n_v = M.sum(axis=1)[:, None]
    n_c = C.sum(axis=1)[None, :]
    # Integer sums up to n * 3 * height are exact in float32 below 2**24.
    bound = topo.n * (3 * int(max(dx.max(), 1)) + 1)
    ft = np.float32 if bound < 2**24 else np.float64
    H = topo.lca_depth()
    G = np.where(M, 0, dx[None, :] - 1 - 2 * H).astype(ft)  # transfer-in term per (v, x ∉ L(v))
    Mf = M.astype(ft)
    CT = C.T.astype(ft)
    k = Mf @ CT  # |L(v) ∩ C|
    in_sum = G @ CT  # Σ_{x ∈ C \ L(v)} (d(x) - 1 - 2 H[v, x])
    both_depth = Mf @ (CT * dx[:, None].astype(ft))  # Σ_{y ∈ L(v) ∩ C} d(y)
    all_depth = (Mf @ dx.astype(ft))[:, None]  # Σ_{y ∈ L(v)} d(y)
    k, in_sum, both_depth, all_depth = (np.rint(a).astype(np.int64) for a in (k, in_sum, both_depth, all_depth))
    trans_in = in_sum + dv * (n_c - k)
    trans_out = all_depth - both_depth - dv * (n_v - k)
    return (trans_in + trans_out) * n_c / n_v


def max_clade_deformation(n, size):
    """Largest Dc of a clade of ``size`` leaves over all binary trees on ``n`` leaves.

    The maximum is reached by a caterpillar with the clade's members at the
    levels nearest the root (the CAEC paper, 4.5.2; embtree's tests check it by
    enumerating every rooted binary tree for n <= 7). Closed form of that
    caterpillar's DefIn score at its spine node u_i (depth i, leaves l_{i+1}..l_n;
    leaf l_j at depth j, l_n at n - 1) with S(a) = Σ_{j >= a} d(l_j):

    * i < k:  k/(n-i) · (i(i+1)/2 + S(k+1) - i(n-k))   (members above u_i move in)
    * i >= k: k/(n-i) · (k(i+1) - k(k+1)/2 + S(i+1) - i(n-i))

    and Dc is the minimum over i = 0 .. n-2.

    Parameters
    ----------
    n : int >= 3
    size : int or int array, 2 <= size <= n - 1

    Returns
    -------
    float64 array shaped like ``size``
    """
    k = np.asarray(size, dtype=np.int64)
    if n < 3 or np.any(k < 2) or np.any(k > n - 1):
        raise ValueError(f"need n >= 3 and 2 <= size <= n - 1, got n={n}, size={size}")
    d = np.append(np.arange(1, n), n - 1)  # depth of l_1 .. l_n
    S = np.append(np.cumsum(d[::-1])[::-1], 0)  # S[a - 1] = Σ_{j >= a} d(l_j)
    i = np.arange(n - 1)[None, :]
    kk = k.reshape(-1, 1)
    above = i * (i + 1) / 2 + S[kk] - i * (n - kk)  # S[k] = S(k + 1)
    below = kk * (i + 1) - kk * (kk + 1) / 2 + S[i] - i * (n - i)  # S[i] = S(i + 1)
    score = kk / (n - i) * np.where(i < kk, above, below)
    return score.min(axis=1).reshape(k.shape)


def clade_deformations(tree, reference) -> list[dict]:
    """Per-reference-clade deformation Dc(Λ) of the Deformity Index.

    Returns one dict per clade Λ of the reference's clade list Λ(T_R) (every
    internal node, the root included, after collapsing unary nodes):
    ``members`` (sorted names), ``size`` |Λ|, ``deformation`` Dc(Λ) (the DefIn
    score of the best-matching target node, :func:`deformity_scores`),
    ``max_deformation`` (:func:`max_clade_deformation`, 0 for the root clade)
    and ``node_size`` |L(v)| of the best-matching target node.
    """
    ref = _as_reference(reference)
    topo = tree if isinstance(tree, _Topology) else ref.topology(tree)
    S = _clade_scores(topo, ref.clades)
    best = S.argmin(axis=0)
    sizes = topo.members.sum(axis=1)
    out = []
    for j, lam in enumerate(ref.clades):
        full = bool(lam.all())
        k = int(lam.sum())
        out.append(
            {
                "members": [ref.names[b] for b in np.flatnonzero(lam)],
                "size": k,
                "deformation": 0.0 if full else float(S[best[j], j]),
                "max_deformation": 0.0 if full else float(max_clade_deformation(ref.n, k)),
                "node_size": int(sizes[best[j]]),
            }
        )
    return out


def deformity_scores(tree, reference) -> dict:
    """Deformity Index and its bounded form (Mahapatra & Mukherjee 2021; CAEC eq. 21).

    ``DI(T) = 1/|Λ(T_R)| · Σ_{Λ ∈ Λ(T_R)} Dc(Λ)`` (CAEC paper eq. 21), where
    ``Dc(Λ) = min_v score(v, Λ)`` over the internal nodes v of the target tree
    (root included) and ``score`` is the transfer-in / transfer-out cost of
    :func:`_clade_scores`, both as in the authors' DefIn program
    (``Deformity_Score_for_Clade`` and ``main``): Λ(T_R) is every internal node
    of the reference including its root, whose Dc is 0 but which counts in
    ``|Λ(T_R)|``. Dc(Λ) = 0 iff Λ is a clade of the target; any resolution of
    a reference multifurcation therefore scores 0 (the "semi-reference" property).

    Not recoverable here: the article's own equation numbers and worked
    examples (only its introduction was available); the score above is read
    from the authors' DefIn code. Raw DI grows with the tree (a clade's
    worst case is ~|Λ|(n - |Λ|)/2 levels of moves), so it is not comparable
    across tree sizes (0-6 on CIFAR-10, hundreds on ImageNet). ``di_norm``
    bounds it: each non-root clade's Dc divided by its maximum over all binary
    trees on n leaves (:func:`max_clade_deformation`), averaged over the
    non-root clades, in [0, 1] for binary targets (multifurcating targets are
    not covered by that maximum). Chance level still falls with n (random
    binary trees: ~0.40 on the 10-class CIFAR-10 reference, 0.18 on CIFAR-100,
    0.07 on ImageNet), since the worst case grows faster than a typical tree's Dc.

    Returns
    -------
    dict
        ``di`` (lower is better, 0 = every reference clade kept), ``di_norm``
        (lower is better, 0 iff every reference clade is kept; NaN for a star
        reference, which has no non-root clade), ``n_clades`` |Λ(T_R)|.
    """
    ref = _as_reference(reference)
    topo = tree if isinstance(tree, _Topology) else ref.topology(tree)
    S = _clade_scores(topo, ref.clades)
    nontrivial = ~ref.clades.all(axis=1)
    dc = np.where(nontrivial, S.min(axis=0), 0.0)
    if nontrivial.any():
        bound = max_clade_deformation(ref.n, ref.clades[nontrivial].sum(axis=1))
        di_norm = float(np.mean(dc[nontrivial] / bound))
    else:
        di_norm = float("nan")
    return {"di": float(dc.mean()), "di_norm": di_norm, "n_clades": int(len(dc))}


def deformity_index(tree, reference, *, normalize=False) -> float:
    """Deformity Index of ``tree`` against the clades of ``reference`` (CAEC eq. 21).

    ``normalize=True`` returns the bounded ``di_norm`` in [0, 1]; see
    :func:`deformity_scores` for both definitions. ``reference`` may be a
    Newick string or a :class:`ReferenceTree`; trees are read as rooted.
    """
    d = deformity_scores(tree, reference)
    return d["di_norm"] if normalize else d["di"]


#: Columns :func:`compare_trees` adds to a per-run tree table, in order.
COMPARE_COLUMNS = ("rf", "rf_max", "rf_norm", "clade_recall", "clade_precision", "di", "di_norm")


def compare_trees(tree, reference) -> dict:
    """All comparison columns of ``tree`` against ``reference`` (docs/design.md).

    ``reference`` may be a :class:`ReferenceTree` prepared once for many trees;
    the tree is parsed once for all measures. Keys: :data:`COMPARE_COLUMNS`
    (``rf`` / ``rf_norm`` / ``di`` / ``di_norm``: lower is better;
    ``clade_recall`` / ``clade_precision``: higher is better).
    """
    ref = _as_reference(reference)
    topo = ref.topology(tree)
    rf = _rf_unrooted(topo, ref)
    c = clade_scores(topo, ref)
    d = deformity_scores(topo, ref)
    return {
        "rf": rf["rf"],
        "rf_max": rf["rf_max"],
        "rf_norm": rf["rf_norm"],
        "clade_recall": c["clade_recall"],
        "clade_precision": c["clade_precision"],
        "di": d["di"],
        "di_norm": d["di_norm"],
    }


# ---------------------------------------------------------------------------
# Helpers for the tree stage: plain class centroids, samples -> leaves, DP
# ---------------------------------------------------------------------------


def class_centroids(features, labels, n_classes=None):
    """Mean embedding of every class: the "before clustering" centroids G.

    Parameters
    ----------
    features : array of shape (n_samples, n_features)
    labels : int array of shape (n_samples,), values in ``0 .. n_classes-1``
    n_classes : int, optional (default ``labels.max() + 1``)

    Returns
    -------
    G : float64 array of shape (n_classes, n_features); raises if a class is empty.

    The one class-mean function (CAEC eq. 1 uses it too). Hand-written rather than
    sklearn's ``NearestCentroid``, which gives the same means but copies X to float64 and
    computes per-class spreads; here float32 features are averaged in float64 class by class.
    """
    X = np.asarray(features)
    y = np.asarray(labels)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"features {X.shape} and labels {y.shape} do not match")
    if y.size and y.min() < 0:
        raise ValueError(f"labels contain negative values (min {y.min()})")
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    counts = np.bincount(y, minlength=k)
    if len(counts) > k:
        raise ValueError(f"labels go up to {y.max()} but n_classes={k}")
    if np.any(counts == 0):
        raise ValueError(f"classes {np.flatnonzero(counts == 0).tolist()[:10]} have no samples")
    order = np.argsort(y, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return np.stack([X[order[a:b]].mean(axis=0, dtype=np.float64) for a, b in zip(bounds[:-1], bounds[1:])])


def nearest_leaf(features, points, metric="euclidean"):
    """Index of the nearest leaf point for every sample (bounded memory).

    This is how a sample is placed in a relation tree whose leaves are classes
    (for dendrogram purity): its nearest tree point (G, G^f or P) under the
    tree metric, i.e. the Voronoi cell of the leaf. See
    :func:`embtree.distances.nearest` (fused float32 argmin for Manhattan /
    Canberra, the float64 argmins of ``cdist``).
    """
    from .distances import nearest

    return nearest(features, points, metric)


def tree_label_metrics(Z, leaf_of_sample, labels, **kwargs) -> dict:
    """Tree-vs-labels metrics of a class tree: dendrogram purity (and LHD).

    Delegates to :func:`embtree.metrics.dendrogram_purity` and
    :func:`embtree.metrics.lhd` (one implementation shared with the L2H stage).
    ``Z`` is the linkage over the leaves, ``leaf_of_sample`` [n_samples] the
    leaf of each sample, ``labels`` [n_samples] the true classes.
    """
    from . import metrics

    out = {}
    dp = metrics.dendrogram_purity(Z, leaf_of_sample, labels, **kwargs)
    out["dp"] = float(dp[0] if isinstance(dp, tuple) else dp)
    if hasattr(metrics, "lhd"):
        out["lhd"] = float(metrics.lhd(Z, leaf_of_sample, labels))
    return out
