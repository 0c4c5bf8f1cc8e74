"""embtree.data.subsample: seeded per-class subsets."""

import numpy as np
import pytest

from embtree.data.subsample import holdout_split, imbalance_subsample, stratified_subsample


def test_stratified_subsample_keeps_small_classes_whole():
    labels = np.array([0] * 10 + [1] * 3)
    keep = stratified_subsample(labels, 5, seed=0)
    assert np.bincount(labels[keep]).tolist() == [5, 3]
    with pytest.raises(ValueError, match="max_per_class=0"):
        stratified_subsample(labels, 0)


def test_odd_half_imbalance():
    y = np.repeat(np.arange(4), [10, 11, 10, 7])
    keep = imbalance_subsample(y, "odd-half", seed=0)
    counts = np.bincount(y[keep], minlength=4)
    np.testing.assert_array_equal(counts, [10, 5, 10, 3])
    assert (np.diff(keep) > 0).all()
    np.testing.assert_array_equal(keep, imbalance_subsample(y, "odd-half", seed=0))
    assert not np.array_equal(keep, imbalance_subsample(y, "odd-half", seed=1))
    with pytest.raises(ValueError, match="imbalance"):
        imbalance_subsample(y, "even-half")


def test_holdout_split_is_a_stratified_seeded_partition():
    labels = np.repeat([0, 1, 2, 3], [10, 20, 1, 3])
    fit, held = holdout_split(labels, 0.5, seed=3)
    assert np.array_equal(np.sort(np.r_[fit, held]), np.arange(len(labels)))  # disjoint, complete
    assert np.all(np.diff(fit) > 0) and np.all(np.diff(held) > 0)  # original order kept
    # round(0.5 n_c) per class, at least one kept for the fit part (a 1-sample class is fit-only).
    assert np.bincount(labels[held], minlength=4).tolist() == [5, 10, 0, 2]
    again = holdout_split(labels, 0.5, seed=3)
    assert np.array_equal(again[1], held)
    assert not np.array_equal(holdout_split(labels, 0.5, seed=4)[1], held)
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        holdout_split(labels, 1.0)


def test_frequency_classes_pick_whole_classes_by_their_sample_counts():
    from embtree.data.subsample import frequency_classes

    # 10 classes with 1..10 samples (class c has c + 1): percentiles of the counts 1..10.
    labels = np.repeat(np.arange(10), np.arange(1, 11))
    # [40, 60] of 1..10 is [4.6, 6.4]: the classes with 5 and 6 samples.
    assert frequency_classes(labels, "percentile", (40, 60)).tolist() == [4, 5]
    # imbalanced: those plus the top 20 % most frequent (10 and 9 samples: classes 9 and 8).
    assert frequency_classes(labels, "imbalanced", (40, 60), top=20).tolist() == [4, 5, 8, 9]
    # centered: as many classes (4), nearest the median frequency (ranks 3..6: classes 3..6).
    assert frequency_classes(labels, "centered", (40, 60), top=20).tolist() == [3, 4, 5, 6]
    assert frequency_classes(labels, "percentile", (0, 100)).tolist() == list(range(10))
    with pytest.raises(ValueError, match="lo < hi"):
        frequency_classes(labels, "percentile", (60, 40))
    with pytest.raises(ValueError, match="kind="):
        frequency_classes(labels, "odd-half")
