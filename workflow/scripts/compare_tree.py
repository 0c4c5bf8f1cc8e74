"""Compare relation trees with the dataset's reference: RF, clade recall / precision, DI, dendrogram purity.

With the data set's null distribution (``reference_null.tsv``, trees.null_trees random trees),
every score of the null gets ``<score>_chance`` and ``<score>_p`` (embtree.hierarchy.null).

Dendrogram purity of a tree whose leaves are classes: every sample is placed at
the leaf whose tree point (G^f, P or plain centroid) is nearest under the tree
metric, and DP is computed over the tree with the true labels. One job compares
every (tree metric, point) tree of its run, in the order of the rule's outputs.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import itertools
import time

import numpy as np
import pandas as pd

from embtree.data.store import load_embeddings
from embtree.centroids import class_centroids
from embtree.hierarchy.compare import compare_trees
from embtree.hierarchy.null import NULL_SCORES, chance_and_p
from embtree.hierarchy.newick import newick_to_linkage
from embtree.relation_trees import nearest_leaf, tree_label_metrics
from embtree import io

wc = snakemake.wildcards
cluster_metric = wc.get("cluster_metric", "before")
reference = open(snakemake.input.reference).read().strip()
emb = load_embeddings(snakemake.input.embeddings)
null = None
if snakemake.input.get("null"):
    table = pd.read_csv(snakemake.input.null[0], sep="\t")  # a list: null_input gives [] or [path]
    null = {score: table[score].to_numpy() for score in NULL_SCORES}
names = np.asarray(emb.class_names).astype(str)
if "clusters" in snakemake.input.keys():
    with np.load(snakemake.input.clusters, allow_pickle=False) as data:
        if list(data["class_names"].astype(str)) != list(names):
            raise ValueError(f"{snakemake.input.clusters}: class_names differ from the embeddings file")
        point_sets = {"G": data["final_centroids"], "P": data["mmp"]}
else:  # before/: plain class centroids G
    point_sets = {"G": class_centroids(emb.features, emb.labels, emb.n_classes)}

pairs = list(itertools.product(snakemake.params.tree_metrics, snakemake.params.points))
for (metric, point), tree_file, out in zip(pairs, snakemake.input.trees, snakemake.output, strict=True):
    tree = open(tree_file).read().strip()
    row = {"dataset": wc.dataset, "encoder": wc.encoder, "cluster_metric": cluster_metric,
           "tree_metric": metric, "point": point}
    t0 = time.perf_counter()
    row.update(compare_trees(tree, reference))
    if null is not None:
        row.update(chance_and_p(row, null))
    log.info("tree comparison of %s in %.2f s", tree_file, time.perf_counter() - t0)
    Z, _ = newick_to_linkage(tree, names=list(names))
    leaf = nearest_leaf(emb.features, point_sets[point], metric)
    row["dp"] = tree_label_metrics(Z, leaf, emb.labels)["dp"]
    log.info("%s", row)
    io.write_table(out, pd.DataFrame([row]))
