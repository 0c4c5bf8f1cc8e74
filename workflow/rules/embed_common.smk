# Helpers of the embeddings stage (embed.smk): resources of the embedding jobs. Kept apart
# from the rules (snakemake --lint: no functions next to rules).


def embed_mem_mb(wildcards, attempt):
    # Model + loader workers' batches (no input file to scale with); doubles on each retry,
    # like the analysis rules, since SLURM OOM kills are retried.
    return 8000 * 2 ** (attempt - 1)


def embed_runtime(wildcards, attempt):
    return 120 * 2 ** (attempt - 1)
