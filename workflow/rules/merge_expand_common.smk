# Helpers of the Merge & Expand stage (merge_expand.smk): config checks the schema cannot
# express, params and targets. Kept apart from the rules (snakemake --lint).
# Repeated runs as in the heads stage (heads_common.smk): one job per seed of merge_expand.seeds,
# its files in merge_expand/seed{seed}/ (merge_expand_dir); the report's table averages the
# seeds, its figures read the first one.
#
# Uses:
#   common.smk: DATASETS, IMAGE_TYPES, RUNS, config_error, dataset_files, embeddings_path,
#       eval_dataset_files, eval_embeddings, features_file_info, has_eval_set
import os

from snakemake.logging import logger

from embtree import merge_expand as _me

MERGE_EXPAND = dict(config["merge_expand"])
# Schema: unique, at least one, default [0, 1, 2]. `seeds` steers the workflow (one job per seed)
# and feeds merge_expand's `seed` from the job's {seed} wildcard; it is still a setting
# (settings.NOT_SETTINGS leaves it out), so a run with fewer seeds says so in the report.
MERGE_EXPAND_SEEDS = [int(s) for s in MERGE_EXPAND.get("seeds", [0, 1, 2])]


def merge_expand_params():
    """The algorithm's parameters (embtree.merge_expand.DEFAULTS' keys): the section without `seeds`."""
    return {k: v for k, v in MERGE_EXPAND.items() if k != "seeds"}


try:
    _me.check_params(merge_expand_params())
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


def merge_expand_dir(ds, enc, seed):
    """results/{ds}/{enc}/merge_expand/seed{seed}: one Merge & Expand job's outputs."""
    return os.path.join("results", ds, enc, "merge_expand", f"seed{seed}")


def merge_expand_first_seed(ds, enc, name):
    """A run's Merge & Expand file ``name`` of the first seed (the one the report's figures draw)."""
    return os.path.join(merge_expand_dir(ds, enc, MERGE_EXPAND_SEEDS[0]), name)


def merge_expand_inputs(wildcards):
    inputs = {"embeddings": embeddings_path(wildcards)}
    if has_eval_set(wildcards.dataset):  # the held-out set the final classifier assigns
        inputs["eval_embeddings"] = eval_embeddings(wildcards)
    if MERGE_EXPAND["input"] == "images":
        inputs.update({"dataset_files": dataset_files(wildcards)})
        if has_eval_set(wildcards.dataset):
            inputs["eval_dataset_files"] = eval_dataset_files(wildcards)
    return inputs


def merge_expand_example_inputs(wildcards):
    """Figs. 4a/b's job: the run's embeddings, the seed's clean mask and the data set's local files."""
    return {"embeddings": embeddings_path(wildcards),
            "labels": os.path.join(merge_expand_dir(wildcards.dataset, wildcards.encoder, wildcards.seed), "labels.npz"),
            "dataset_files": dataset_files(wildcards)}


def merge_expand_targets():
    return [os.path.join(merge_expand_dir(ds, enc, s), name)
            for ds, enc in RUNS for s in MERGE_EXPAND_SEEDS
            for name in ("labels.npz", "scores.npz", "metrics.tsv", "neighbours.tsv", "heatmaps.png",
                         "neighbours.png")]
