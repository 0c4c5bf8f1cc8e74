"""Merge & Expand phase 4 (paper 003, II.B.5): expansion by homogeneous regions.

:func:`expand`
    Train on the merged seeds, add every region whose predictions are homogeneous enough,
    retrain, until no region is added; regions never added are unclean.
"""

from __future__ import annotations

import logging

import numpy as np

from embtree.merge_expand.stacked import predict_stacked, train_stacked

__all__ = ["expand"]

log = logging.getLogger(__name__)


def expand(inputs, regions, train_idx, train_labels, n_classes, *, arch=("mlp", 32), seed=0, homogeneity_threshold=0.9,
           max_expand_iterations=20, train_kw=None, return_model=False):
    """Phase 4 (II.B.5): grow the training data by homogeneous regions until none is added.

    Parameters
    ----------
    inputs : torch.Tensor of shape (n_samples, ...), classifier inputs
    regions : ndarray of shape (n_samples,), region ids
    train_idx : ndarray, indices of the merged seed regions' members
    train_labels : ndarray, their pseudo labels 0..n_classes-1
    arch : see :func:`train_stacked`

    Returns
    -------
    labels : ndarray of shape (n_samples,), final predictions
    included : ndarray of shape (n_R,), int64: -1 never added, 0 in the initial training
        data, t >= 1 added in iteration t
    n_iterations : int
    model : the final classifier (:func:`predict_stacked` applies it to new inputs), with
        ``return_model=True`` only
    """
    import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    train_kw = dict(train_kw or {})
    n_r = int(regions.max()) + 1
    included = np.full(n_r, -1, dtype=np.int64)
    included[np.unique(regions[train_idx])] = 0
    target = np.full(len(regions), -1, dtype=np.int64)
    target[train_idx] = train_labels
    mask = torch.ones(1, n_classes, dtype=torch.bool)
    it = 0
    while True:
        it += 1
        model = train_stacked(inputs, torch.as_tensor(target)[None], mask, arch=arch, seed=seed + it, **train_kw)
        pred = predict_stacked(model, inputs, mask)[1][0].numpy().astype(np.int64)
        counts = np.zeros((n_r, n_classes), dtype=np.int64)
        np.add.at(counts, (regions, pred), 1)
        dominant = counts.argmax(axis=1)
        homog = counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1)
        add = (included < 0) & (homog >= homogeneity_threshold)
        log.info("expansion iteration %d: %d region(s) added", it, int(add.sum()))
        if not add.any():
            break
        included[add] = it
        new = add[regions] & (pred == dominant[regions])
        target[new] = pred[new]
        if it >= max_expand_iterations:
            log.warning("expansion stopped at merge_expand.max_expand_iterations=%d", max_expand_iterations)
            model = train_stacked(inputs, torch.as_tensor(target)[None], mask, arch=arch, seed=seed + it + 1,
                                  **train_kw)
            pred = predict_stacked(model, inputs, mask)[1][0].numpy().astype(np.int64)
            break
    return (pred, included, it, model) if return_model else (pred, included, it)
