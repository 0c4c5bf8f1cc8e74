"""Seeded subsets of a labelled data set, original sample order kept.

Public names
------------
:func:`stratified_subsample` (at most ``max_per_class`` per class), :func:`imbalance_subsample`
(paper 002's imbalanced variants), :data:`IMBALANCES`, :func:`frequency_classes` (paper 002's
class-frequency subsets, :data:`CLASS_FREQUENCY_SUBSETS`), :func:`holdout_split` (a stratified
fit / evaluation split of one set).
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_subsample", "imbalance_subsample", "frequency_classes", "holdout_split", "IMBALANCES",
           "CLASS_FREQUENCY_SUBSETS"]


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


#: Paper 002's subsets by class frequency (section 4.1, appendix C.4, table 5): they keep whole
#: classes, chosen by their number of samples, where ``odd-half`` keeps every class.
CLASS_FREQUENCY_SUBSETS = ("percentile", "imbalanced", "centered")


def frequency_classes(labels, kind, percentiles=(45.0, 55.0), top=10.0):
    """The classes of a class-frequency subset (paper 002, section 4.1 and table 5).

    * ``percentile``: the classes whose number of samples lies between the ``percentiles``
      [50 - s, 50 + s] of the class-frequency distribution (the paper's m_s; s = 5 gives
      ImageNet21K "Tiny", s = 45 "Huge"). The percentiles are numpy's (linear interpolation).
    * ``imbalanced``: those classes plus the ``top`` % most frequent classes (the paper's
      Imbalanced-2K: m_10 plus the 10 % most frequent).
    * ``centered``: as many classes as ``imbalanced`` keeps, the ones nearest the median
      frequency (Centered-2K: the same number of classes, centred around the median).

    Parameters
    ----------
    labels : int ndarray of shape (n_samples,)
    kind : one of :data:`CLASS_FREQUENCY_SUBSETS`
    percentiles : (lo, hi) with 0 <= lo < hi <= 100
    top : float in (0, 100), the share (%) of most frequent classes ``imbalanced`` adds

    Returns
    -------
    int64 ndarray, sorted: the label values kept (classes with samples only).
    """
    labels = np.asarray(labels)
    if kind not in CLASS_FREQUENCY_SUBSETS:
        raise ValueError(f"kind={kind!r} must be one of {list(CLASS_FREQUENCY_SUBSETS)}")
    lo, hi = (float(p) for p in percentiles)
    if not 0.0 <= lo < hi <= 100.0:
        raise ValueError(f"percentiles={list(percentiles)} must satisfy 0 <= lo < hi <= 100")
    if not 0.0 < float(top) < 100.0:
        raise ValueError(f"top={top} must be in (0, 100)")
    classes, counts = np.unique(labels, return_counts=True)
    low, high = np.percentile(counts, [lo, hi])
    band = (counts >= low) & (counts <= high)
    if kind == "percentile":
        return classes[band].astype(np.int64)
    # Most frequent first; ties broken by label value, so the choice is deterministic.
    by_freq = np.lexsort((classes, -counts))
    n_top = max(1, int(round(len(classes) * float(top) / 100.0)))
    keep = band.copy()
    keep[by_freq[:n_top]] = True
    if kind == "imbalanced":
        return classes[keep].astype(np.int64)
    # centered: the classes nearest the median frequency by rank, as many as `imbalanced` keeps
    rank = np.empty(len(classes), dtype=np.int64)
    rank[np.lexsort((classes, counts))] = np.arange(len(classes))
    order = np.lexsort((rank, np.abs(rank - (len(classes) - 1) / 2.0)))
    return np.sort(classes[order[: int(keep.sum())]]).astype(np.int64)
