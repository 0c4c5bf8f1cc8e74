"""embtree.data.planted: the planted tree."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import average, fcluster

from embtree.data.planted import planted_tree
from embtree.hierarchy.newick import check_tree_leaves


def test_planted_tree_shapes_and_determinism():
    X, y, names, newick = planted_tree(depth=3, branching=2, dim=5, samples_per_class=7, seed=1)
    assert X.shape == (8 * 7, 5) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [7] * 8
    assert check_tree_leaves(newick, names) and len(set(names)) == 8
    X2, *_ = planted_tree(depth=3, branching=2, dim=5, samples_per_class=7, seed=1)
    X3, *_ = planted_tree(depth=3, branching=2, dim=5, samples_per_class=7, seed=2)
    assert np.array_equal(X, X2) and not np.allclose(X, X3)
    assert newick == "(((c0_0_0,c0_0_1),(c0_1_0,c0_1_1)),((c1_0_0,c1_0_1),(c1_1_0,c1_1_1)));"


def test_planted_tree_is_recoverable_from_class_means():
    # With decay < 1, UPGMA on the class means must split the root's subtrees first.
    X, y, names, _ = planted_tree(depth=2, branching=3, dim=64, samples_per_class=50, decay=0.5, seed=0)
    means = np.stack([X[y == c].mean(0) for c in range(len(names))])
    top = fcluster(average(means), t=3, criterion="maxclust")
    truth = [n.split("_")[0] for n in names]  # c0 / c1 / c2 = child of the root
    assert len(set(zip(top, truth))) == 3


@pytest.mark.parametrize("arg, value", [("depth", 0), ("branching", 1), ("noise", 0.0), ("dim", 2.5)])
def test_planted_tree_rejects_bad_arguments(arg, value):
    with pytest.raises(ValueError, match=f"{arg}="):
        planted_tree(**{arg: value})
