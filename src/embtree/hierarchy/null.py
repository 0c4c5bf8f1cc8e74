"""Chance level of tree-vs-reference scores: random binary trees over the reference's leaves.

Public names
------------
:data:`MODELS` (the random-tree models), :data:`SCORE_DIRECTIONS` (which way each score is
better), :data:`NULL_SCORES` (the default scores), :func:`random_binary_tree` (one random
rooted binary tree, as Newick), :func:`score_null` (the scores of ``n_trees`` random trees
against a reference) and :func:`chance_and_p` (``<score>_chance`` and ``<score>_p`` of an
observed tree).

The null distribution depends only on the reference and its leaf set, not on the tree
being judged, so it is computed once per reference and shared by every tree scored
against it. Scores are those of :func:`embtree.hierarchy.compare.compare_trees`, computed by
that very function on every random tree.
"""

from __future__ import annotations

import numbers

import dendropy
import numpy as np

from embtree.hierarchy.compare import ReferenceTree, compare_trees
from embtree.hierarchy.newick import check_names, linkage_to_newick

__all__ = ["MODELS", "NULL_SCORES", "SCORE_DIRECTIONS", "chance_and_p", "random_binary_tree", "score_null"]

#: Random-tree models: ``"yule"`` (Yule 1925; Harding 1971) and ``"uniform"`` (PDA).
MODELS = ("yule", "uniform")

#: ``"min"``: lower is better, ``"max"``: higher is better (as :func:`compare_trees` documents;
#: the same as ``embtree.report.common.DIRECTIONS``, which this floor may not import).
SCORE_DIRECTIONS = {
    "rf": "min",
    "rf_norm": "min",
    "clade_recall": "max",
    "clade_precision": "max",
    "di": "min",
    "di_norm": "min",
}

#: The scores of the issue's null distribution (issue 25), the default of :func:`score_null`.
NULL_SCORES = ("rf", "clade_recall", "clade_precision", "di_norm")

_INT_SCORES = {"rf"}  # integer-valued columns of compare_trees (stored as int64)


# ---------------------------------------------------------------------------
# Random rooted binary trees (kernels: validated input, scipy linkage out)
# ---------------------------------------------------------------------------
#
# Both kernels return a scipy linkage over leaves 0..n-1 (the package's tree format);
# merge heights are the row number (1, 2, ...), i.e. topology only. Leaf i is the i-th
# name given, and both models are exchangeable in the labels, so the name order does
# not change the distribution.


def _yule_linkage(n, rng):
    """Yule-Harding random tree: join two uniformly chosen lineages, n - 1 times.

    Random joining of uniformly chosen pairs (the coalescent's topology) gives the same
    distribution over labelled rooted topologies as the Yule (1925) pure-birth process
    that splits a uniformly chosen leaf lineage; Harding (1971) derived its topology
    probabilities, ``2**(n-1) / n! * prod_v 1 / (n_v - 1)`` over the internal nodes v with
    n_v leaves below (4 leaves: each caterpillar 1/18, each balanced tree 1/9).

    Returns
    -------
    Z : ndarray of shape (n - 1, 4)
    """
    m = np.arange(n, 1, -1)  # lineages before each join
    first = rng.integers(0, m)
    second = rng.integers(0, m - 1)
    second += second >= first  # a uniform pair of distinct slots
    ids = list(range(n))  # linkage id of the lineage in each slot (slots 0..m-1 live)
    size = [1] * (2 * n - 1)
    Z = np.empty((n - 1, 4))
    for k, (a, b, live) in enumerate(zip(first.tolist(), second.tolist(), m.tolist())):
        ca, cb = ids[a], ids[b]
        size[n + k] = size[ca] + size[cb]
        Z[k] = (min(ca, cb), max(ca, cb), k + 1, size[n + k])
        lo, hi = (a, b) if a < b else (b, a)
        ids[lo] = n + k
        ids[hi] = ids[live - 1]  # the last live slot fills the gap
    return Z


