"""Rule embed_shard: embed shard i of N of an image data set (a run of whole batches).

As rule embed (embed.py), on the images embtree.data.shards.shard_bounds gives shard i;
rule gather_shards writes the one embeddings file from the N shards.
"""

from embtree.runtime import release_incomplete_markers, setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

import numpy as np  # noqa: E402
import torch  # noqa: E402

from embtree.data.datasets import load_dataset  # noqa: E402
from embtree.data.extract import ChunkStore, encode, run_provenance  # noqa: E402
from embtree.data.shards import save_shard, shard_bounds  # noqa: E402
from embtree.io import write_json  # noqa: E402

wc, params, out = snakemake.wildcards, snakemake.params, snakemake.output  # noqa: F821
index, count = int(wc.shard), int(wc.shards)
torch.set_num_threads(snakemake.threads)  # noqa: F821
data = load_dataset(params.dataset, cache_dir=params.cache_dir)
batch_size = params.encoder["batch_size"]
try:
    bounds = shard_bounds(len(data), count, batch_size)
except ValueError as err:  # counted exactly here; the DAG build checked an upper bound
    raise ValueError(f"config error at 'datasets.{wc.dataset}.shards': {err}") from None
if not 1 <= index <= count:
    raise ValueError(f"shard {index} of {count}: the index runs from 1 to {count}")
start, stop = (int(b) for b in bounds[index - 1])
log.info("dataset %s: shard %d of %d, images %d..%d of %d", wc.dataset, index, count, start, stop - 1, len(data))
emb, meta, stats = encode(data.subset(np.arange(start, stop)), params.encoder, cache_dir=params.cache_dir,
                          batch_size=batch_size, resume_dir=params.resume_dir,
                          progress_label=f"embed {wc.dataset}/{wc.encoder} shard {index}/{count}: ")  # fmt: skip
meta.update(dataset_id=wc.dataset, encoder_id=wc.encoder, shard={"index": index, "of": count, "start": start,
                                                                 "stop": stop})  # fmt: skip
save_shard(out.npz, emb.features, emb.logits, metadata=meta)
write_json(snakemake.log.provenance, {**run_provenance(stats), "dataset_id": wc.dataset,  # noqa: F821
                                      "encoder_id": wc.encoder, "shard": meta["shard"], "outputs": [out.npz, out.meta]})
release_incomplete_markers([out.npz, out.meta])  # as embed.py: a finished shard survives a killed Snakemake
ChunkStore.discard(params.resume_dir)
log.info("wrote %s: features %s", out.npz, emb.features.shape)
