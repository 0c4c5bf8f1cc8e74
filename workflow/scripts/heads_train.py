"""Train TEMI / SCANv2 heads on a run's embeddings (embtree.heads) and score them; one seed per job
(the {seed} wildcard, one of heads.seeds, arrives as params.heads["seed"]).

labels.npz: ``labels`` [N] (selected head), ``all_labels`` [H, N], ``soft`` [N, C] float32,
``selected`` (scalar), ``targets`` [N] (the labels scored against: classes or coarse labels).
metrics.tsv / heads.tsv / loss.tsv: columns in docs/design.md. Training time goes to the log.
"""

from embtree.runtime import reuse_freed_memory, setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))
reuse_freed_memory()  # per-iteration tensors of tens of MB: reuse, don't page-fault (1.5x)

import numpy as np
import pandas as pd
import torch

from embtree.report.figures.heads import plot_msp_histogram, plot_reliability
from embtree.data.store import load_embeddings
from embtree import heads, io
from embtree.heads import granularity_targets, loss_table, metrics_row, per_head_rows

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
pred = heads.predict(res["model"], emb.features, selected=res["selected"], teacher_temp=p["teacher_temp"], params=p)
key = {"dataset": wc.dataset, "encoder": wc.encoder, "method": wc.head, "granularity": granularity,
       "seed": p["seed"]}
row = metrics_row(key, targets, pred["soft"], n_clusters, selected=res["selected"], multi=multi,
                  extra={"num_heads": p["num_heads"], "epochs": p["epochs"]})
log.info("scores: %s", row)

conf, correct = heads.calibration_inputs(targets, pred["soft"])
title = f"{wc.dataset} / {wc.encoder}: {wc.head} ({granularity}, seed {p['seed']})"
for out, fig in ((snakemake.output.reliability, plot_reliability(conf, correct, title=title)),
                 (snakemake.output.msp, plot_msp_histogram(conf, title=title))):
    with io.atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, metadata={"Software": None})
io.save_npz(snakemake.output.labels, labels=pred["labels"], all_labels=pred["all_labels"], soft=pred["soft"],
            selected=np.int64(res["selected"]), targets=targets.astype(np.int64))
io.write_table(snakemake.output.metrics, pd.DataFrame([row]))
io.write_table(snakemake.output.heads, per_head_rows(key, targets, pred["all_labels"], res["epoch_loss"][-1],
                                                     res["selected"]))
io.write_table(snakemake.output.loss, loss_table(key, res["epoch_loss"], res["epoch_lr"]))
