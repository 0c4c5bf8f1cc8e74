"""Paper 002's fine-grained benchmarks (embtree.heads.hzr): leaf subset, leaf HZR and p-HZR
relabelling on a hand-made tree, the nearest-prototype scorer, the variants' scores."""

import numpy as np
import pytest

from embtree.heads import hzr
from embtree.hierarchy.class_tree import class_tree
from test_hierarchy_class_tree import HAND_NAMES, HAND_TREE

C = {n: i for i, n in enumerate(HAND_NAMES)}
# Nodes (preorder): 0 root, 1 furniture, 2 chair, 3 desk, 4 furniture leaf, 5 animal, 6 dog,
# 7 poodle, 8 dog leaf, 9 cat, 10 animal leaf.
LABELS = np.array([C["furniture"], C["furniture"], C["animal"], C["dog"], C["chair"], C["animal"]])
S = np.zeros((6, 11))
S[0, [1, 2, 3]] = [0.2, 0.5, 0.9]          # furniture, closest to desk
S[1, [1, 2, 3]] = [0.9, 0.5, 0.1]          # furniture, fits none of its hyponyms better
S[2, [5, 6, 9, 7]] = [0.1, 0.8, 0.3, 0.5]  # animal: dog beats cat; at dog, dog beats poodle
S[3, [6, 7]] = [0.2, 0.6]                  # dog: poodle beats dog
S[5, [5, 6, 9]] = [0.3, 0.1, 0.2]          # animal: stays animal (p-HZR); leaf HZR: cat


def table_scorer(S):
    return lambda idx, nodes: S[np.ix_(idx, nodes)]


def test_leaf_and_parent_hzr_by_hand():
    t = class_tree(HAND_TREE, HAND_NAMES)
    leaf = hzr.hzr_relabel(LABELS, t, table_scorer(S))
    p = hzr.hzr_relabel(LABELS, t, table_scorer(S), parent=True)
    names = np.array(HAND_NAMES)
    # Leaf HZR always ends at a leaf class; p-HZR may stop at the class of any node on the way.
    assert list(names[leaf]) == ["desk", "chair", "poodle", "poodle", "chair", "cat"]
    assert list(names[p]) == ["desk", "furniture", "dog", "poodle", "chair", "animal"]
    assert t.leaf_class[leaf].all()


def test_ties_go_to_the_first_candidate_and_the_parent():
    t = class_tree(HAND_TREE, HAND_NAMES)
    zero = lambda idx, nodes: np.zeros((len(idx), len(nodes)))
    names = np.array(HAND_NAMES)
    assert list(names[hzr.hzr_relabel(LABELS, t, zero)]) == ["chair", "chair", "poodle", "poodle", "chair", "poodle"]
    np.testing.assert_array_equal(hzr.hzr_relabel(LABELS, t, zero, parent=True), LABELS)


def test_node_prototypes_against_a_direct_mean():
    t = class_tree(HAND_TREE, HAND_NAMES)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 60)
    X = rng.normal(size=(60, 4))
    P = hzr.node_prototypes(X, y, t)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    for v in range(t.n_nodes):
        members = []
        for c in range(7):  # the class is below v when v is on its node's path to the root
            k = t.class_node[c]
            while k >= 0 and k != v:
                k = t.parent[k]
            members.append(k == v)
        rows = np.asarray(members)[y]
        if rows.any():
            m = U[rows].mean(0)
            np.testing.assert_allclose(P[v], m / np.linalg.norm(m), atol=1e-12)
        else:
            np.testing.assert_array_equal(P[v], 0)


