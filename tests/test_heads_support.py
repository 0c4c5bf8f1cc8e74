"""Support of the heads stage: ECE / mapped top-k metrics, cosine k-means, odd-half
imbalance, coarse labels at a tree depth, multi-label files."""

import json

import numpy as np
import pytest

from embtree import cosine_kmeans, datasets, flat, granularity, metrics


def test_hungarian_map_and_top_k_to_one():
    y = np.array([0, 0, 1, 1, 2, 2])
    # top-1 clusters are a relabelling (c -> c+1 mod 3); second choices vary.
    ranked = np.array([[1, 0], [1, 2], [2, 0], [2, 1], [0, 1], [0, 1]])
    np.testing.assert_array_equal(metrics.hungarian_map(y, ranked[:, 0]), [2, 0, 1])
    assert metrics.top_k_to_one(y, ranked, 1) == 1.0
    wrong = ranked.copy()
    wrong[0, 0], wrong[0, 1] = 2, 1  # sample 0 top-1 wrong, its top-2 holds the right cluster
    assert metrics.top_k_to_one(y, wrong, 1) == pytest.approx(5 / 6)
    assert metrics.top_k_to_one(y, wrong, 2) == 1.0
    # More clusters than classes: the unmatched cluster 3 maps to -1 (always wrong).
    m = metrics.hungarian_map(np.array([0, 0, 1]), np.array([0, 3, 1]))
    assert m[1] == 1 and m[2] == -1 and (m == -1).sum() == 2


def test_top_k_to_many():
    y = np.array([0, 1, 2, 0])
    ranked = np.array([[0, 1], [1, 2], [2, 0], [1, 0]])
    S = np.zeros((4, 3), dtype=bool)
    S[np.arange(4), y] = True
    S[3, 1] = True  # sample 3 is also "class 1"
    # Map from the GT: 0->0, 1->1, 2->2; sample 3 predicts 1 which is in its label set.
    assert metrics.top_k_to_many(S, ranked, 1, map_labels=y) == 1.0
    assert metrics.top_k_to_one(y, ranked, 1) == pytest.approx(0.75)
    # Random single labels from S_L: still a valid accuracy in [0, 1], deterministic by seed.
    a = metrics.top_k_to_many(S, ranked, 2, n_repeats=5, seed=1)
    assert a == metrics.top_k_to_many(S, ranked, 2, n_repeats=5, seed=1) and 0 <= a <= 1


def test_ece_hand_made():
    conf = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    # bin (0.9,1]: acc 0.75 conf 0.95 (4/6); bin (0.5,0.6]: acc 0.5, conf 0.55 (2/6)
    expected = 4 / 6 * 0.2 + 2 / 6 * 0.05
    assert metrics.expected_calibration_error(conf, correct, 15) == pytest.approx(expected)
    assert metrics.expected_calibration_error(np.ones(3), np.ones(3, bool)) == 0.0
    b = metrics.calibration_bins(conf, correct, 10)
    assert b["count"].sum() == 6 and b["count"][9] == 4 and b["count"][5] == 2
    with pytest.raises(ValueError, match="confidence"):
        metrics.expected_calibration_error(np.array([1.5]), np.array([True]))


def test_cosine_kmeans_on_directions():
    rng = np.random.default_rng(0)
    dirs = np.eye(4)[:3] * 5
    # Same directions at very different norms: euclidean k-means splits by norm, cosine does not.
    X = np.concatenate([d * s + 0.05 * rng.normal(size=(30, 4)) for d in dirs for s in (1, 20)])
    y = np.repeat(np.arange(3), 60)
    labels, centres = cosine_kmeans.cosine_kmeans(X, 3, seed=0, n_init=3)
    assert metrics.cluster_accuracy(y, labels) == 1.0
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1)
    top = cosine_kmeans.nearest_centres(X, centres, k=3)
    np.testing.assert_array_equal(top[:, 0], labels)
    assert (np.sort(top, 1) == np.arange(3)).all()
    assert metrics.cluster_accuracy(y, flat.cluster(X, "kmeans-cosine", n_clusters=3, seed=0)) == 1.0
    with pytest.raises(ValueError, match="n_clusters"):
        cosine_kmeans.cosine_kmeans(X, 0)


def _reference_lloyd(Xn, centres, max_iter):
    """Spherical Lloyd written out: full similarity matrix, np.add.at sums, reseed empty clusters."""
    labels = np.full(len(Xn), -1)
    for _ in range(max_iter):
        sim = Xn @ centres.T
        new = sim.argmax(axis=1)
        best = sim[np.arange(len(Xn)), new]
        empty = np.setdiff1d(np.arange(len(centres)), new)
        far = np.argsort(best, kind="stable")[: len(empty)]
        new[far], best[far] = empty, 1.0
        if np.array_equal(new, labels):
            break
        labels = new
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, Xn)
        centres = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return labels, centres, best.sum()


def test_cosine_kmeans_lloyd_equals_the_reference_loop_bit_for_bit():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(900, 12)) + 3 * rng.normal(size=(30, 12))[rng.integers(30, size=900)]
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    init = Xn[rng.choice(900, 40, replace=False)]
    got = cosine_kmeans._lloyd(Xn, init, 300, chunk=128)  # several row blocks
    ref = _reference_lloyd(Xn, init, 300)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    assert got[2] == ref[2]


