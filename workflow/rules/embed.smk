# Stage 1: embeddings (and logits) for every (dataset, encoder) run (reference trees: reference.smk).
# A dataset with a held-out evaluation set (eval_path / eval_split / eval_fraction) gets a second
# job per encoder, the same rule on that set: results/{dataset}/{encoder}/eval/embeddings.npz.
# Only the eval rules set params.part (the scripts default to "fit"): a new param on the fit
# rules would make Snakemake re-embed every finished run.
# A data set with `shards: N` (N >= 2) is embedded by N embed_shard jobs instead of embed
# (results/{dataset}/{encoder}/shards/{i}-of-{N}.npz, temp), which gather_shards streams into the
# same embeddings.npz / .json, byte-identical (embtree.data.shards); its evaluation set keeps
# one embed_eval job.
#
# Uses:
#   common.smk: DATASETS, ENCODERS, FEATURE_TYPES, IMAGE_TYPES, STAGE_TARGETS, dataset_files,
#       dataset_ids_regex, eval_dataset_files, eval_runs_regex, expand_runs, has_eval_set, scaled_mem_mb,
#       scaled_runtime
#   embed_common.smk: embed_mem_mb, embed_runtime, image_ids_regex, shard_files
#   preflight.smk: embed_preflight, eval_image_folder_manifest, image_folder_manifest


rule embed:
    """Run an image encoder over an image data set (GPU when available)."""
    input:
        dataset_files,
        embed_preflight,
    output:
        npz=protected("results/{dataset}/{encoder}/embeddings.npz"),
        meta="results/{dataset}/{encoder}/embeddings.json",
    log:
        log="logs/{dataset}/{encoder}/embed.log",
        # When / where / how fast (timestamp, host, GPU, images/s): kept out of results/,
        # whose files are byte-identical across reruns.
        provenance="logs/{dataset}/{encoder}/embed.provenance.json",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/embed.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
        encoder=lambda wc: ENCODERS[wc.encoder],
        cache_dir=config["cache_dir"],
        # Finished chunks of a killed job (removed on success); not an output.
        resume_dir=lambda wc: f"{config['cache_dir']}/embed-partial/{wc.dataset}/{wc.encoder}",
        images=image_folder_manifest,
    wildcard_constraints:
        dataset=image_ids_regex(sharded=False),
    threads: 2
    resources:
        # The SLURM executor plugin turns gpu=1 into --gpus=1 (add gpu_model in profiles/slurm);
        # not also gres=, which would request the GPU twice.
        gpu=1,
        mem_mb=embed_mem_mb,
        runtime=embed_runtime,
    conda:
        "../../envs/embedding.yaml"
    script:
        "../scripts/embed.py"


rule embed_shard:
    """Embed shard {shard} of {shards} of an image data set (a run of whole batches; GPU when available)."""
    input:
        dataset_files,
        embed_preflight,
    output:
        # Scratch: gather_shards' embeddings.npz holds the same rows (one copy on disk at the end).
        npz=temp("results/{dataset}/{encoder}/shards/{shard}-of-{shards}.npz"),
        meta=temp("results/{dataset}/{encoder}/shards/{shard}-of-{shards}.json"),
    log:
        log="logs/{dataset}/{encoder}/shards/{shard}-of-{shards}.log",
        provenance="logs/{dataset}/{encoder}/shards/{shard}-of-{shards}.provenance.json",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/shards/{shard}-of-{shards}.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
        encoder=lambda wc: ENCODERS[wc.encoder],
        cache_dir=config["cache_dir"],
        resume_dir=lambda wc: f"{config['cache_dir']}/embed-partial/{wc.dataset}/{wc.encoder}/shards/{wc.shard}-of-{wc.shards}",
        images=image_folder_manifest,
    wildcard_constraints:
        dataset=image_ids_regex(sharded=True),
        shard=r"[1-9][0-9]*",
        shards=r"[1-9][0-9]*",
    threads: 2
    resources:
        gpu=1,
        mem_mb=embed_mem_mb,
        runtime=embed_runtime,
    conda:
        "../../envs/embedding.yaml"
    script:
        "../scripts/embed_shard.py"


rule gather_shards:
    """Stream the shards of a sharded image data set into its one embeddings file (as embed's)."""
    input:
        npz=shard_files("npz"),
        meta=shard_files("json"),
    output:
        npz=protected("results/{dataset}/{encoder}/embeddings.npz"),
        meta="results/{dataset}/{encoder}/embeddings.json",
    log:
        "logs/{dataset}/{encoder}/gather_shards.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/gather_shards.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
        cache_dir=config["cache_dir"],
    wildcard_constraints:
        dataset=image_ids_regex(sharded=True),
    threads: 1
    resources:
        # The data set's labels and sample ids plus 16-64 MiB of streamed rows (never the
        # features); the deflate compression (~30 MB/s) sets the runtime.
        mem_mb=scaled_mem_mb(2000, 0),
        runtime=scaled_runtime(20, 0.002),
    conda:
        "../../envs/embedding.yaml"
    script:
        "../scripts/gather_shards.py"


rule import_features:
    """Validate a user's precomputed features (or generate planted-tree data) into the common format."""
    input:
        dataset_files,
    output:
        npz="results/{dataset}/{encoder}/embeddings.npz",
        meta="results/{dataset}/{encoder}/embeddings.json",
    log:
        "logs/{dataset}/{encoder}/import_features.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/import_features.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
    wildcard_constraints:
        dataset=dataset_ids_regex(FEATURE_TYPES),
    threads: 1
    resources:
        # The compressed .npz expands in memory: budget ~10x its size.
        mem_mb=scaled_mem_mb(2000, 10),
        runtime=scaled_runtime(10, 0.1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/import_features.py"


use rule embed as embed_eval with:
    input:
        eval_dataset_files,
        embed_preflight,
    output:
        npz=protected("results/{dataset}/{encoder}/eval/embeddings.npz"),
        meta="results/{dataset}/{encoder}/eval/embeddings.json",
    log:
        log="logs/{dataset}/{encoder}/eval/embed.log",
        provenance="logs/{dataset}/{encoder}/eval/embed.provenance.json",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/eval/embed.tsv"
    params:
        resume_dir=lambda wc: f"{config['cache_dir']}/embed-partial/{wc.dataset}/{wc.encoder}/eval",
        images=eval_image_folder_manifest,
        part="eval",
    wildcard_constraints:
        dataset=eval_runs_regex(IMAGE_TYPES),


use rule import_features as import_features_eval with:
    input:
        eval_dataset_files,
    output:
        npz="results/{dataset}/{encoder}/eval/embeddings.npz",
        meta="results/{dataset}/{encoder}/eval/embeddings.json",
    log:
        "logs/{dataset}/{encoder}/eval/import_features.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/eval/import_features.tsv"
    params:
        part="eval",
    wildcard_constraints:
        dataset=eval_runs_regex(FEATURE_TYPES),


STAGE_TARGETS.append(lambda: [path for path in expand_runs("results/{dataset}/{encoder}/eval/embeddings.npz")
                              if has_eval_set(path.split("/")[1])])