def _uniform_linkage(n, rng):
    """Uniform random tree over all (2n - 3)!! rooted binary labelled topologies (PDA).

    The proportional-to-distinguishable-arrangements (PDA) model, Aldous (1996)'s uniform
    model. Leaf k (k = 1..n-1) is attached to one of the 2k - 1 edges of the tree on
    leaves 0..k-1 chosen uniformly, the edge above the root included (leaf insertion, as
    in Rémy 1985); each
    of the (2n - 3)!! = 1 · 3 · ... · (2n - 3) sequences of choices gives a different tree.

    Returns
    -------
    Z : ndarray of shape (n - 1, 4)
    """
    k = np.arange(1, n)
    pick = rng.integers(0, 2 * k - 1)  # nodes 0..k-1 are leaves, k..2k-2 internal nodes n..n+k-2
    node = np.where(pick < k, pick, n + pick - k)
    parent = [-1] * (2 * n - 1)  # leaves 0..n-1, internal node n + k - 1 made with leaf k
    root = 0
    for leaf, v in zip(k.tolist(), node.tolist()):
        w = n + leaf - 1  # the new node on the edge above v
        parent[w] = parent[v]
        parent[v] = w
        parent[leaf] = w
        if v == root:
            root = w
    children = [[] for _ in range(2 * n - 1)]
    for child, up in enumerate(parent):
        if up >= 0:
            children[up].append(child)
    # Iterative post-order from the root: children before parents, as a linkage needs.
    post, stack = [], [root]
    while stack:
        v = stack.pop()
        if v >= n:
            post.append(v)
            stack.extend(children[v])
    lid = list(range(n)) + [0] * (n - 1)  # node -> linkage id
    size = [1] * (2 * n - 1)
    Z = np.empty((n - 1, 4))
    for row, v in enumerate(reversed(post)):
        a, b = (lid[c] for c in children[v])
        lid[v] = n + row
        size[v] = size[children[v][0]] + size[children[v][1]]
        Z[row] = (min(a, b), max(a, b), row + 1, size[v])
    return Z


_KERNELS = {"yule": _yule_linkage, "uniform": _uniform_linkage}


def _linkage_dendropy(Z, taxa):
    """A rooted ``dendropy.Tree`` of linkage ``Z`` whose leaf i carries ``taxa[i]``.

    Builds the nodes directly: the same tree :func:`linkage_to_newick` then
    :func:`~embtree.hierarchy.newick.parse_newick` give, without writing and reading text.
    """
    n = len(taxa)
    nodes = [dendropy.Node(taxon=t) for t in taxa]
    for a, b in Z[:, :2].astype(np.int64).tolist():
        nd = dendropy.Node()
        nd.add_child(nodes[a])
        nd.add_child(nodes[b])
        nodes.append(nd)
    tree = dendropy.Tree(seed_node=nodes[2 * n - 2], taxon_namespace=taxa, is_rooted=True)
    return tree


# ---------------------------------------------------------------------------
# Validation (public functions only)
# ---------------------------------------------------------------------------


def _check_model(model):
    if model not in MODELS:
        raise ValueError(f"model={model!r} is not one of {list(MODELS)}")


def _check_rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (numbers.Integral, np.random.SeedSequence)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise ValueError(f"rng={rng!r} should be a numpy Generator, a SeedSequence or an integer seed")


def _check_scores(scores):
    if isinstance(scores, str):
        scores = (scores,)
    scores = tuple(scores)
    unknown = [s for s in scores if s not in SCORE_DIRECTIONS]
    if not scores or unknown or len(set(scores)) != len(scores):
        raise ValueError(
            f"scores={scores!r} should be distinct names from {sorted(SCORE_DIRECTIONS)}"
            + (f"; unknown: {unknown}" if unknown else "")
        )
    return scores


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def random_binary_tree(leaves, *, model="yule", rng) -> str:
    """One random rooted binary tree over ``leaves``, as topology-only Newick.

    Parameters
    ----------
    leaves : sequence of str, length n_leaves >= 2
        Unique non-empty leaf names.
    model : {"yule", "uniform"}, default "yule"
        ``"yule"``: the Yule-Harding distribution (Yule 1925; Harding 1971), i.e. join two
        uniformly chosen lineages until one is left (equivalently split a uniformly
        chosen leaf, the pure-birth process); it favours balanced trees (4 leaves: the
        3 balanced topologies have probability 1/3 together, the 12 caterpillars 2/3).
        ``"uniform"``: every one of the (2n - 3)!! rooted binary labelled topologies
        equally likely (PDA model; Rémy's leaf-insertion algorithm).
    rng : numpy.random.Generator, SeedSequence or int
        The random source (an int is a seed).

    Returns
    -------
    str
        Rooted Newick (:func:`~embtree.hierarchy.newick.linkage_to_newick`, no branch
        lengths), readable by :func:`~embtree.hierarchy.compare.compare_trees`.
    """
    names = check_names(leaves, arg="leaves")
    if len(names) < 2:
        raise ValueError(f"leaves has {len(names)} name(s); a binary tree needs at least 2")
    _check_model(model)
    gen = _check_rng(rng)
    Z = _KERNELS[model](len(names), gen)
    return linkage_to_newick(Z, names, branch_lengths=False)


