"""embtree.heads.targets: the classes or coarse labels at a depth of the reference tree, and
the checks on what a run needs."""

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ANCESTOR_NAMES, ANCESTOR_TREE
from embtree.heads import evaluate, granularity_targets, targets

TREE = ("(((airplane,ship)craft,(automobile,truck)motor_vehicle)vehicle,"
        "(bird,((cat,dog)carnivore,(deer,horse)ungulate)placental,frog)vertebrate)whole;")
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture
def run(tmp_path):
    ref = tmp_path / "reference.nwk"
    ref.write_text(TREE)
    emb = SimpleNamespace(labels=np.repeat(np.arange(10), 3), class_names=np.array(NAMES))
    return emb, [str(ref)]


def test_classes_and_coarse_depths(run):
    emb, ref = run
    t, K, name, multi = targets.granularity_targets(emb, None, ref, [], None)
    assert (K, name, multi) == (10, "classes", None) and t.dtype == np.int64
    np.testing.assert_array_equal(t, emb.labels)
    assert targets.granularity_targets(emb, None, ref, [], 4)[1] == 4  # n_clusters set: classes only
    t, K, name, multi = targets.granularity_targets(emb, 1, ref, [], 4)
    assert (K, name, multi) == (2, "depth1", None)  # vehicle, vertebrate; n_clusters ignored
    vehicle = np.isin(emb.labels, [0, 1, 8, 9])
    assert len(set(t[vehicle])) == 1 and len(set(t[~vehicle])) == 1 and t[vehicle][0] != t[~vehicle][0]
    assert targets.granularity_targets(emb, 2, ref, [], None)[1:3] == (5, "depth2")


def test_what_a_run_needs_is_named(run):
    emb, ref = run
    with pytest.raises(ValueError, match="coarse_depths needs a reference tree"):
        targets.granularity_targets(emb, 1, [], [], None)
    with pytest.raises(ValueError, match="ancestor_labels needs a reference tree"):
        targets.granularity_targets(emb, None, [], [], None, ancestor_labels=True)
    with pytest.raises(ValueError, match=r"n_clusters=31 must lie in 2\.\.n_samples=30 \(classes\)"):
        targets.granularity_targets(emb, None, ref, [], 31)


def test_ancestor_labels_give_top1_to_l_credit(tmp_path):
    # poodle, terrier and dog images share one cluster, which the Hungarian map (from top-1
    # and the classes) gives to dog, the largest: top-1 counts only the dog images, top-1 -> L
    # also the poodles and terriers, whose label sets hold their ancestor dog.
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


def test_n_clusters_as_a_multiple_of_the_classes_on_the_classes_only(run):
    emb, ref = run
    assert targets.granularity_targets(emb, None, ref, [], "2x")[1] == 20
    assert targets.granularity_targets(emb, None, ref, [], "1x")[1] == 10
    assert targets.granularity_targets(emb, 1, ref, [], "2x")[1] == 2  # coarse depth: its coarse labels
    with pytest.raises(ValueError, match=r"n_clusters=40 must lie in 2\.\.n_samples=30"):
        targets.granularity_targets(emb, None, ref, [], "4x")
