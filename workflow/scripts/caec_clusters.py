"""Grow the CAEC clusters of one (dataset, encoder, metric) and write clusters, growth and tables."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time  # noqa: E402

import numpy as np  # noqa: E402

from embtree import caec, io  # noqa: E402
from embtree.distances import set_threads  # noqa: E402

wc, p, out = snakemake.wildcards, snakemake.params, snakemake.output
set_threads(snakemake.threads)
emb = io.load_embeddings(snakemake.input.npz)
log.info("%s/%s: %d embeddings x %d d, %d classes; metric=%s gamma=%s step=%s",
         wc.dataset, wc.encoder, *emb.features.shape, emb.n_classes, wc.caec_metric, p.gamma, p.step)
start = time.perf_counter()
res = caec.grow_clusters(emb.features, emb.labels, metric=wc.caec_metric, gamma=p.gamma, step=p.step,
                         classes=np.arange(emb.n_classes))
log.info("step used: %g (requested %s); grown in %.1f s", res.step, p.step, time.perf_counter() - start)
log.info("gamma bound reached by %d of %d classes; mean r_f = %.4g, mean coverage = %.3f",
         res.bounded.sum(), res.n_classes, res.r_f.mean(), res.coverage.mean())

keys = {"dataset": wc.dataset, "encoder": wc.encoder, "metric": wc.caec_metric}
tables = caec.caec_tables(res, emb.labels, emb.class_names, keys)
io.save_npz(out.clusters, **caec.cluster_arrays(res, emb.class_names))
io.save_npz(out.growth, **caec.growth_arrays(res, emb.class_names))
for name, df in tables.items():
    io.write_table(out[name], df)
log.info("summary: %s", tables["summary"].iloc[0].to_dict())
