"""Merge & Expand (paper 003) end to end: embtree.merge_expand.merge_expand, the flat clusterer, bad input."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from conftest import blobs_around
from embtree import merge_expand as me

FAST = dict(n_regions=20, steps=120, n_rounds=2, max_seeds=10)


@pytest.fixture(scope="module")
def mixed_blobs():
    centres = np.array([[0, 0], [12, 0], [0, 12], [12, 12]], dtype=float)
    X, y = blobs_around(centres, 80, 1.0, seed=9)
    # A few mixed points: on the segment between blobs 0 and 1, labelled at random.
    rng = np.random.default_rng(10)
    t = rng.uniform(0.35, 0.65, 24)
    mixed = np.c_[12 * t, rng.normal(0, 0.4, 24)].astype(np.float32)
    X = np.concatenate([X, mixed])
    y = np.r_[y, rng.integers(0, 2, 24)]
    is_mixed = np.r_[np.zeros(320, bool), np.ones(24, bool)]
    return X, y, is_mixed


def test_clusters_are_found_end_to_end(mixed_blobs):
    X, y, is_mixed = mixed_blobs
    res = me.merge_expand(X, seed=0, **FAST)
    # The 4 blobs, possibly plus the bridge between two of them as a cluster of its own.
    assert res.n_clusters in (4, 5)
    assert adjusted_rand_score(y[~is_mixed], res.labels[~is_mixed]) > 0.95
    assert res.clean[~is_mixed].mean() > 0.8
    assert set(np.unique(res.included)) <= set(range(-1, res.n_iterations + 1))


def test_deterministic(mixed_blobs):
    X = mixed_blobs[0]
    a, b = me.merge_expand(X, seed=3, **FAST), me.merge_expand(X, seed=3, **FAST)
    for name in ("labels", "clean", "regions", "seeds", "partition", "m1", "m2", "m3", "included"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_flat_clusterer_merge_expand(mixed_blobs):
    from embtree import flat

    X = mixed_blobs[0]
    labels = flat.cluster(X, "merge-expand", n_clusters=None, seed=0, **FAST)
    np.testing.assert_array_equal(labels, me.merge_expand(X, seed=0, **FAST).labels)


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match="n_regions"):
        me.merge_expand(X, n_regions=1)
    with pytest.raises(ValueError, match="input"):
        me.merge_expand(X, n_regions=4, input="images")
    with pytest.raises(ValueError, match="NaN"):
        me.merge_expand(np.full((30, 2), np.nan), n_regions=4)


@pytest.mark.slow
def test_images_input_trains_the_cnn():
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = np.r_[[np.nonzero(d.target == c)[0][:20] for c in (0, 1)]].ravel()
    res = me.merge_expand(d.data[idx], images=d.images[idx], input="images", n_regions=4, min_region_size=5,
                          steps=40, n_rounds=1, min_train_accuracy=0.0, seed=0)
    assert res.labels.shape == (40,) and res.n_clusters >= 1
    with pytest.raises(ValueError, match="images"):
        me.merge_expand(d.data[idx], images=d.images[idx][:5], input="images", n_regions=4)


def test_held_out_samples_are_assigned_by_the_final_classifier():
    centres = np.array([[0, 0], [12, 0], [0, 12], [12, 12]], dtype=float)
    X, y = blobs_around(centres, 80, 1.0, seed=9)
    Xe, ye = blobs_around(centres, 30, 1.0, seed=11)  # fresh draws: a known answer, every blob found
    res = me.merge_expand(X, seed=0, eval_features=Xe, **FAST)
    assert res.eval_labels.shape == (len(Xe),)
    assert adjusted_rand_score(ye, res.eval_labels) > 0.95
    # Its own fit samples through the same path: the labels the fit itself gave.
    own = me.merge_expand(X, seed=0, eval_features=X, **FAST)
    np.testing.assert_array_equal(own.labels, res.labels)  # the eval set never changes the fit
    assert (own.eval_labels == own.labels).mean() > 0.99
    with pytest.raises(ValueError, match="eval_features has 3 columns"):
        me.merge_expand(X, seed=0, eval_features=np.zeros((4, 3)), **FAST)
