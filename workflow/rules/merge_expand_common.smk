# Helpers of the Merge & Expand stage (merge_expand.smk): config checks the schema cannot
# express, params and targets. Kept apart from the rules (snakemake --lint).
from embtree import merge_expand as _me

MERGE_EXPAND = dict(config["merge_expand"])
try:
    _me.check_params({k: v for k, v in MERGE_EXPAND.items() if k != "seed"})
except ValueError as _err:
    _config_error("merge_expand", str(_err))
if MERGE_EXPAND["input"] == "images":
    for _ds, _spec in DATASETS.items():
        if _spec["type"] not in IMAGE_TYPES:
            _config_error(
                "merge_expand.input",
                f"'images' needs image data sets; '{_ds}' is a '{_spec['type']}' data set without images "
                "(use input: embeddings)",
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
