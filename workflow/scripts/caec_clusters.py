"""Grow the CAEC clusters of one (dataset, encoder, metric) and write clusters, growth and tables."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402

from embtree.data.store import load_embeddings  # noqa: E402
from embtree import caec, io  # noqa: E402
from embtree.distances import set_threads  # noqa: E402

wc, p, out = snakemake.wildcards, snakemake.params, snakemake.output
set_threads(snakemake.threads)
emb = load_embeddings(snakemake.input.npz)
log.info("%s/%s: %d embeddings x %d d, %d classes; metric=%s gamma=%s step=%s",
         wc.dataset, wc.encoder, *emb.features.shape, emb.n_classes, wc.caec_metric, p.gamma, p.step)
res = caec.grow_clusters(emb.features, emb.labels, metric=wc.caec_metric, gamma=p.gamma, step=p.step,
                         classes=np.arange(emb.n_classes))
log.info("step used: %g (requested %s)", res.step, p.step)
log.info("gamma bound reached by %d of %d classes; mean r_f = %.4g, mean coverage = %.3f",
         res.bounded.sum(), res.n_classes, res.r_f.mean(), res.coverage.mean())

keys = {"dataset": wc.dataset, "encoder": wc.encoder, "metric": wc.caec_metric}
tables = caec.caec_tables(res, emb.labels, emb.class_names, keys, min_cluster_size=p.min_cluster_size)
pc, summary = tables["per_class"], tables["summary"].iloc[0]
small = pc[pc["small_cluster"]]
if len(small):
    log.warning("%d of %d clusters have fewer than %d members (caec.min_cluster_size): %s",
                len(small), len(pc), p.min_cluster_size,
                ", ".join(f"{n} ({m})" for n, m in zip(small["class_name"], small["n_members"])))
if summary["degenerate"]:
    log.warning("DEGENERATE RUN: %d of %d clusters are smaller than %d members and %.0f %% of the "
                "embeddings lie in no cluster; purity/RI/NMI describe only a handful of embeddings "
                "(is caec.step=%s far from the distances? step used %g)",
                summary["n_small_clusters"], len(pc), p.min_cluster_size,
                100 * summary["unassigned_fraction"], p.step, res.step)
io.save_npz(out.clusters, **caec.cluster_arrays(res, emb.class_names, min_cluster_size=p.min_cluster_size))
io.save_npz(out.growth, **caec.growth_arrays(res, emb.class_names))
for name, df in tables.items():
    io.write_table(out[name], df)
log.info("summary: %s", tables["summary"].iloc[0].to_dict())
