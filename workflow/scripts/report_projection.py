"""Per run: 2-D PCA projection of a subsample, class means and CAEC cluster points (G^f, P)."""
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
for metric, path in zip(p.metrics, snakemake.input.clusters):
    with np.load(path, allow_pickle=False) as data:
        out[f"G__{metric}"] = project(data["final_centroids"])
        out[f"P__{metric}"] = project(data["mmp"])
io.save_npz(snakemake.output[0], **out)
log.info("projected %d of %d samples", len(index), len(emb.labels))
