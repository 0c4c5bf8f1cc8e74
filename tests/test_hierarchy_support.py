"""Bootstrap clade support (embtree.hierarchy.support) and its Newick / dendrogram form."""

import dendropy
import numpy as np
import pytest
from scipy.cluster import hierarchy

from embtree.hierarchy.compare import compare_trees
from embtree.hierarchy.newick import linkage_to_newick, newick_to_linkage, parse_newick, support_percent
from embtree.hierarchy.support import (
    CladeCounter,
    clade_support,
    group_means,
    linkage_clades,
    resample_groups,
)


def _random_linkages(n_leaves, n, seed):
    rng = np.random.default_rng(seed)
    return [hierarchy.linkage(rng.normal(size=(n_leaves, 3)), "average") for _ in range(n)]


def _naive_support(Z, replicates, names):
    """Reference: every tree through Newick and dendropy, clades as sets of leaf labels."""

    def clades(Zi):
        tree = dendropy.Tree.get(data=linkage_to_newick(Zi, names), schema="newick", rooting="force-rooted",
                                 preserve_underscores=True)
        return [frozenset(leaf.taxon.label for leaf in nd.leaf_nodes()) for nd in tree.postorder_internal_node_iter()]

    own = clades(Z)
    reps = [set(clades(R)) for R in replicates]
    # dendropy's postorder differs from the linkage's row order: key by leaf set
    by_set = {c: np.mean([c in r for r in reps]) for c in own}
    bits = linkage_clades(Z)
    return np.array([by_set[frozenset(names[i] for i in range(len(names)) if b >> i & 1)] for b in bits])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_support_equals_dendropy_reference(seed):
    names = [f"c{i}" for i in range(9)]
    Z, *reps = _random_linkages(9, 31, seed)
    reps += [Z, Z]  # make some clades certain to be found
    np.testing.assert_array_equal(clade_support(Z, reps), _naive_support(Z, reps, names))


def test_support_known_values_and_root():
    Z = hierarchy.linkage([[0.0], [1.0], [10.0], [11.0]], "average")  # ((0,1),(2,3))
    other = hierarchy.linkage([[0.0], [10.0], [1.0], [11.0]], "average")  # ((0,2),(1,3))
    s = clade_support(Z, [Z, Z, other, Z])
    assert s.tolist() == [0.75, 0.75, 1.0]
    assert linkage_clades(Z) == [0b0011, 0b1100, 0b1111]


def test_counter_streams_like_clade_support():
    Z, *reps = _random_linkages(12, 20, 5)
    c = CladeCounter(Z)
    for R in reps:
        c.add(R)
    np.testing.assert_array_equal(c.support(), clade_support(Z, reps))


def test_bad_replicates():
    Z = _random_linkages(5, 1, 0)[0]
    with pytest.raises(ValueError, match="at least one replicate"):
        clade_support(Z, [])
    with pytest.raises(ValueError, match="6 leaves, Z has 5"):
        clade_support(Z, _random_linkages(6, 1, 0))
    with pytest.raises(ValueError, match="support must lie in"):
        support_percent([0.5, 1.2])


def test_support_percent_rounds_down():
    assert support_percent([0.29, 0.996, 1.0, 0.0, 57 / 100]).tolist() == [29, 99, 100, 0, 57]


def test_newick_labels_round_trip_and_compare_like_unlabelled():
    rng = np.random.default_rng(3)
    names = [f"leaf_{i}" for i in range(15)]
    Z = hierarchy.linkage(rng.normal(size=(15, 4)), "average")
    support = rng.integers(0, 101, size=14) / 100
    plain, labelled = linkage_to_newick(Z, names), linkage_to_newick(Z, names, support=support)
    assert labelled != plain and labelled.endswith(");")  # the root is unlabelled
    tree = parse_newick(labelled)
    assert sorted(t.label for t in tree.taxon_namespace) == sorted(names)  # no internal taxa
    # The internal labels are the support percents, clade by clade.
    index = {frozenset(names[i] for i in range(15) if b >> i & 1): k for k, b in enumerate(linkage_clades(Z))}
    for nd in tree.postorder_internal_node_iter():
        k = index[frozenset(x.taxon.label for x in nd.leaf_nodes())]
        assert nd.label == (None if k == 13 else str(support_percent(support)[k]))
    Z2, _ = newick_to_linkage(labelled, names)
    np.testing.assert_allclose(Z2, newick_to_linkage(plain, names)[0])
    reference = linkage_to_newick(hierarchy.linkage(rng.normal(size=(15, 4)), "average"), names)
    assert compare_trees(labelled, reference) == compare_trees(plain, reference)
    assert compare_trees(reference, labelled) == compare_trees(reference, plain)


def test_resample_groups_stays_in_group_and_is_seeded():
    indptr = np.array([0, 3, 3, 8, 9])
    a = resample_groups(indptr, np.random.default_rng(7))
    b = resample_groups(indptr, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    group = np.repeat(np.arange(4), np.diff(indptr))
    assert ((a >= indptr[group]) & (a < indptr[group + 1])).all()
    draws = np.concatenate([resample_groups(indptr, np.random.default_rng(s)) for s in range(200)])
    assert set(np.unique(draws)) == set(range(9))  # every row can be drawn
    with pytest.raises(ValueError, match="indptr"):
        resample_groups([1, 3], np.random.default_rng(0))


def test_group_means_counts_repeats_and_keep():
    X = np.arange(12.0).reshape(6, 2)
    indptr = np.array([0, 3, 5])
    rows = np.array([0, 0, 1, 4, 5])
    m = group_means(X, indptr, rows)
    np.testing.assert_allclose(m, [X[[0, 0, 1]].mean(0), X[[4, 5]].mean(0)])
    k = group_means(X, indptr, rows, keep=np.array([False, False, True, False, False]))
    np.testing.assert_allclose(k[0], X[1])
    assert np.isnan(k[1]).all()
