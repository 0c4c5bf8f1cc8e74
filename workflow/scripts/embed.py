"""Rule embed: stream an image data set through an encoder (CUDA + mixed precision when available).

Features are written to a chunk store every ``chunk_images`` images, so a killed job
resumes from its last finished chunk. embeddings.npz / .json hold only what determines
the result; when, where and how fast it ran goes to the provenance sidecar in logs/.
"""

from embtree.runtime import release_incomplete_markers, setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

import torch  # noqa: E402

from embtree.data.datasets import load_dataset  # noqa: E402
from embtree.data.extract import ChunkStore, encode, run_provenance  # noqa: E402
from embtree.data.store import save_embeddings  # noqa: E402
from embtree.io import write_json  # noqa: E402

wc, params, out = snakemake.wildcards, snakemake.params, snakemake.output  # noqa: F821
part = params.get("part", "fit")  # "eval": the held-out evaluation set (rule embed_eval)
torch.set_num_threads(snakemake.threads)  # noqa: F821
data = load_dataset(params.dataset, part=part, cache_dir=params.cache_dir)
log.info("dataset %s (%s set): %d images, %d classes", wc.dataset, part, len(data), data.n_classes)
emb, meta, stats = encode(data, params.encoder, cache_dir=params.cache_dir, resume_dir=params.resume_dir,
                          progress_label=f"embed {wc.dataset}/{wc.encoder}: ")  # fmt: skip
meta.update(dataset_id=wc.dataset, encoder_id=wc.encoder)
save_embeddings(out.npz, emb, metadata=meta)
write_json(snakemake.log.provenance, {**run_provenance(stats), "dataset_id": wc.dataset,  # noqa: F821
                                      "encoder_id": wc.encoder, "outputs": [out.npz, out.meta]})
# Both outputs are complete: clear Snakemake's incomplete marks, so that a Snakemake killed
# while this job ran keeps them on the resumed run instead of re-embedding.
release_incomplete_markers([out.npz, out.meta])
ChunkStore.discard(params.resume_dir)
log.info("wrote %s: features %s, logits %s", out.npz, emb.features.shape,
         None if emb.logits is None else emb.logits.shape)  # fmt: skip
