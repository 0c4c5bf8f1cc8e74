"""Tests of embtree.merge_expand.stacked: B classifiers trained as one stacked model."""

import numpy as np
import pytest

from conftest import blobs_around
from embtree import merge_expand as me


def test_stacked_training_equals_separate_models_and_flags_non_convergence():
    import torch

    X = torch.as_tensor(blobs_around(np.eye(3) * 6, 30, 1.0)[0])
    y = np.repeat(np.arange(3), 30)
    Y = torch.as_tensor(np.stack([y, np.where(y == 2, 0, y)]))
    mask = torch.tensor([[True, True, True], [True, True, False]])
    model = me.train_stacked(X, Y, mask, steps=100)
    pred = me.predict_stacked(model, X, mask)[1]
    assert (pred[0] == Y[0]).float().mean() == 1.0
    assert (pred[1] == 2).sum() == 0  # a switched-off class is never predicted
    with pytest.raises(RuntimeError, match="min_train_accuracy"):
        rnd = torch.as_tensor(np.random.default_rng(0).integers(0, 3, (1, 90)))
        me.train_stacked(X, rnd, mask[:1], steps=1, min_train_accuracy=1.0)
