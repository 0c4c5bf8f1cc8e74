"""Rule embed: run an image encoder over an image data set (CUDA when available)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

import torch  # noqa: E402

from embtree.datasets import load_dataset  # noqa: E402
from embtree.encoders import encode  # noqa: E402
from embtree.io import save_embeddings  # noqa: E402

torch.set_num_threads(snakemake.threads)  # noqa: F821
params = snakemake.params  # noqa: F821
data = load_dataset(params.dataset, cache_dir=params.cache_dir)
log.info("dataset %s: %d images, %d classes", snakemake.wildcards.dataset, len(data), data.n_classes)  # noqa: F821
emb, meta = encode(data, params.encoder, cache_dir=params.cache_dir)
meta.update(dataset_id=snakemake.wildcards.dataset, encoder_id=snakemake.wildcards.encoder)  # noqa: F821
save_embeddings(snakemake.output.npz, emb, metadata=meta)  # noqa: F821
log.info("wrote %s: features %s, logits %s", snakemake.output.npz, emb.features.shape,  # noqa: F821
         None if emb.logits is None else emb.logits.shape)  # fmt: skip
