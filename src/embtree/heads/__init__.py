"""Deep clustering heads on frozen embeddings: TEMI (eq. 1) and SCANv2 (eq. 2) of paper 002.

What the paper says, what it leaves open and what embtree chose: docs/methods/heads.md.

``params``   :data:`HEADS`, :data:`PARAMS` (defaults = the official code's CIFAR-10 command),
             :data:`KNN_BACKENDS`, :data:`KMEANS_BACKENDS`, :func:`check_params`, :func:`knn_for`,
             :func:`parse_n_clusters`, :func:`resolve_n_clusters` (clusters as a multiple of the classes:
             over-clustering)
``knn``      :func:`mine_knn` (cosine kNN: exact bounded-memory tiles, or faiss's flat / IVF index),
             :func:`ivf_params`, :func:`exact_knn_of`, :func:`recall_at_k`, :func:`knn_recall`,
             :data:`KNN_TILE_ROWS`
``model``    :class:`BatchedHeads` (all ``H`` heads as stacked weights)
``losses``   :func:`temi_loss`, :func:`update_prior`, :func:`scan_loss`
``train``    :func:`train_heads`, :func:`predict`, :func:`cosine_schedule`, :func:`ema_update`
``scores``   :func:`evaluate`, :func:`ranked_clusters`, :func:`calibration_inputs`, and the per-run
             rows :func:`metrics_row`, :func:`per_head_rows`, :func:`loss_table`
``targets``  :func:`granularity_targets` (classes or coarse labels at a depth of the reference tree)
``hzr``      table 2's fine-grained benchmarks: :func:`~embtree.heads.hzr.hierarchy_variants` (leaf
             subset, leaf HZR, p-HZR), :func:`~embtree.heads.hzr.hzr_relabel`,
             :func:`~embtree.heads.hzr.variant_scores` (not re-exported: import them from the module)
``separability`` :func:`separability_scores` (L_align over true positive neighbours, Davies-Bouldin,
             silhouette), :func:`alignment_loss`, :func:`coefficient_of_determination` (fig. 4)

The calibration plots are :func:`embtree.report.figures.heads.plot_reliability` and
:func:`~embtree.report.figures.heads.plot_msp_histogram`.
"""

from embtree.heads.knn import KNN_TILE_ROWS, exact_knn_of, ivf_params, knn_recall, mine_knn, recall_at_k
from embtree.heads.losses import scan_loss, temi_loss, update_prior
from embtree.heads.model import BatchedHeads
from embtree.heads.params import (
    HEADS,
    KMEANS_BACKENDS,
    KNN_BACKENDS,
    PARAMS,
    check_params,
    knn_for,
    parse_n_clusters,
    resolve_n_clusters,
)
from embtree.heads.scores import calibration_inputs, evaluate, loss_table, metrics_row, per_head_rows, ranked_clusters
from embtree.heads.separability import alignment_loss, coefficient_of_determination, separability_scores
from embtree.heads.train import cosine_schedule, ema_update, predict, train_heads



def __getattr__(name):
    # targets reads reference trees (dendropy): imported on first use, so that training and kNN
    # mining need only torch / numpy / scipy (benchmarks/gpu_check.py runs where dendropy is absent).
    if name == "granularity_targets":
        from embtree.heads.targets import granularity_targets

        return granularity_targets
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HEADS",
    "PARAMS",
    "check_params",
    "knn_for",
    "parse_n_clusters",
    "resolve_n_clusters",
    "KNN_BACKENDS",
    "KMEANS_BACKENDS",
    "KNN_TILE_ROWS",
    "mine_knn",
    "ivf_params",
    "exact_knn_of",
    "recall_at_k",
    "knn_recall",
    "BatchedHeads",
    "temi_loss",
    "scan_loss",
    "update_prior",
    "ema_update",
    "cosine_schedule",
    "train_heads",
    "predict",
    "evaluate",
    "ranked_clusters",
    "calibration_inputs",
    "metrics_row",
    "per_head_rows",
    "loss_table",
    "granularity_targets",
    "alignment_loss",
    "separability_scores",
    "coefficient_of_determination",
]
