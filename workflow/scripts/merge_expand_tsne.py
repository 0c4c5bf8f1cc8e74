"""Per run: a seeded 2-D t-SNE map of a subsample of the embeddings, for Merge & Expand's figs.
3a/b (the report colours it by class, seed region and cluster; it only draws).

tsne.npz: index (the subsample's rows, sorted), xy (t-SNE coordinates), labels (true classes),
class_names, translated (MNIST-TRAN: the sample was moved; its id carries ``+dx..dy..``).
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from embtree import io  # noqa: E402
from embtree import report as R  # noqa: E402
from embtree.data.store import load_embeddings  # noqa: E402

p = snakemake.params
emb = load_embeddings(snakemake.input.embeddings)
n = len(emb.labels)
index = np.sort(np.random.default_rng(p.seed).choice(n, size=min(int(p.n_max), n), replace=False))
with threadpool_limits(snakemake.threads):
    xy, _ = R.tsne_map(emb.features[index], seed=p.seed)
ids = np.asarray(emb.sample_ids if emb.sample_ids is not None else [""] * n, dtype=str)[index]
io.save_npz(snakemake.output[0], index=index.astype(np.int64), xy=xy, labels=emb.labels[index],
            class_names=np.asarray(emb.class_names, dtype=str), translated=np.char.find(ids, "+dx") >= 0)
log.info("t-SNE of %d of %d samples (seed %d)", len(index), n, p.seed)
