"""Rule gather_shards: the N shards of rule embed_shard -> the run's one embeddings file,
byte-identical to rule embed's (embtree.data.shards), streamed shard by shard."""

from embtree.runtime import release_incomplete_markers, setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from embtree.data.datasets import load_dataset  # noqa: E402
from embtree.data.shards import gather_metadata, gather_shards  # noqa: E402

params, inp, out = snakemake.params, snakemake.input, snakemake.output  # noqa: F821
data = load_dataset(params.dataset, cache_dir=params.cache_dir)
meta = gather_metadata([json.loads(Path(p).read_text()) for p in inp.meta], data)
meta.update(dataset_id=snakemake.wildcards.dataset, encoder_id=snakemake.wildcards.encoder)  # noqa: F821
gather_shards(out.npz, list(inp.npz), data, metadata=meta)
release_incomplete_markers([out.npz, out.meta])
log.info("wrote %s: %d images from %d shards", out.npz, len(data), len(inp.npz))
