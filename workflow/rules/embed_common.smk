# Helpers of the embeddings stage (embed.smk): resources of the embedding jobs and the shards
# of data sets with `shards: N`. Kept apart from the rules (snakemake --lint: no functions next
# to rules).
#
# Uses:
#   common.smk: DATASETS, IMAGE_TYPES, regex_alternatives


def embed_mem_mb(wildcards, attempt):
    # Model + loader workers' batches (no input file to scale with); doubles on each retry,
    # like the analysis rules, since SLURM OOM kills are retried.
    return 8000 * 2 ** (attempt - 1)


def embed_runtime(wildcards, attempt):
    return 120 * 2 ** (attempt - 1)


def is_sharded(dataset):
    """True when an image data set is embedded in shards (`shards` of 2 or more)."""
    return (DATASETS[dataset].get("shards") or 1) > 1


def image_ids_regex(sharded):
    """Wildcard constraint: the image data sets embedded in shards (True) or by one job (False)."""
    return regex_alternatives([ds for ds, spec in DATASETS.items()
                               if spec["type"] in IMAGE_TYPES and is_sharded(ds) == sharded])


def shard_files(suffix):
    """Input function of `gather_shards`: the run's N shard files (``npz`` or ``json``), in order."""

    def files(wildcards):
        n = DATASETS[wildcards.dataset]["shards"]
        return [f"results/{wildcards.dataset}/{wildcards.encoder}/shards/{i}-of-{n}.{suffix}" for i in range(1, n + 1)]

    return files
