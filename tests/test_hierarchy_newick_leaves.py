"""embtree.hierarchy.newick.check_tree_leaves (moved from tests/test_datasets.py; beside
tests/test_hierarchy_newick.py, which helper h1 writes, until the lead merges them)."""

import pytest

from embtree.hierarchy.newick import check_tree_leaves


def test_check_tree_leaves_reports_mismatch():
    assert check_tree_leaves("((aquarium_fish,b),c);", ["aquarium_fish", "b", "c"])  # underscores kept
    with pytest.raises(ValueError, match=r"classes missing from the tree: \['d'\]"):
        check_tree_leaves("((a,b),c);", ["a", "b", "c", "d"])
