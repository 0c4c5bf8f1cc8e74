"""Cluster a run's reduced features once per seed (embtree.flat.cluster) and score each seed.

labels.npz: ``labels`` int64 [S, N] (-1 = noise), ``seeds`` int64 [S].
metrics.tsv: one row per seed (columns in docs/design.md). Timings go to the log only
(results stay byte-identical across reruns; the rule's benchmark file has the job's total).
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from embtree import flat
from embtree.data.store import load_embeddings
from embtree.io import save_npz, write_table

wc = snakemake.wildcards
params = dict(snakemake.params.clusterer_params)
emb = load_embeddings(snakemake.input.embeddings)
with np.load(snakemake.input.features) as data:
    reduced, reduced_seeds = data["features"], data["seeds"].tolist()
# k for the clusterers that need it: classes with samples (paper § 3.2: k known a priori).
n_classes = len(np.unique(emb.labels))

rows, labels = [], []
with threadpool_limits(snakemake.threads):
    for seed in snakemake.params.seeds:
        # Seed-independent reducers store one row (seeds == [-1]) shared by every seed.
        X = reduced[0 if reduced_seeds == [-1] else reduced_seeds.index(seed)]
        start = time.perf_counter()
        # the method of the clusterer (the wildcard may name a variant, flat.clusterer_variants)
        pred = flat.cluster(X, snakemake.params.method, n_clusters=n_classes, seed=seed, **params)
        seconds = time.perf_counter() - start
        scores = flat.evaluate(
            X, emb.labels, pred, silhouette_sample_size=snakemake.params.silhouette_sample_size, seed=seed
        )
        log.info("%s/%s seed %d: %s (%.1f s)", wc.reducer, wc.clusterer, seed, scores, seconds)
        labels.append(pred)
        rows.append(
            {"dataset": wc.dataset, "encoder": wc.encoder, "reducer": wc.reducer, "clusterer": wc.clusterer,
             "seed": seed, **scores}
        )

save_npz(
    snakemake.output.labels,
    labels=np.stack(labels).astype(np.int64),
    seeds=np.asarray(snakemake.params.seeds, dtype=np.int64),
)
write_table(snakemake.output.metrics, pd.DataFrame(rows))
