"""Rule import_features: validate precomputed features (or generate planted-tree data)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

import hashlib  # noqa: E402
from pathlib import Path  # noqa: E402

from embtree import __version__  # noqa: E402
from embtree.data.datasets import eval_spec, load_dataset  # noqa: E402
from embtree.data.encoders import library_versions  # noqa: E402
from embtree.data.store import save_embeddings  # noqa: E402

spec = snakemake.params.dataset  # noqa: F821
part = snakemake.params.get("part", "fit")  # noqa: F821 - "fit", or "eval": the held-out evaluation set
data = load_dataset(spec, part=part)
# The schema fills the planted-tree keys into every dataset entry: record them for planted data only.
PLANTED_KEYS = {"depth", "branching", "dim", "samples_per_class", "step_scale", "decay", "noise", "seed"}
recorded_spec = {k: v for k, v in spec.items() if spec["type"] == "planted-tree" or k not in PLANTED_KEYS}
meta = {
    "embtree": __version__,
    "dataset_id": snakemake.wildcards.dataset,  # noqa: F821
    "encoder_id": snakemake.wildcards.encoder,  # noqa: F821
    "dataset": dict(data.info),
    "dataset_spec": recorded_spec,
    "part": part,
    "feature_dim": int(data.features.shape[1]),
    "n_logits": None if data.logits is None else int(data.logits.shape[1]),
    "versions": library_versions(),
}
read = eval_spec(spec) if part == "eval" else spec  # the entry of the files this set came from
for key in ("path", "labels_path"):
    if read.get(key) and read["type"] == "features":
        meta[f"{key}_sha256"] = hashlib.sha256(Path(read[key]).read_bytes()).hexdigest()
save_embeddings(snakemake.output.npz, data.to_embeddings(), metadata=meta)  # noqa: F821
log.info("wrote %s (%s set): %d samples, %d classes", snakemake.output.npz, part, len(data),  # noqa: F821
         data.n_classes)
