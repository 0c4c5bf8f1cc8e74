"""UPGMA relation tree (Newick + dendrogram) over G^f / P of a CAEC run, or over plain centroids G."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import matplotlib

matplotlib.use("Agg")
import numpy as np

from embtree import io, trees
from embtree.l2h import plot_dendrogram

wc = snakemake.wildcards
metric = wc.tree_metric
if "clusters" in snakemake.input.keys():
    with np.load(snakemake.input.clusters, allow_pickle=False) as data:
        key = {"G": "final_centroids", "P": "mmp"}[wc.point]
        points, names = data[key], data["class_names"].astype(str)
        small = data["small_cluster"] if "small_cluster" in data.files else np.zeros(len(names), bool)
    what = f"CAEC {wc.cluster_metric} {wc.point}"
    if small.any():
        log.warning("clusters of %s have fewer members than caec.min_cluster_size: their %s point stands for "
                    "the class on a handful of embeddings (marked † in the dendrogram)", names[small].tolist(), wc.point)
else:
    emb = io.load_embeddings(snakemake.input.embeddings)
    points = trees.class_centroids(emb.features, emb.labels, emb.n_classes)
    names = np.asarray(emb.class_names).astype(str)
    small = np.zeros(len(names), bool)
    what = "plain class centroids G (before clustering)"

log.info("UPGMA (%s) over %d %s points of %s/%s", metric, len(points), what, wc.dataset, wc.encoder)
Z = trees.upgma_linkage(points, metric)
io.write_text(snakemake.output.nwk, trees.linkage_to_newick(Z, names) + "\n")

# The Newick keeps the plain names (compared with reference trees); the figure marks small clusters.
shown = np.array([f"{n} †" if f else n for n, f in zip(names, small)])
fig = plot_dendrogram(Z, shown, title=f"{wc.dataset} / {wc.encoder}: {what}, UPGMA {metric}", ylabel=f"{metric} distance")
io.savefig(fig, snakemake.output.png, dpi=120, bbox_inches="tight")
log.info("wrote %s", snakemake.output.nwk)
