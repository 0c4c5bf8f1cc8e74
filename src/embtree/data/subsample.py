"""Seeded subsets of a labelled data set, original sample order kept.

Public names
------------
:func:`stratified_subsample` (at most ``max_per_class`` per class), :func:`imbalance_subsample`
(paper 002's imbalanced variants), :data:`IMBALANCES`, :func:`holdout_split` (a stratified
fit / evaluation split of one set).
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_subsample", "imbalance_subsample", "holdout_split", "IMBALANCES"]


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


def holdout_split(labels, fraction, seed=0):
    """A seeded, stratified split of one set into a fit part and a held-out evaluation part.

    Each class sends ``round(fraction * n_c)`` of its ``n_c`` samples to the evaluation part,
    but always keeps at least one in the fit part (a class with one sample is fit-only).

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
    fraction : float in (0, 1)
        The share of every class held out.
    seed : int

    Returns
    -------
    fit_idx, eval_idx : int64 ndarrays, sorted, disjoint, together ``0 .. n_samples-1``.
    """
    labels = np.asarray(labels)
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction={fraction} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = min(int(round(fraction * len(idx))), len(idx) - 1)
        if k > 0:
            held.append(rng.choice(idx, size=k, replace=False))
    in_eval = np.zeros(len(labels), dtype=bool)
    if held:
        in_eval[np.concatenate(held)] = True
    return np.flatnonzero(~in_eval), np.flatnonzero(in_eval)
