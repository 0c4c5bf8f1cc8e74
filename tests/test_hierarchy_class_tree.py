"""Where classes sit in a reference tree (embtree.hierarchy.class_tree): nodes, aliases, leaf classes."""

import numpy as np
import pytest

from conftest import ANCESTOR_NAMES, ANCESTOR_TREE
from embtree.hierarchy.class_tree import class_tree

# furniture and animal are classes with hyponyms; dog is one below animal, with poodle below it.
HAND_TREE = "((chair,desk,furniture)furniture,((poodle,dog)dog,cat,animal)animal)root;"
HAND_NAMES = ["chair", "desk", "furniture", "animal", "dog", "poodle", "cat"]


def test_hand_tree_nodes_by_hand():
    t = class_tree(HAND_TREE, HAND_NAMES)
    # Preorder: 0 root, 1 furniture, 2 chair, 3 desk, 4 furniture (leaf), 5 animal, 6 dog,
    # 7 poodle, 8 dog (leaf), 9 cat, 10 animal (leaf).
    assert t.names == ["root", "furniture", "chair", "desk", "furniture", "animal", "dog", "poodle", "dog",
                       "cat", "animal"]
    np.testing.assert_array_equal(t.parent, [-1, 0, 1, 1, 1, 0, 5, 6, 6, 5, 5])
    np.testing.assert_array_equal(t.class_node, [2, 3, 1, 5, 6, 7, 9])
    np.testing.assert_array_equal(t.node_class, [-1, 2, 0, 1, -1, 3, 4, 5, -1, 6, -1])
    # The classes' own leaves below their aliased nodes are no candidates.
    assert [list(c) for c in t.candidates] == [[1, 5], [2, 3], [], [], [], [6, 9], [7], [], [], [], []]
    np.testing.assert_array_equal(t.leaf_class, [True, True, False, False, False, True, True])
    assert t.hierarchical and t.n_nodes == 11


def test_synset_alias_and_a_class_leaf_outside_its_node():
    # WordNet-built trees label internal nodes by synset: the synsets alias them to classes.
    tree = "((chair,desk,furniture)furniture.n.01,(cat,lion)feline.n.01)entity.n.01;"
    names = ["chair", "desk", "furniture", "cat", "lion"]
    t = class_tree(tree, names, ["chair.n.01", "desk.n.01", "furniture.n.01", "cat.n.01", ""])
    np.testing.assert_array_equal(t.leaf_class, [True, True, False, True, True])
    assert t.node_class[t.class_node[2]] == 2 and t.names[t.class_node[2]] == "furniture.n.01"
    # Without the synsets no node is aliased: every class is a leaf class.
    assert not class_tree(tree, names).hierarchical
    # conftest's tree hangs the class "feline" at the root and names an inner node "feline".
    t = class_tree(ANCESTOR_TREE, ANCESTOR_NAMES)
    f = ANCESTOR_NAMES.index("feline")
    assert t.names[t.class_node[f]] == "feline" and t.parent[t.class_node[f]] != 0
    root_cands = {t.names[c] for c in t.candidates[0]}
    assert root_cands == {"dog.n.01", "animal.n.01"}  # the root's leaf "feline" is the class again
    assert not t.leaf_class[f] and t.leaf_class[ANCESTOR_NAMES.index("lion")]


def test_all_leaf_classes_are_not_hierarchical():
    t = class_tree("((a,b)ab,((c,d)cd,e)cde)root;", list("abcde"))
    assert t.leaf_class.all() and not t.hierarchical


def test_bad_input():
    with pytest.raises(ValueError, match="differ"):
        class_tree(HAND_TREE, HAND_NAMES[:-1])
    with pytest.raises(ValueError, match="unique"):
        class_tree(HAND_TREE, HAND_NAMES + ["cat"])
    with pytest.raises(ValueError, match="synsets has 2 entries"):
        class_tree(HAND_TREE, HAND_NAMES, ["a", "b"])
