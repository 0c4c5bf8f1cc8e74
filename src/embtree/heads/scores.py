"""Scores of a clustering run (paper 002 table 1, sections 4.4 and 6) and its per-run tables.

:func:`evaluate` (ACC, NMI, ARI, AMI, top-5, MSP, ECE, top-1/top-5 -> L),
:func:`ranked_clusters`, :func:`calibration_inputs`; the rows of ``metrics.tsv``
(:func:`metrics_row`), ``heads.tsv`` (:func:`per_head_rows`) and ``loss.tsv``
(:func:`loss_table`), columns in docs/design.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from embtree import metrics

__all__ = ["evaluate", "ranked_clusters", "calibration_inputs", "metrics_row", "per_head_rows", "loss_table"]


def evaluate(labels, ranked, soft=None, *, multi_labels=None, n_bins=15) -> dict:
    """Scores of one clustering (paper 002 table 1, sections 4.4 and 6).

    Parameters
    ----------
    labels : int array of shape (n_samples,), the classes
    ranked : int array of shape (n_samples, r), clusters by decreasing score (r >= 1;
        top-5 metrics need r >= 5, else they are NaN)
    soft : float array of shape (n_samples, n_clusters), optional soft assignments:
        mean max-softmax probability (MSP) and ECE of the Hungarian-mapped top-1
    multi_labels : bool array of shape (n_samples, n_classes), optional: top-1 -> L and
        top-5 -> L (map estimated from the ground truth label, as for ImageNet21K)

    Returns
    -------
    dict: acc, nmi, ari, ami, top5_acc, msp_mean, ece, n_nonempty (+ top1_l, top5_l)
    """
    labels = np.asarray(labels)
    ranked = np.asarray(ranked)
    top1 = ranked[:, 0]
    s = metrics.flat_scores(labels, top1)
    out = {"acc": s["acc"], "nmi": s["nmi"], "ari": s["ari"], "ami": s["ami"],
           "top5_acc": metrics.top_k_to_one(labels, ranked, 5) if ranked.shape[1] >= 5 else float("nan"),
           "msp_mean": float("nan"), "ece": float("nan"), "n_nonempty": int(len(np.unique(top1)))}
    if soft is not None:
        mapping = metrics.hungarian_map(labels, top1, n_clusters=soft.shape[1])
        correct = mapping[top1] == labels
        conf = soft.max(axis=1).astype(np.float64)
        out["msp_mean"] = float(conf.mean())
        out["ece"] = metrics.expected_calibration_error(np.clip(conf, 0, 1), correct, n_bins)
    if multi_labels is not None:
        out["top1_l"] = metrics.top_k_to_many(multi_labels, ranked, 1, map_labels=labels)
        out["top5_l"] = (metrics.top_k_to_many(multi_labels, ranked, 5, map_labels=labels)
                         if ranked.shape[1] >= 5 else float("nan"))
    return out


def ranked_clusters(soft, k=5):
    """Top-``k`` clusters of every sample by decreasing soft assignment: (n, min(k, C)) int64."""
    soft = np.asarray(soft)
    k = min(k, soft.shape[1])
    top = np.argpartition(-soft, k - 1, axis=1)[:, :k] if k < soft.shape[1] else np.tile(np.arange(k), (len(soft), 1))
    order = np.argsort(-np.take_along_axis(soft, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1).astype(np.int64)


def calibration_inputs(labels, soft):
    """(MSP, correct) of the Hungarian-mapped top-1 predictions, for the calibration plots."""
    top1 = np.asarray(soft).argmax(axis=1)
    mapping = metrics.hungarian_map(labels, top1, n_clusters=soft.shape[1])
    return np.clip(soft.max(axis=1).astype(np.float64), 0, 1), mapping[top1] == np.asarray(labels)


def metrics_row(key, targets, soft, n_clusters, *, ranked=None, selected=None, multi=None, extra=None) -> dict:
    """One metrics.tsv row (docs/design.md): key columns, then :func:`evaluate`'s scores.

    ``degenerate`` is True when fewer than 2 clusters are used (ACC/NMI then mean little).
    """
    if ranked is None:
        ranked = ranked_clusters(soft, 5)
    scores = evaluate(targets, ranked, soft, multi_labels=multi)
    row = {**key, "n_samples": int(len(targets)), "n_targets": int(len(np.unique(targets))),
           "n_clusters": int(n_clusters), **(extra or {}),
           "selected_head": -1 if selected is None else int(selected), **scores}
    row["degenerate"] = bool(row["n_nonempty"] < 2)
    return row


def per_head_rows(key, targets, all_labels, final_loss, selected):
    """heads.tsv: one row per head (last-epoch loss, ACC, NMI, ARI, non-empty clusters, selected)."""
    rows = []
    for h, lab in enumerate(all_labels):  # H heads, each scored once
        s = metrics.flat_scores(targets, lab)
        rows.append({**key, "head": h, "loss": float(final_loss[h]), "acc": s["acc"], "nmi": s["nmi"],
                     "ari": s["ari"], "n_nonempty": int(len(np.unique(lab))), "selected": h == selected})
    return pd.DataFrame(rows)


def loss_table(key, epoch_loss, epoch_lr):
    """loss.tsv: per epoch the learning rate, mean / min loss over heads and every head's loss."""
    df = pd.DataFrame({**key, "epoch": np.arange(1, len(epoch_loss) + 1), "lr": epoch_lr,
                       "loss_mean": epoch_loss.mean(1), "loss_min": epoch_loss.min(1)})
    heads_df = pd.DataFrame(epoch_loss, columns=[f"loss_h{h}" for h in range(epoch_loss.shape[1])])
    return pd.concat([df, heads_df], axis=1)
