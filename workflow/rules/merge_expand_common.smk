# Helpers of the Merge & Expand stage (merge_expand.smk): config checks the schema cannot
# express, params and targets. Kept apart from the rules (snakemake --lint).
#
# Uses:
#   common.smk: DATASETS, IMAGE_TYPES, config_error, dataset_files, embeddings_path, expand_runs,
#       features_file_info
from snakemake.logging import logger

from embtree import merge_expand as _me

MERGE_EXPAND = dict(config["merge_expand"])
try:
    _me.check_params({k: v for k, v in MERGE_EXPAND.items() if k != "seed"})
except ValueError as _err:
    config_error("merge_expand", str(_err))
if MERGE_EXPAND["input"] == "images":
    for _ds, _spec in DATASETS.items():
        if _spec["type"] not in IMAGE_TYPES:
            config_error(
                "merge_expand.input",
                f"'images' needs image data sets; '{_ds}' is a '{_spec['type']}' data set without images "
                "(use input: embeddings)",
            )


def _known_n_samples(dataset):
    """Samples of a data set where known without reading it (features file header, planted
    tree size), before any `max_per_class` / `imbalance` subsampling; else None."""
    spec = DATASETS[dataset]
    if spec.get("max_per_class") is not None or spec.get("imbalance") is not None:
        return None
    if spec["type"] == "features":
        return features_file_info(dataset)["shapes"]["features"][0]
    if spec["type"] == "planted-tree":
        return spec["samples_per_class"] * spec["branching"] ** spec["depth"]
    return None


# Small data sets run with fewer, larger regions (embtree.merge_expand.region_count); said
# here at DAG build as well as in the job's log, so a first small test is not a surprise.
for _ds in DATASETS:
    _n = _known_n_samples(_ds)
    if _n is not None:
        _used = _me.region_count(_n, MERGE_EXPAND["n_regions"], MERGE_EXPAND["min_region_size"])
        if _used < MERGE_EXPAND["n_regions"]:
            # A warning where the regions could not even hold one sample each before (an error
            # until now); the usual cap on a few-hundred-sample set is only information.
            (logger.warning if _n < MERGE_EXPAND["n_regions"] else logger.info)(
                f"datasets.{_ds}: {_n} samples; merge_expand.n_regions={MERGE_EXPAND['n_regions']} is capped at "
                f"max(n_samples // merge_expand.min_region_size, 2) = {_used} regions for this data set"
            )


def merge_expand_params():
    return {k: v for k, v in MERGE_EXPAND.items() if k != "seed"}


def merge_expand_inputs(wildcards):
    inputs = {"embeddings": embeddings_path(wildcards)}
    if MERGE_EXPAND["input"] == "images":
        inputs.update({"dataset_files": dataset_files(wildcards)})
    return inputs


def merge_expand_targets():
    return expand_runs(
        "results/{dataset}/{encoder}/merge_expand/{name}",
        name=["labels.npz", "scores.npz", "metrics.tsv", "neighbours.tsv", "heatmaps.png", "neighbours.png"],
    )
