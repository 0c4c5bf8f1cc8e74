"""Linear probe: the supervised ceiling of the clustering heads (paper 002, section 4.1, appendix C.3).

Public: :func:`linear_probe`, :data:`PROBE_COLUMNS`.

Paper 002 reports linear-probing accuracy "as an upper bound of clustering methods": a linear
layer trained by SGD over a grid of learning rates and weight decays, reporting the best
validation accuracy. embtree fits a multinomial logistic regression (scikit-learn, L-BFGS) on
standardised features over a grid of inverse L2 strengths ``C`` and, like the paper, reports the
best grid point. With an evaluation set the grid point is chosen on it (the paper's protocol);
without one, every grid point is scored by stratified k-fold cross-validation on the fit set
(out-of-fold predictions), and the ``protocol`` column says so.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from embtree.validation import check_matrix

__all__ = ["linear_probe", "PROBE_COLUMNS"]

#: Columns of one probe row (``results/{dataset}/{encoder}/probe/metrics.tsv``).
PROBE_COLUMNS = ["split", "protocol", "n_samples", "n_classes", "C", "acc", "top5_acc"]


def _check_labels(labels, n, name):
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must have shape ({n},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)


def _scores(proba, classes, y):
    """ACC and top-5 ACC (top-min(5, C)) of class probabilities ``proba`` (n, C) for labels ``y``."""
    k = min(5, len(classes))
    top = classes[np.argsort(-proba, axis=1, kind="stable")[:, :k]]
    return float(np.mean(top[:, 0] == y)), float(np.mean((top == y[:, None]).any(axis=1)))


def _model(C, max_iter, seed):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))


def linear_probe(features, labels, eval_features=None, eval_labels=None, *, Cs=(0.01, 0.1, 1.0), folds=5,
                 max_iter=1000, seed=0) -> list[dict]:
    """Linear-probe accuracy: multinomial logistic regression on standardised features.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        The fit set.
    labels : ndarray of shape (n_samples,), int
    eval_features : ndarray of shape (n_eval, n_features), optional
        A held-out evaluation set; without it the fit set is scored by ``folds``-fold
        stratified cross-validation.
    eval_labels : ndarray of shape (n_eval,), int, optional
    Cs : sequence of float > 0
        Grid of inverse L2 regularisation strengths; the best grid point is reported.
    folds : int >= 2
    max_iter : int >= 1
    seed : int
        Seeds the fold split and the solver.

    Returns
    -------
    list of dict
        Rows with the keys of :data:`PROBE_COLUMNS`: one row ``split="fit"`` (cross-validated,
        ``protocol="{folds}-fold CV"``) without an evaluation set; with one, ``split="fit"``
        (training accuracy) and ``split="eval"`` (``protocol="held-out"``), both at the grid
        point best on the evaluation set.
    """
    X = check_matrix(features, "features", min_rows=2)
    y = _check_labels(labels, X.shape[0], "labels")
    Cs = [float(c) for c in np.atleast_1d(Cs)]
    if not Cs or any(not np.isfinite(c) or c <= 0 for c in Cs):
        raise ValueError(f"Cs={Cs!r} must be a non-empty list of numbers > 0")
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds={folds!r} must be an int >= 2")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter={max_iter!r} must be an int >= 1")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"labels hold {len(classes)} class; a probe needs at least 2")
    if (eval_features is None) != (eval_labels is None):
        raise ValueError("eval_features and eval_labels go together")

    if eval_features is None:
        counts = np.bincount(np.searchsorted(classes, y))
        if counts.min() < folds:
            raise ValueError(f"the smallest class has {counts.min()} samples, fewer than folds={folds}")
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        best = None
        for C in Cs:
            proba = cross_val_predict(_model(C, max_iter, seed), X, y, cv=cv, method="predict_proba")
            acc, top5 = _scores(proba, classes, y)
            if best is None or acc > best[1]:
                best = (C, acc, top5)
        return [dict(split="fit", protocol=f"{folds}-fold CV", n_samples=len(y), n_classes=len(classes),
                     C=best[0], acc=best[1], top5_acc=best[2])]

    Xe = check_matrix(eval_features, "eval_features", min_rows=1)
    if Xe.shape[1] != X.shape[1]:
        raise ValueError(f"eval_features has {Xe.shape[1]} features, the fit set {X.shape[1]}")
    ye = _check_labels(eval_labels, Xe.shape[0], "eval_labels")
    best = None
    for C in Cs:
        model = _model(C, max_iter, seed).fit(X, y)
        cls = model.classes_
        ev = _scores(model.predict_proba(Xe), cls, ye)
        if best is None or ev[0] > best[1][0]:
            best = (C, ev, _scores(model.predict_proba(X), cls, y))
    C, ev, fit = best
    common = dict(n_classes=len(classes), C=C)
    return [dict(split="fit", protocol="training accuracy", n_samples=len(y), acc=fit[0], top5_acc=fit[1], **common),
            dict(split="eval", protocol="held-out", n_samples=len(ye), acc=ev[0], top5_acc=ev[1], **common)]