def test_odd_half_imbalance():
    y = np.repeat(np.arange(4), [10, 11, 10, 7])
    keep = datasets.imbalance_subsample(y, "odd-half", seed=0)
    counts = np.bincount(y[keep], minlength=4)
    np.testing.assert_array_equal(counts, [10, 5, 10, 3])
    assert (np.diff(keep) > 0).all()
    np.testing.assert_array_equal(keep, datasets.imbalance_subsample(y, "odd-half", seed=0))
    assert not np.array_equal(keep, datasets.imbalance_subsample(y, "odd-half", seed=1))
    with pytest.raises(ValueError, match="imbalance"):
        datasets.imbalance_subsample(y, "even-half")


TREE = "((a,b)ab,((c,d)cd,e)cde)root;"


def test_coarse_labels_at_depth():
    names = ["a", "b", "c", "d", "e"]
    c1, n1 = granularity.coarsen_classes(TREE, names, 1)
    np.testing.assert_array_equal(c1, [0, 0, 1, 1, 1])
    assert n1 == ["ab", "cde"]
    c2, n2 = granularity.coarsen_classes(TREE, names, 2)
    # a, b, e are at depth 2 (kept); c, d (depth 3) go to cd.
    np.testing.assert_array_equal(c2, [0, 1, 2, 2, 3])
    assert n2 == ["a", "b", "cd", "e"]
    c3, _ = granularity.coarsen_classes(TREE, names, 3)
    np.testing.assert_array_equal(c3, np.arange(5))
    with pytest.raises(ValueError, match="coarse depth=4 must be an int in 1..3"):
        granularity.coarsen_classes(TREE, names, 4)
    with pytest.raises(ValueError, match="differ"):
        granularity.coarsen_classes(TREE, ["a", "b"], 1)


def test_read_multi_labels(tmp_path):
    path = tmp_path / "real.json"
    path.write_text(json.dumps([[0], [1, "c"], []]))
    S = granularity.read_multi_labels(path, ["a", "b", "c"], 3)
    np.testing.assert_array_equal(S, [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="4 label lists"):
        granularity.read_multi_labels(path, ["a", "b", "c"], 4)


# A WordNet-shaped tree: "dog" hangs as a leaf below its own synset node, the ancestor of
# poodle and terrier; "feline" is named by class name; "animal.n.01" is no class.
ANCESTOR_TREE = "((poodle,terrier,dog)dog.n.01,(cat,(lion,tiger)feline)animal.n.01,feline)root;"
ANCESTOR_NAMES = ["poodle", "terrier", "dog", "cat", "lion", "tiger", "feline"]


def test_ancestor_label_sets_by_synset_and_by_name():
    syn = ["poodle.n.01", "", "dog.n.01", "cat.n.01", "lion.n.01", "tiger.n.01", "feline.n.01"]
    S = granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES, syn)
    expected = np.eye(7, dtype=bool)
    expected[[0, 1], 2] = True  # poodle, terrier -> dog (the dog.n.01 node)
    expected[[4, 5], 6] = True  # lion, tiger -> feline (an internal node named like the class)
    np.testing.assert_array_equal(S, expected)
    # Without synsets only the node named like a class counts.
    S = granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES)
    np.testing.assert_array_equal(S[:, 2], np.eye(7, dtype=bool)[:, 2])
    assert S[4, 6] and S[5, 6] and not S[3, 6]
    # All-leaf classes (CIFAR-10, ImageNet-1K): every set is the class alone.
    np.testing.assert_array_equal(granularity.ancestor_label_sets(TREE, list("abcde")), np.eye(5, dtype=bool))
    with pytest.raises(ValueError, match="differ"):
        granularity.ancestor_label_sets(ANCESTOR_TREE, ANCESTOR_NAMES[:3])


def test_ancestor_labels_give_top1_to_l_credit(tmp_path):
    # poodle, terrier and dog images share one cluster, which the Hungarian map (from top-1
    # and the classes) gives to dog, the largest: top-1 counts only the dog images, top-1 -> L
    # also the poodles and terriers, whose label sets hold their ancestor dog.
    from types import SimpleNamespace

    from embtree.heads import evaluate, granularity_targets

    labels = np.repeat(np.arange(7), [10, 10, 12, 10, 10, 10, 10])
    emb = SimpleNamespace(labels=labels, class_names=np.array(ANCESTOR_NAMES))
    ref = tmp_path / "reference.nwk"
    ref.write_text(ANCESTOR_TREE)
    syn = tmp_path / "synsets.tsv"
    syn.write_text("index\tclass_name\tsynset\n" + "".join(f"{i}\t{n}\t{n}.n.01\n" for i, n in enumerate(ANCESTOR_NAMES)))
    targets, K, name, multi = granularity_targets(emb, None, [str(ref)], [], None, ancestor_labels=True,
                                                  synsets=[str(syn)])
    assert (K, name) == (7, "classes") and multi.shape == (72, 7)
    pred = labels.copy()
    pred[labels <= 2] = 2
    scores = evaluate(labels, pred[:, None], multi_labels=multi)
    assert scores["acc"] == pytest.approx(52 / 72)
    assert scores["top1_l"] == pytest.approx(1.0)
    assert granularity_targets(emb, None, [str(ref)], [], None)[3] is None
    with pytest.raises(ValueError, match="ancestor_labels needs a reference tree"):
        granularity_targets(emb, None, [], [], None, ancestor_labels=True)
