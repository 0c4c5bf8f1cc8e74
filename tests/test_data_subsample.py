"""embtree.data.subsample: seeded per-class subsets."""

import numpy as np
import pytest

from embtree.data.subsample import imbalance_subsample, stratified_subsample


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
