"""Comparing a tree with a reference hierarchy: Robinson-Foulds, clade recall / precision
and the Deformity Index (paper 000, section 4.5; Mahapatra & Mukherjee 2021).

Public names
------------
:class:`ReferenceTree` (a reference prepared once for many comparisons),
:func:`robinson_foulds`, :func:`robinson_foulds_details`, :func:`clade_scores`,
:func:`deformity_index`, :func:`deformity_scores`, :func:`clade_deformations`,
:func:`max_clade_deformation`, :func:`compare_trees` and its :data:`COMPARE_COLUMNS`.

Every function that takes a tree accepts a Newick string or a ``dendropy.Tree``
(:func:`embtree.hierarchy.newick.as_tree`); trees are read as rooted and never changed.
"""

from __future__ import annotations

import sys

import dendropy
from dendropy.calculate import treecompare
import numpy as np

from embtree.hierarchy.newick import as_tree, parse_newick

__all__ = [
    "COMPARE_COLUMNS",
    "ReferenceTree",
    "clade_deformations",
    "clade_scores",
    "compare_trees",
    "deformity_index",
    "deformity_scores",
    "max_clade_deformation",
    "robinson_foulds",
    "robinson_foulds_details",
]

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


def _branching_parent(node):
    """Nearest ancestor of ``node`` that does not have exactly one child (None above the root)."""
    up = node.parent_node
    while up is not None and up.num_child_nodes() == 1:
        up = up.parent_node
    return up


class _Topology:
    """A rooted tree as arrays over a fixed leaf order (unary nodes skipped).

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
        # Unary nodes are skipped, not suppressed, so ``tree`` is left as it was; the
        # preorder of the other nodes is that of the suppressed tree.
        nodes = [nd for nd in tree.preorder_node_iter() if nd.num_child_nodes() != 1]
        pos = {nd: i for i, nd in enumerate(nodes)}
        parent = np.array([pos.get(_branching_parent(nd), -1) for nd in nodes])
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
    newick : str or dendropy.Tree
        Rooted reference (may be multifurcating, e.g. WordNet); n >= 3
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
        tree = as_tree(newick)
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
        """``newick`` (str or ``dendropy.Tree``) over this reference's leaf order (same leaf set required)."""
        tree = as_tree(newick)
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
    tree : str or dendropy.Tree
        The estimate (e.g. a binary UPGMA or L2H tree), over the reference's leaves.
    reference : str, dendropy.Tree or ReferenceTree
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


def _newick_text(tree):
    """A Newick string as it is; a ``dendropy.Tree`` written as topology-only Newick."""
    if isinstance(tree, str):
        return tree
    tree = as_tree(tree)
    limit = sys.getrecursionlimit()  # dendropy's writer recurses once per level, like its reader
    sys.setrecursionlimit(max(limit, 4 * len(tree.leaf_nodes()) + 1000))
    try:
        return tree.as_string(schema="newick", suppress_edge_lengths=True, suppress_internal_node_labels=True,
                              suppress_rooting=True, preserve_spaces=True)
    finally:
        sys.setrecursionlimit(limit)


def robinson_foulds_details(tree_a, tree_b, *, rooted=False) -> dict:
    """Robinson-Foulds distance with its maximum and normalised value.

    Parameters
    ----------
    tree_a, tree_b : str or dendropy.Tree
        Trees over the same leaf names; either may be multifurcating
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
    if isinstance(tree_b, ReferenceTree):
        tree_b = tree_b.newick
    # dendropy compares bipartitions over one taxon namespace: both trees are read into it.
    tns = dendropy.TaxonNamespace()
    ta = parse_newick(_newick_text(tree_a), tns, rooted=True)
    tb = parse_newick(_newick_text(tree_b), tns, rooted=True)
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
    Newick string, a ``dendropy.Tree`` or a :class:`ReferenceTree`; trees are read as rooted.
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


