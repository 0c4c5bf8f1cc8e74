"""Compare a relation tree with the dataset's reference: RF, clade recall / precision, DI, dendrogram purity.

Dendrogram purity of a tree whose leaves are classes: every sample is placed at
the leaf whose tree point (G^f, P or plain centroid) is nearest under the tree
metric, and DP is computed over the tree with the true labels.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
import pandas as pd

from embtree import io, trees

wc = snakemake.wildcards
cluster_metric = wc.get("cluster_metric", "before")
point = wc.get("point", "G")  # before/: plain class centroids G (cluster_metric "before")
tree = open(snakemake.input.tree).read().strip()
reference = open(snakemake.input.reference).read().strip()

row = {
    "dataset": wc.dataset,
    "encoder": wc.encoder,
    "cluster_metric": cluster_metric,
    "tree_metric": wc.tree_metric,
    "point": point,
}
t0 = time.perf_counter()
row.update(trees.compare_trees(tree, reference))
log.info("tree comparison in %.2f s", time.perf_counter() - t0)

emb = io.load_embeddings(snakemake.input.embeddings)
names = np.asarray(emb.class_names).astype(str)
if "clusters" in snakemake.input.keys():
    with np.load(snakemake.input.clusters, allow_pickle=False) as data:
        points = data[{"G": "final_centroids", "P": "mmp"}[wc.point]]
        if list(data["class_names"].astype(str)) != list(names):
            raise ValueError(f"{snakemake.input.clusters}: class_names differ from the embeddings file")
else:
    points = trees.class_centroids(emb.features, emb.labels, emb.n_classes)
Z, _ = trees.newick_to_linkage(tree, names=list(names))
leaf = trees.nearest_leaf(emb.features, points, wc.tree_metric)
try:
    row["dp"] = trees.tree_label_metrics(Z, leaf, emb.labels)["dp"]
except (AttributeError, ImportError) as exc:  # metrics.dendrogram_purity not available
    log.warning("dendrogram purity unavailable (%s); dp = NaN", exc)
    row["dp"] = float("nan")
log.info("%s", row)
io.write_table(snakemake.output[0], pd.DataFrame([row]))
