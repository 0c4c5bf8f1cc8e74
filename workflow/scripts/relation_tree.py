"""UPGMA relation trees (Newick + dendrogram) over G^f / P of a CAEC run, or over plain centroids G.

One job writes every (tree metric, point) tree of its run, in the order of the rule's
outputs (tree metric outer, point inner), each with the bootstrap support of its clades
(params.bootstrap replicates, seed params.seed) as internal labels (percent) in the Newick
and on the dendrogram. What is resampled: docs/methods/support.md.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from embtree.distances import set_threads  # noqa: E402

set_threads(snakemake.threads)  # the bootstrap's distance kernels

import itertools
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from embtree.data.store import load_embeddings
from embtree.centroids import class_centroids
from embtree.hierarchy.newick import linkage_to_newick
from embtree.relation_trees import (class_point_replicates, cluster_point_replicates, upgma_linkage,
                                    upgma_support)
from embtree import io
from embtree.report.figures.l2h import plot_dendrogram
from embtree.workers import fork_map

wc = snakemake.wildcards
n_boot, seed = snakemake.params.bootstrap, snakemake.params.seed
emb = load_embeddings(snakemake.input.embeddings)
if "clusters" in snakemake.input.keys():
    with np.load(snakemake.input.clusters, allow_pickle=False) as data:
        point_sets = {"G": data["final_centroids"], "P": data["mmp"]}
        names = data["class_names"].astype(str)
        small = data["small_cluster"] if "small_cluster" in data.files else np.zeros(len(names), bool)
        # Resample the members of each final cluster and recompute G^f / P (the clusters are kept).
        replicates = cluster_point_replicates(emb.features, emb.labels, data["member_indptr"],
                                              data["member_indices"], data["classes"], data["centroids"],
                                              n_boot, seed=seed)
    resampled = f"the members of each final cluster resampled with replacement {n_boot} times"
    what = {p: f"CAEC {wc.cluster_metric} {p}" for p in point_sets}
    if small.any():
        log.warning("clusters of %s have fewer members than caec.min_cluster_size: their points stand for "
                    "the class on a handful of embeddings (marked † in the dendrograms)", names[small].tolist())
else:
    point_sets = {"G": class_centroids(emb.features, emb.labels, emb.n_classes)}
    names = np.asarray(emb.class_names).astype(str)
    small = np.zeros(len(names), bool)
    what = {"G": "plain class centroids G (before clustering)"}
    replicates = ({"G": G} for G in class_point_replicates(emb.features, emb.labels, n_boot,
                                                            n_classes=emb.n_classes, seed=seed))
    resampled = f"the samples of each class resampled with replacement {n_boot} times"

# The Newick keeps the plain names (compared with reference trees); the figure marks small clusters.
shown = np.array([f"{n} †" if f else n for n, f in zip(names, small)])
pairs = list(itertools.product(snakemake.params.tree_metrics, snakemake.params.points))
trees = {}
for metric, point in pairs:
    log.info("UPGMA (%s) over %d %s points of %s/%s", metric, len(point_sets[point]), what[point],
             wc.dataset, wc.encoder)
    trees[metric, point] = upgma_linkage(point_sets[point], metric)
t0 = time.perf_counter()
support = upgma_support(trees, replicates)
log.info("bootstrap support (%s) of %d trees in %.1f s", resampled, len(trees), time.perf_counter() - t0)
for (metric, point), nwk in zip(pairs, snakemake.output.nwk, strict=True):
    io.write_text(nwk, linkage_to_newick(trees[metric, point], names, support=support[metric, point]) + "\n")
    log.info("wrote %s", nwk)


def draw(_, task):
    """One dendrogram (seconds each at 1,000 leaves: drawn in the job's processes side by side)."""
    (metric, point), png = task
    fig = plot_dendrogram(trees[metric, point], shown,
                          title=f"{wc.dataset} / {wc.encoder}: {what[point]}, UPGMA {metric}\n"
                          f"internal labels: bootstrap support in %, {resampled}",
                          ylabel=f"{metric} distance (UPGMA merge height)", support=support[metric, point])
    io.savefig(fig, png, dpi=120, bbox_inches="tight")
    plt.close(fig)


fork_map(draw, list(zip(pairs, snakemake.output.png, strict=True)), snakemake.threads)
log.info("drew %d dendrograms", len(pairs))
