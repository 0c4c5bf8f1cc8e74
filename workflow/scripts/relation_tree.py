"""UPGMA relation trees (Newick + dendrogram) over G^f / P of a CAEC run, or over plain centroids G.

One job writes every (tree metric, point) tree of its run, in the order of the rule's
outputs (tree metric outer, point inner).
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from embtree.data.store import load_embeddings
from embtree.centroids import class_centroids
from embtree.hierarchy.newick import linkage_to_newick
from embtree.relation_trees import upgma_linkage
from embtree import io
from embtree.report.figures.l2h import plot_dendrogram

wc = snakemake.wildcards
if "clusters" in snakemake.input.keys():
    with np.load(snakemake.input.clusters, allow_pickle=False) as data:
        point_sets = {"G": data["final_centroids"], "P": data["mmp"]}
        names = data["class_names"].astype(str)
        small = data["small_cluster"] if "small_cluster" in data.files else np.zeros(len(names), bool)
    what = {p: f"CAEC {wc.cluster_metric} {p}" for p in point_sets}
    if small.any():
        log.warning("clusters of %s have fewer members than caec.min_cluster_size: their points stand for "
                    "the class on a handful of embeddings (marked † in the dendrograms)", names[small].tolist())
else:
    emb = load_embeddings(snakemake.input.embeddings)
    point_sets = {"G": class_centroids(emb.features, emb.labels, emb.n_classes)}
    names = np.asarray(emb.class_names).astype(str)
    small = np.zeros(len(names), bool)
    what = {"G": "plain class centroids G (before clustering)"}

# The Newick keeps the plain names (compared with reference trees); the figure marks small clusters.
shown = np.array([f"{n} †" if f else n for n, f in zip(names, small)])
pairs = list(itertools.product(snakemake.params.tree_metrics, snakemake.params.points))
for (metric, point), nwk, png in zip(pairs, snakemake.output.nwk, snakemake.output.png, strict=True):
    points = point_sets[point]
    log.info("UPGMA (%s) over %d %s points of %s/%s", metric, len(points), what[point], wc.dataset, wc.encoder)
    Z = upgma_linkage(points, metric)
    io.write_text(nwk, linkage_to_newick(Z, names) + "\n")
    fig = plot_dendrogram(Z, shown, title=f"{wc.dataset} / {wc.encoder}: {what[point]}, UPGMA {metric}",
                          ylabel=f"{metric} distance")
    io.savefig(fig, png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    log.info("wrote %s", nwk)