def test_prototype_relabelling_follows_the_geometry():
    # Leaf classes on the axes; furniture's samples sit on desk's side, animal's between dog
    # (poodle's axis) and cat.
    t = class_tree(HAND_TREE, HAND_NAMES)
    axes = {"chair": [1, 0, 0, 0], "desk": [0.9, 0.44, 0, 0], "poodle": [0, 0, 1, 0], "cat": [0, 0, 0, 1]}
    X = [axes[n] for n in ("chair", "desk", "poodle", "cat") for _ in range(5)]
    y = [C[n] for n in ("chair", "desk", "poodle", "cat") for _ in range(5)]
    X += [[0.85, 0.5, 0, 0], [0, 0, 0.7, 0.7], [0, 0, 1, 0.05]]
    y += [C["furniture"], C["animal"], C["dog"]]
    X, y = np.asarray(X, float), np.asarray(y)
    v = hzr.hierarchy_variants(X, y, t)
    names = np.array(HAND_NAMES)
    assert list(names[v["leaf_hzr"][-3:]]) == ["desk", "poodle", "poodle"]
    np.testing.assert_array_equal(v["leaf"], t.leaf_class[y])
    np.testing.assert_array_equal(v["leaf_hzr"][:20], y[:20])  # leaf classes never move
    # p-HZR: the animal sample, halfway between dog and cat, is closer to animal's prototype.
    assert names[v["p_hzr"][-2]] == "animal"


def test_variant_scores_known_answer_and_all_leaf_data():
    labels = np.array([0, 0, 1, 1, 2, 2])  # class 2 is a hypernym of 0 and 1
    variants = {"leaf": np.array([1, 1, 1, 1, 0, 0], bool), "leaf_hzr": np.array([0, 0, 1, 1, 0, 1]),
                "p_hzr": np.array([0, 0, 1, 1, 2, 1])}
    top1 = np.array([5, 5, 3, 3, 5, 3])
    s = hzr.variant_scores(labels, top1, variants, n_clusters=6)
    assert s["acc_leaf"] == 1.0 and s["n_samples_leaf"] == 4 and s["n_classes_leaf"] == 2
    assert s["acc_leaf_hzr"] == 1.0 and s["n_classes_leaf_hzr"] == 2 and s["n_relabelled_leaf_hzr"] == 2
    assert s["acc_p_hzr"] == pytest.approx(5 / 6) and s["n_classes_p_hzr"] == 3 and s["n_relabelled_p_hzr"] == 1
    # All-leaf classes (CIFAR-10): the variants are the ground truth, their scores NaN (no duplicates).
    t = class_tree("((a,b)ab,((c,d)cd,e)cde)root;", list("abcde"))
    y = np.repeat(np.arange(5), 3)
    v = hzr.hierarchy_variants(np.random.default_rng(1).normal(size=(15, 3)), y, t)
    assert v["leaf"].all()
    np.testing.assert_array_equal(v["leaf_hzr"], y)
    np.testing.assert_array_equal(v["p_hzr"], y)
    s = hzr.variant_scores(y, y, v, 5)
    assert all(np.isnan(s[f"acc_{k}"]) for k in hzr.VARIANTS)
    assert s["n_relabelled_p_hzr"] == 0 and s["n_samples_leaf"] == 15


def test_held_out_set_and_moves_table():
    t = class_tree(HAND_TREE, HAND_NAMES)
    rng = np.random.default_rng(2)
    y = np.tile(np.arange(7), 4)
    X = rng.normal(size=(28, 5))
    v = hzr.hierarchy_variants(X, y, t, X[:7], y[:7])
    # The held-out set is relabelled with the fit set's prototypes: the same samples, the same labels.
    np.testing.assert_array_equal(v["eval_p_hzr"], v["p_hzr"][:7])
    m = hzr.moves_table(y, v, HAND_NAMES)
    assert set(m["original"]) <= {"furniture", "animal", "dog"}
    assert m.groupby("variant")["n"].sum().to_dict() == {"leaf_hzr": 12, "p_hzr": 12}
    leaf_rows = m[m["variant"] == "leaf_hzr"]
    assert set(leaf_rows["reassessed"]) <= {"chair", "desk", "poodle", "cat"}
    with pytest.raises(ValueError, match="0..6"):
        hzr.hierarchy_variants(X, y + 1, t)
