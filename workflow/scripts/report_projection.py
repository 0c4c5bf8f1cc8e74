"""Per run: 2-D PCA projection of a subsample, class means and CAEC cluster points (G^f, P); with
report.projections: tsne also a joint t-SNE map of the same (``tsne_*`` arrays)."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402

from embtree.data.store import load_embeddings  # noqa: E402
from embtree.centroids import class_centroids  # noqa: E402
from embtree import io  # noqa: E402
from embtree import report as R  # noqa: E402

p = snakemake.params
emb = load_embeddings(snakemake.input.embeddings)
index, mean, comps = R.project_pca(emb.features, n_max=p.n_max, seed=p.seed)
project = lambda Y: ((np.asarray(Y, dtype=float) - mean) @ comps.T).astype(np.float32)  # noqa: E731
means = class_centroids(emb.features, emb.labels, emb.n_classes)
out = {
    "index": index,
    "xy": project(emb.features[index]),
    "labels": emb.labels[index],
    "class_names": np.asarray(emb.class_names, dtype=str),
    "class_means": project(means),
}
points = {}  # the CAEC points in the embedding space, for the t-SNE map
for metric, path in zip(p.metrics, snakemake.input.clusters):
    with np.load(path, allow_pickle=False) as data:
        points[f"G__{metric}"], points[f"P__{metric}"] = data["final_centroids"], data["mmp"]
for name, pts in points.items():
    out[name] = project(pts)
if "tsne" in p.methods:
    # report.projections: tsne (the CAEC paper's figs. 1, 4, 6): the same samples, with the class
    # means and the CAEC points embedded jointly (t-SNE cannot map points afterwards).
    xy, (tsne_means, *tsne_points) = R.tsne_map(emb.features[index], [means, *points.values()], seed=p.seed)
    out.update(tsne_xy=xy, tsne_class_means=tsne_means,
               **{f"tsne_{name}": v for name, v in zip(points, tsne_points)})
io.save_npz(snakemake.output[0], **out)
log.info("projected %d of %d samples", len(index), len(emb.labels))
