"""Seeded subsets of a labelled data set, original sample order kept.

Public names
------------
:func:`stratified_subsample` (at most ``max_per_class`` per class), :func:`imbalance_subsample`
(paper 002's imbalanced variants), :data:`IMBALANCES`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_subsample", "imbalance_subsample", "IMBALANCES"]


def stratified_subsample(labels, max_per_class, seed=0):
    """Indices keeping at most ``max_per_class`` samples of each class, seeded.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
    max_per_class : int or None
        None keeps everything.
    seed : int

    Returns
    -------
    ndarray of shape (n_kept,), int64, sorted (the original order is preserved).
    """
    labels = np.asarray(labels)
    if max_per_class is None:
        return np.arange(len(labels))
    if int(max_per_class) < 1:
        raise ValueError(f"max_per_class={max_per_class} should be >= 1 or None")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) > max_per_class:
            idx = rng.choice(idx, size=int(max_per_class), replace=False)
        keep.append(idx)
    return np.sort(np.concatenate(keep))


IMBALANCES = ("odd-half",)


def imbalance_subsample(labels, imbalance, seed=0):
    """Indices of an imbalanced subset (paper 002, section 4.1), seeded, original order kept.

    ``odd-half`` keeps half (rounded down) of the samples of every odd class index and all
    samples of the even ones, like ImageNet-1K ODD. ``None`` keeps everything.

    Parameters
    ----------
    labels : int ndarray of shape (n_samples,)
    imbalance : {None, "odd-half"}
    """
    labels = np.asarray(labels)
    if imbalance is None:
        return np.arange(len(labels))
    if imbalance not in IMBALANCES:
        raise ValueError(f"imbalance={imbalance!r} must be one of {list(IMBALANCES)} or null")
    rng = np.random.default_rng(seed)
    drop = []
    for c in np.unique(labels[labels % 2 == 1]):  # one draw per odd class
        idx = np.flatnonzero(labels == c)
        drop.append(rng.choice(idx, size=len(idx) - len(idx) // 2, replace=False))
    keep = np.ones(len(labels), dtype=bool)
    if drop:
        keep[np.concatenate(drop)] = False
    return np.flatnonzero(keep)