def score_null(reference, leaves=None, *, n_trees=1000, model="yule", seed=0, scores=NULL_SCORES) -> dict:
    """Scores of ``n_trees`` random binary trees against ``reference``: the null distribution.

    Every random tree is scored by :func:`~embtree.hierarchy.compare.compare_trees` against
    one :class:`~embtree.hierarchy.compare.ReferenceTree` (prepared once), so a null score
    and an observed score are the same computation. Tree ``t`` is the tree
    ``random_binary_tree(ref.names, model=model, rng=np.random.default_rng(child_t))``
    with ``child_t = np.random.SeedSequence(seed).spawn(n_trees)[t]`` and ``ref.names`` the
    reference's sorted leaf names: the result does not depend on the order of ``leaves``,
    and the first k trees are the same for every ``n_trees >= k``.

    Parameters
    ----------
    reference : str, dendropy.Tree or ReferenceTree
        The reference hierarchy (n_leaves >= 3; may be multifurcating).
    leaves : sequence of str, optional
        The leaf set the trees to be judged have (e.g. the data set's class names);
        must equal the reference's leaf set. Default: the reference's leaves.
    n_trees : int >= 1, default 1000
    model : {"yule", "uniform"}, default "yule"
        The random-tree model (:func:`random_binary_tree`).
    seed : int, default 0
    scores : sequence of str, default :data:`NULL_SCORES`
        Columns of :func:`compare_trees` to keep, any of :data:`SCORE_DIRECTIONS`.

    Returns
    -------
    dict of str -> ndarray of shape (n_trees,)
        One array per score, tree order (``rf``: int64, the others float64).

    Notes
    -----
    Cost: one :func:`compare_trees` per tree, ~0.05-0.1 s at 1,000 leaves
    (``benchmarks/bench_null.py``); the random trees themselves are cheap.
    """
    ref = reference if isinstance(reference, ReferenceTree) else ReferenceTree(reference)
    if leaves is not None:
        names = check_names(leaves, arg="leaves")
        if set(names) != set(ref.names):
            raise ValueError(
                "leaves must be the reference's leaves: not in the reference "
                f"{sorted(set(names) - set(ref.names))[:10]}, missing {sorted(set(ref.names) - set(names))[:10]}"
            )
    if not isinstance(n_trees, numbers.Integral) or isinstance(n_trees, bool) or n_trees < 1:
        raise ValueError(f"n_trees={n_trees!r} should be an integer >= 1")
    _check_model(model)
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r} should be a non-negative integer")
    scores = _check_scores(scores)
    return _score_null(ref, int(n_trees), model, int(seed), scores)


def _score_null(ref, n_trees, model, seed, scores):
    """:func:`score_null` on validated input."""
    kernel = _KERNELS[model]
    taxa = dendropy.TaxonNamespace(ref.names)  # shared by every random tree (never changed)
    out = {s: np.empty(n_trees, dtype=np.int64 if s in _INT_SCORES else np.float64) for s in scores}
    for t, child in enumerate(np.random.SeedSequence(seed).spawn(n_trees)):
        Z = kernel(ref.n, np.random.default_rng(child))
        row = compare_trees(_linkage_dendropy(Z, taxa), ref)
        for s in scores:
            out[s][t] = row[s]
    return out


def chance_and_p(observed, null) -> dict:
    """Chance level and permutation-style p-value of each observed score.

    Parameters
    ----------
    observed : dict
        Scores of the tree being judged, e.g. the row :func:`compare_trees` returns; must
        hold every score in ``null``.
    null : dict of str -> array of shape (n_trees,)
        :func:`score_null`'s result (the same reference and leaves).

    Returns
    -------
    dict
        For each score s of ``null`` (in its order): ``s_chance``, the mean over the random
        trees, and ``s_p = (1 + #{random trees scoring at least as well}) / (1 + n_trees)``
        (the +1 correction of Monte Carlo p-values: North et al. 2002; Phipson & Smyth 2010), so
        ``1 / (n_trees + 1) <= p <= 1``. "At least as well" follows
        :data:`SCORE_DIRECTIONS` (``<=`` observed for rf / di_norm, ``>=`` for clade recall /
        precision), ties counted as at least as good, with a relative tolerance of 1e-9 for
        floating-point rounding. NaN null values are left out of both (the only case:
        ``clade_recall`` against a star reference, NaN for every tree as it has no clade to
        recall); NaN where the observed score is NaN or every null score is.
    """
    if not isinstance(null, dict) or not null:
        raise ValueError("null should be a non-empty dict of score -> array, as score_null returns")
    scores = _check_scores(tuple(null))
    missing = [s for s in scores if s not in observed]
    if missing:
        raise ValueError(f"observed has no {missing} (null holds {list(scores)})")
    out = {}
    for s in scores:
        values = np.asarray(null[s], dtype=np.float64)
        if values.ndim != 1 or not len(values):
            raise ValueError(f"null[{s!r}] should be a non-empty 1-d array, got shape {values.shape}")
        x = float(observed[s])
        finite = values[~np.isnan(values)]
        out[f"{s}_chance"] = float(finite.mean()) if len(finite) else float("nan")
        if np.isnan(x) or not len(finite):
            out[f"{s}_p"] = float("nan")
            continue
        slack = 1e-9 * max(1.0, abs(x))
        better = finite <= x + slack if SCORE_DIRECTIONS[s] == "min" else finite >= x - slack
        out[f"{s}_p"] = (1.0 + int(better.sum())) / (1.0 + len(finite))
    return out
