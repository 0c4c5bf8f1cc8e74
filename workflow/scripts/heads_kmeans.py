"""Cosine k-means baseline (paper 002, section 5) of a run, scored like the heads; one seed per job
(params.heads["seed"], from the {seed} wildcard); heads.kmeans_backend: embtree.cosine_kmeans or
faiss's spherical k-means (embtree.faiss_kmeans, the paper's own, appendix A).

labels.npz: ``labels`` [N], ``ranked`` [N, min(5, K)] (nearest centres), ``targets`` [N]; with a
held-out evaluation set also ``eval_ranked`` and ``eval_targets`` (its samples' nearest centres
among those fitted on the fit set). metrics.tsv: one row per split (``fit``, ``eval``), with
heads.hierarchy_variants also the fine-grained benchmarks' ACC (embtree.heads.hzr.variant_scores).
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from embtree.data.store import load_embeddings, load_eval_embeddings
from embtree import cosine_kmeans, heads, io
from embtree.heads import granularity_targets, metrics_row
from embtree.heads.hzr import variant_scores

wc = snakemake.wildcards
p = heads.check_params("temi", snakemake.params.heads)
emb = load_embeddings(snakemake.input.embeddings)
targets, n_clusters, granularity, multi = granularity_targets(
    emb, snakemake.params.depth, snakemake.input.reference, snakemake.input.multi_labels, p["n_clusters"],
    ancestor_labels=snakemake.params.ancestor_labels, synsets=snakemake.input.synsets,
)
t0 = time.perf_counter()
with threadpool_limits(snakemake.threads):
    if p["kmeans_backend"] == "faiss":
        from embtree.faiss_kmeans import faiss_kmeans
        from embtree.faiss_support import import_faiss

        import_faiss().omp_set_num_threads(snakemake.threads)
        # cosine_kmeans' restarts and iterations (its defaults), faiss's float32 Lloyd steps
        labels, centres, _ = faiss_kmeans(emb.features, n_clusters, spherical=True, seed=p["seed"], n_init=10,
                                          max_iter=300)
    else:
        labels, centres = cosine_kmeans.cosine_kmeans(emb.features, n_clusters, seed=p["seed"])
    ranked = cosine_kmeans.nearest_centres(emb.features, centres, k=min(5, n_clusters))
log.info("cosine k-means (%s), K=%d (%s), seed %d: %.1f s", p["kmeans_backend"], n_clusters, granularity, p["seed"],
         time.perf_counter() - t0)
key = {"dataset": wc.dataset, "encoder": wc.encoder, "method": "kmeans", "granularity": granularity,
       "seed": p["seed"]}
extra = {"num_heads": 0, "epochs": 0}
rows = [metrics_row({**key, "split": "fit"}, targets, None, n_clusters, ranked=ranked, multi=multi, extra=extra)]
arrays = dict(labels=labels, ranked=ranked, targets=targets.astype(np.int64))
if snakemake.input.eval_embeddings:
    held = load_eval_embeddings(snakemake.input.eval_embeddings[0], emb)
    held_targets, _, _, _ = granularity_targets(
        held, snakemake.params.depth, snakemake.input.reference, [], p["n_clusters"],
        ancestor_labels=snakemake.params.ancestor_labels, synsets=snakemake.input.synsets,
    )
    with threadpool_limits(snakemake.threads):
        held_ranked = cosine_kmeans.nearest_centres(held.features, centres, k=min(5, n_clusters))
    rows.append(metrics_row({**key, "split": "eval"}, held_targets, None, n_clusters, ranked=held_ranked,
                            extra=extra))
    arrays.update(eval_ranked=held_ranked, eval_targets=held_targets.astype(np.int64))
if snakemake.input.hzr:  # paper 002 table 2: the same clustering scored on the fine-grained benchmarks
    with np.load(snakemake.input.hzr[0]) as z:
        variants = {k: z[k] for k in z.files}
    rows[0].update(variant_scores(emb.labels, labels, variants, n_clusters))
    if len(rows) > 1:
        rows[1].update(variant_scores(held.labels, held_ranked[:, 0], variants, n_clusters, prefix="eval_"))
for row in rows:
    log.info("scores (%s): %s", row["split"], row)
io.save_npz(snakemake.output.labels, **arrays)
io.write_table(snakemake.output.metrics, pd.DataFrame(rows))
