"""Train TEMI / SCANv2 heads on a run's embeddings (embtree.heads) and score them; one seed per job
(the {seed} wildcard, one of heads.seeds, arrives as params.heads["seed"]).

labels.npz: ``labels`` [N] (selected head), ``all_labels`` [H, N], ``soft`` [N, C] float32,
``selected`` (scalar), ``targets`` [N] (the labels scored against: classes or coarse labels);
with a held-out evaluation set also ``eval_labels``, ``eval_all_labels``, ``eval_soft`` and
``eval_targets`` (the heads trained on the fit set, applied to the evaluation set).
metrics.tsv / heads.tsv: one row (per head) per split, ``fit`` and ``eval``; with
heads.hierarchy_variants the metrics rows of the classes also hold the fine-grained benchmarks'
ACC and sizes (embtree.heads.hzr.variant_scores); loss.tsv: columns in docs/design.md. Training time goes to the log.
"""

from embtree.runtime import reuse_freed_memory, setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))
reuse_freed_memory()  # per-iteration tensors of tens of MB: reuse, don't page-fault (1.5x)

import numpy as np
import pandas as pd
import torch

from embtree.report.figures.heads import plot_msp_histogram, plot_reliability
from embtree.data.store import load_embeddings, load_eval_embeddings
from embtree import heads, io
from embtree.heads import granularity_targets, loss_table, metrics_row, per_head_rows
from embtree.heads.hzr import variant_scores

wc = snakemake.wildcards
p = heads.check_params(wc.head, snakemake.params.heads)
depth = snakemake.params.depth
torch.set_num_threads(snakemake.threads)
emb = load_embeddings(snakemake.input.embeddings)
targets, n_clusters, granularity, multi = granularity_targets(
    emb, depth, snakemake.input.reference, snakemake.input.multi_labels, p["n_clusters"],
    ancestor_labels=snakemake.params.ancestor_labels, synsets=snakemake.input.synsets,
)
neighbors = np.load(snakemake.input.knn)
p["knn"] = heads.knn_for(len(emb.labels), p["knn"])
if neighbors.shape[1] < p["knn"]:
    raise ValueError(f"{snakemake.input.knn} has {neighbors.shape[1]} neighbours < heads.knn={p['knn']}; delete it")
log.info("%s/%s %s %s: %d samples, %d clusters, params %s", wc.dataset, wc.encoder, wc.head, granularity,
         len(targets), n_clusters, p)


def progress(epoch, losses, teacher):
    log.info("epoch %d: mean loss %.5f, best head %d (%.5f)", epoch, losses.mean(), losses.argmin(), losses.min())


res = heads.train_heads(emb.features, wc.head, neighbors=neighbors, device=snakemake.params.device,
                        progress=progress, **{**p, "n_clusters": n_clusters})
log.info("training: %.1f s, %d iterations (%.3f s/iteration), batch %d", res["seconds"], res["iterations"],
         res["seconds"] / max(res["iterations"], 1), res["batch_size"])
key = {"dataset": wc.dataset, "encoder": wc.encoder, "method": wc.head, "granularity": granularity,
       "seed": p["seed"]}
extra = {"num_heads": p["num_heads"], "epochs": p["epochs"], "knn": p["knn"]}
pred = heads.predict(res["model"], emb.features, selected=res["selected"], teacher_temp=p["teacher_temp"], params=p)
rows = [metrics_row({**key, "split": "fit"}, targets, pred["soft"], n_clusters, selected=res["selected"],
                    multi=multi, extra=extra)]
per_head = [per_head_rows({**key, "split": "fit"}, targets, pred["all_labels"], res["epoch_loss"][-1],
                          res["selected"])]
arrays = dict(labels=pred["labels"], all_labels=pred["all_labels"], soft=pred["soft"],
              selected=np.int64(res["selected"]), targets=targets.astype(np.int64))
if snakemake.input.eval_embeddings:
    # Paper 002: the heads train on the training split and are scored on the validation split,
    # with the head selected on the training loss (no look at the evaluation labels).
    held = load_eval_embeddings(snakemake.input.eval_embeddings[0], emb)
    held_targets, _, _, _ = granularity_targets(
        held, depth, snakemake.input.reference, [], p["n_clusters"],
        ancestor_labels=snakemake.params.ancestor_labels, synsets=snakemake.input.synsets,
    )
    held_pred = heads.predict(res["model"], held.features, selected=res["selected"],
                              teacher_temp=p["teacher_temp"], params=p)
    rows.append(metrics_row({**key, "split": "eval"}, held_targets, held_pred["soft"], n_clusters,
                            selected=res["selected"], extra=extra))
    per_head.append(per_head_rows({**key, "split": "eval"}, held_targets, held_pred["all_labels"],
                                  res["epoch_loss"][-1], res["selected"]))
    arrays.update(eval_labels=held_pred["labels"], eval_all_labels=held_pred["all_labels"],
                  eval_soft=held_pred["soft"], eval_targets=held_targets.astype(np.int64))
if snakemake.input.hzr:  # paper 002 table 2: the same clustering scored on the fine-grained benchmarks
    with np.load(snakemake.input.hzr[0]) as z:
        variants = {k: z[k] for k in z.files}
    rows[0].update(variant_scores(emb.labels, pred["labels"], variants, n_clusters))
    if len(rows) > 1:
        rows[1].update(variant_scores(held.labels, held_pred["labels"], variants, n_clusters, prefix="eval_"))
for row in rows:
    log.info("scores (%s): %s", row["split"], row)

conf, correct = heads.calibration_inputs(targets, pred["soft"])
title = f"{wc.dataset} / {wc.encoder}: {wc.head} ({granularity}, seed {p['seed']})"
for out, fig in ((snakemake.output.reliability, plot_reliability(conf, correct, title=title)),
                 (snakemake.output.msp, plot_msp_histogram(conf, title=title))):
    with io.atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, metadata={"Software": None})
io.save_npz(snakemake.output.labels, **arrays)
io.write_table(snakemake.output.metrics, pd.DataFrame(rows))
io.write_table(snakemake.output.heads, pd.concat(per_head, ignore_index=True))
io.write_table(snakemake.output.loss, loss_table(key, res["epoch_loss"], res["epoch_lr"]))
