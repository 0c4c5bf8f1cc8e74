# Stage 1: embeddings (and logits) for every (dataset, encoder) run (reference trees: reference.smk).
#
# Uses:
#   common.smk: DATASETS, ENCODERS, FEATURE_TYPES, IMAGE_TYPES, dataset_files, dataset_ids_regex,
#       scaled_mem_mb, scaled_runtime
#   embed_common.smk: embed_mem_mb, embed_runtime
#   preflight.smk: embed_preflight, image_folder_manifest


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
        dataset=dataset_ids_regex(IMAGE_TYPES),
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
