"""Per run of an image data set, first seed of merge_expand.seeds: figs. 4a/b's example clean and
unclean images, each with its 8 nearest neighbours in the embedding
(embtree.merge_expand.neighbourhood_examples), saved as thumbnails so the report never reads images.

examples.npz: clean_rows / unclean_rows (n, 9) sample indices (example, then neighbours nearest
first), clean_thumbs / unclean_thumbs (n, 9, S, S, 3) uint8, clean_labels / unclean_labels (n, 9)
true classes, clean_ids / unclean_ids (n, 9) sample ids, class_names.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import numpy as np  # noqa: E402

from embtree import io  # noqa: E402
from embtree import merge_expand as me  # noqa: E402
from embtree.data.datasets import load_dataset  # noqa: E402
from embtree.data.images import thumbnails  # noqa: E402
from embtree.data.store import load_embeddings  # noqa: E402

p = snakemake.params
emb = load_embeddings(snakemake.input.embeddings)
with np.load(snakemake.input.labels) as f:
    clean = f["clean"]
rows = me.neighbourhood_examples(emb.features, emb.labels, clean, n_examples=p.n_examples, k=8, seed=p.seed)
data = load_dataset(p.dataset_spec, cache_dir=p.cache_dir)
if len(data) != len(emb.labels) or (emb.sample_ids is not None
                                    and not np.array_equal(np.asarray(data.sample_ids, str), emb.sample_ids)):
    raise ValueError(f"{p.dataset_spec['type']}: the data set's samples ({len(data)}) are not the embedded ones "
                     f"({len(emb.labels)}): re-embed it")
out = {"class_names": np.asarray(emb.class_names, dtype=str)}
for kind, r in zip(("clean", "unclean"), rows):
    flat = r.ravel()
    thumbs = thumbnails([data.image(int(i)) for i in flat]) if len(flat) else np.zeros((0, 8, 8, 3), np.uint8)
    out.update({f"{kind}_rows": r, f"{kind}_thumbs": thumbs.reshape(r.shape + thumbs.shape[1:]),
                f"{kind}_labels": emb.labels[r], f"{kind}_ids": np.asarray(data.sample_ids, dtype=str)[r]})
    shared = (emb.labels[r[:, 1:]] == emb.labels[r[:, :1]]).sum(axis=1)
    log.info("%s examples: %s", kind, [f"{data.sample_ids[x[0]]} ({s}/8 neighbours of its class)"
                                       for x, s in zip(r, shared)])
io.save_npz(snakemake.output[0], **out)
