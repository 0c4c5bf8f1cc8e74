"""Rule prefetch: download model weights and data sets into cache_dir (run where there is internet)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from embtree.data.datasets import prefetch_dataset  # noqa: E402
from embtree.data.encoders import prefetch_encoder  # noqa: E402
from embtree.io import write_json  # noqa: E402

params = snakemake.params  # noqa: F821
manifest = {"cache_dir": params.cache_dir, "encoders": {}, "datasets": {}}
for name, spec in params.encoders.items():
    fetched = prefetch_encoder(spec, cache_dir=params.cache_dir)
    manifest["encoders"][name] = {"spec": dict(spec), "downloaded": bool(fetched)}
for name, spec in params.datasets.items():
    root = prefetch_dataset(spec, cache_dir=params.cache_dir)
    manifest["datasets"][name] = {"spec": dict(spec), "root": None if root is None else str(root)}
write_json(snakemake.output.manifest, manifest)  # noqa: F821
log.info("prefetch done: %d encoders, %d data sets checked into %s",
         len(manifest["encoders"]), len(manifest["datasets"]), params.cache_dir)  # fmt: skip
