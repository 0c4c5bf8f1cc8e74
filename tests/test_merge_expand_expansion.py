"""Tests of embtree.merge_expand.expansion: phase 4 stops, respects its cap, leaves mixed regions unclean."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from conftest import blobs_around
from embtree import merge_expand as me


def test_expansion_stops_and_respects_the_iteration_cap():
    import torch

    X, y = blobs_around(np.eye(3)[:, :2] * 8, 60, 1.0)
    regions = np.repeat(np.arange(9), 20)
    train = np.nonzero(np.isin(regions, [0, 3, 6]))[0]
    inputs = torch.as_tensor(X)
    labels, included, n_it = me.expand(inputs, regions, train, y[train], 3, seed=0, train_kw={"steps": 100})
    assert n_it <= 3 and (included >= 0).all()
    assert adjusted_rand_score(y, labels) == 1.0
    _, inc1, n1 = me.expand(inputs, regions, train, y[train], 3, seed=0, max_expand_iterations=1,
                            train_kw={"steps": 100})
    assert n1 == 1 and inc1.max() <= 1


def test_mixed_region_ends_unclean():
    import torch

    # Blobs A, B, C (3 regions each) and one region mixing 10 points of A with 10 of B.
    X, y = blobs_around(np.array([[0, 0], [10, 0], [0, 10]], float), 70, 1.0, seed=11)
    regions = np.concatenate([np.repeat(np.arange(3 * g, 3 * g + 3), 20) for g in range(3)]
                             + [np.full(10, 9)] * 3)
    order = np.r_[[np.r_[np.arange(70 * g, 70 * g + 60)] for g in range(3)], ]
    rest = np.setdiff1d(np.arange(210), order.ravel())  # last 10 of each blob
    perm = np.r_[order.ravel(), rest]
    X, y = X[perm], y[perm]
    regions[-10:] = 10  # blob C's last 10: a homogeneous region of their own
    mixed = regions == 9  # 10 points of A and 10 of B
    train = np.nonzero(np.isin(regions, [0, 3, 6]))[0]
    labels, included, _ = me.expand(torch.as_tensor(X), regions, train, y[train], 3, seed=0,
                                    train_kw={"steps": 150})
    clean = included[regions] >= 0
    assert not clean[mixed].any()
    assert clean[~mixed].all()
    s = me.clean_scores(y, labels, clean)
    assert s["acc_clean"] == 1.0
