"""Class separability of a run's embedding (embtree.heads.separability_scores, paper 002 fig. 4):
results/{dataset}/{encoder}/heads/separability.tsv, one row (columns in docs/design.md)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from embtree import heads, io  # noqa: E402
from embtree.data.store import load_embeddings  # noqa: E402

wc = snakemake.wildcards
p = snakemake.params.separability
emb = load_embeddings(snakemake.input.embeddings)
k = heads.knn_for(len(emb.labels), snakemake.params.knn)
neighbors = np.load(snakemake.input.knn)[:, :k]
with threadpool_limits(snakemake.threads):
    row = heads.separability_scores(emb.features, emb.labels, neighbors, normalize=p["normalize"],
                                    silhouette_samples=p["silhouette_samples"], seed=p["seed"])
row = {"dataset": wc.dataset, "encoder": wc.encoder, "normalize": bool(p["normalize"]), **row}
log.info("separability: %s", row)
io.write_table(snakemake.output[0], pd.DataFrame([row]))
