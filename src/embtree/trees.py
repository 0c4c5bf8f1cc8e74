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
"""

from __future__ import annotations

import re

import numpy as np
from scipy.cluster import hierarchy

from embtree._validation import check_matrix

__all__ = [
    "TREE_METRICS",
    "linkage_to_newick",
    "newick_to_linkage",
    "leaf_names",
    "parse_newick",
    "upgma",
    "upgma_linkage",
    "robinson_foulds",
    "robinson_foulds_details",
    "deformity_index",
    "clade_deformations",
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
    try:
        tree = dendropy.Tree.get(**kwargs)
    except Exception as exc:  # dendropy raises several private error types
        raise ValueError(f"newick could not be parsed: {exc} (input: {newick!r:.120})") from exc
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
# Tree comparison: Robinson-Foulds (4.5.1) and Deformity Index (4.5.2, eq. 21)
# ---------------------------------------------------------------------------


def _same_leaves(a_names, b_names):
    a, b = set(a_names), set(b_names)
    if a != b:
        raise ValueError(
            "trees have different leaf sets: only in tree_a "
            f"{sorted(a - b)[:10]}, only in tree_b {sorted(b - a)[:10]}"
        )
    if len(a) < 3:
        raise ValueError(f"trees have {len(a)} leaves; comparison needs at least 3")


def robinson_foulds_details(tree_a, tree_b, *, rooted=False) -> dict:
    """Robinson-Foulds distance with its maximum and normalised value.

    Parameters
    ----------
    tree_a, tree_b : str
        Newick strings over the same leaf names; either may be multifurcating
        (a WordNet reference usually is).
    rooted : bool, default False
        False compares unrooted bipartitions (splits), the usual RF and the one
        the CAEC paper's table 17 reports (its CIFAR-10 maximum 13 = 7 splits of
        a binary 10-leaf tree + 6 of the WordNet tree); True compares clades.

    Returns
    -------
    dict
        ``rf``: splits in exactly one tree (``dendropy.calculate.treecompare.
        symmetric_difference`` over a shared ``TaxonNamespace``); ``rf_max``:
        non-trivial splits of ``tree_a`` plus those of ``tree_b`` (the value when
        no split is shared; for two binary unrooted trees ``2 (n - 3)``);
        ``rf_norm = rf / rf_max`` (0 when ``rf_max = 0``); ``n_splits_a``,
        ``n_splits_b``.
    """
    import dendropy
    from dendropy.calculate import treecompare

    tns = dendropy.TaxonNamespace()
    ta = parse_newick(tree_a, tns, rooted=rooted)
    tb = parse_newick(tree_b, tns, rooted=rooted)
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


def _clade_masks(tree, index):
    """Leaf bitmask of every node of a dendropy tree (Python ints: any size).

    Returns ``(masks, parent)``: ``masks[i]`` for node ``i`` in postorder, and
    the index of each node's parent (-1 for the root).
    """
    nodes = list(tree.postorder_node_iter())
    pos = {nd: i for i, nd in enumerate(nodes)}
    masks = [0] * len(nodes)
    for i, nd in enumerate(nodes):
        if nd.is_leaf():
            masks[i] = 1 << index[nd.taxon.label]
        else:
            m = 0
            for c in nd.child_node_iter():
                m |= masks[pos[c]]
            masks[i] = m
    parent = [pos[nd.parent_node] if nd.parent_node is not None else -1 for nd in nodes]
    return masks, parent


def clade_deformations(tree, reference) -> list[dict]:
    """Per-reference-clade deformation used by :func:`deformity_index`.

    Returns one dict per non-trivial clade Λ of ``reference`` (internal, non-root
    nodes after collapsing unary nodes): ``members`` (sorted names), ``size`` |Λ|,
    ``intruders`` I(Λ), ``fragments`` F(Λ), ``deformation`` Dc(Λ) = I·(F-1),
    ``max_deformation`` (n-|Λ|)·(|Λ|-1). See :func:`deformity_index`.
    """
    tt = parse_newick(tree)
    tr = parse_newick(reference)
    names_t = [x.taxon.label for x in tt.leaf_node_iter()]
    names_r = [x.taxon.label for x in tr.leaf_node_iter()]
    _same_leaves(names_t, names_r)
    tt.suppress_unifurcations()
    tr.suppress_unifurcations()
    names = sorted(names_t)
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    t_masks, t_parent = _clade_masks(tt, index)
    r_masks, r_parent = _clade_masks(tr, index)
    full = (1 << n) - 1
    # Target clades sorted by size so the first superset found is the LCA clade.
    t_sizes = [m.bit_count() for m in t_masks]
    order = sorted(range(len(t_masks)), key=t_sizes.__getitem__)
    out = []
    seen = set()
    for i, lam in enumerate(r_masks):
        k = lam.bit_count()
        if k < 2 or lam == full or lam in seen:
            continue
        seen.add(lam)
        lca_size = next(t_sizes[j] for j in order if t_masks[j] & lam == lam)
        intruders = lca_size - k
        # Maximal target clades inside Λ: node ⊆ Λ and its parent is not.
        fragments = sum(
            1
            for j, m in enumerate(t_masks)
            if m & ~lam == 0 and (t_parent[j] < 0 or t_masks[t_parent[j]] & ~lam != 0)
        )
        out.append(
            {
                "members": [names[b] for b in range(n) if lam >> b & 1],
                "size": k,
                "intruders": intruders,
                "fragments": fragments,
                "deformation": intruders * (fragments - 1),
                "max_deformation": (n - k) * (k - 1),
            }
        )
    return out


def deformity_index(tree, reference, *, normalize=False) -> float:
    """Deformity Index of ``tree`` against the clades of ``reference`` (eq. 21).

    Mahapatra & Mukherjee (2021, J. Mol. Evol. 89:302-312) define the index as
    the mean clade deformation over the clade list Λ(T_R) of the reference
    (eq. 21 of the CAEC paper)::

        D(T) = 1/|Λ(T_R)| · Σ_{Λ_i ∈ Λ(T_R)} Dc(Λ_i)

    with Dc = 0 when the tree keeps the clade intact, and D maximal for a
    caterpillar tree with the reference clades' members at the levels nearest
    the root. The published form of Dc could not be retrieved here (only the
    paper's abstract and the CAEC paper's summary were available), so embtree
    uses the following clade deformation, which has exactly those properties::

        Dc(Λ) = I(Λ) · (F(Λ) - 1)

    * I(Λ) (intruders): leaves of the smallest clade of ``tree`` containing Λ
      (the subtree of its most recent common ancestor) that are not in Λ;
    * F(Λ) (fragments): number of maximal clades of ``tree`` (leaves included)
      lying entirely inside Λ, i.e. how many pieces Λ is broken into.

    Dc(Λ) = 0 iff Λ is a clade of ``tree`` (then I = 0 and F = 1; otherwise
    I ≥ 1 and F ≥ 2). Dc ≤ (n - |Λ|)(|Λ| - 1), reached when the MRCA is the
    root and no two members form a clade on their own, as in a caterpillar with
    Λ's members at the top; for a single reference clade that caterpillar is
    therefore a global maximum. Known deviation: with nested reference clades
    the maximum of the mean over all trees is not always a caterpillar under
    this Dc (balanced trees can score slightly higher; neither did a
    triplet-violation count have that property). Values are therefore not
    comparable in absolute size with the paper's table 18, only in ordering. Multifurcations of the reference only shorten the
    clade list, so any binary resolution of a polytomy scores 0 (the
    "semi-reference" property); a multifurcating ``tree`` is allowed too.

    Parameters
    ----------
    tree, reference : str
        Newick strings over the same leaves (n ≥ 3), read as rooted.
    normalize : bool, default False
        Divide each Dc by its maximum (n - |Λ|)(|Λ| - 1) first, giving a value
        in [0, 1]. The raw mean is what the CAEC paper's table 18 reports.

    Returns
    -------
    float
        0.0 when the reference has no non-trivial clade (a star tree).
    """
    rows = clade_deformations(tree, reference)
    if not rows:
        return 0.0
    if normalize:
        vals = [r["deformation"] / r["max_deformation"] for r in rows]
    else:
        vals = [r["deformation"] for r in rows]
    return float(np.mean(vals))


def compare_trees(tree, reference) -> dict:
    """RF (unrooted, raw/max/normalised) and DI of ``tree`` against ``reference``.

    Returns a dict with keys ``rf``, ``rf_max``, ``rf_norm``, ``di`` (the
    columns of the per-run tree tables, docs/design.md).
    """
    d = robinson_foulds_details(tree, reference)
    return {
        "rf": d["rf"],
        "rf_max": d["rf_max"],
        "rf_norm": d["rf_norm"],
        "di": deformity_index(tree, reference),
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
    """Index of the nearest leaf point for every sample (blockwise, bounded memory).

    This is how a sample is placed in a relation tree whose leaves are classes
    (for dendrogram purity): its nearest tree point (G, G^f or P) under the
    tree metric, i.e. the Voronoi cell of the leaf. Not sklearn's
    ``pairwise_distances_argmin``: same argmins, but 2.2x (manhattan) and 3.9x (canberra)
    slower than these numba blocks (20000 x 200 x 128, one thread; euclidean 0.6x).
    """
    from .distances import pairwise_blocks

    out = np.empty(len(features), dtype=np.int64)
    for rows, D in pairwise_blocks(features, points, metric):
        out[rows] = np.argmin(D, axis=1)
    return out


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
