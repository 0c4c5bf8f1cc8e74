# Stage 1: embeddings (and logits) for every (dataset, encoder) run (reference trees: reference.smk).


rule embed:
    """Run an image encoder over an image data set (GPU when available)."""
    input:
        dataset_files,
        embed_preflight,
    output:
        npz=protected("results/{dataset}/{encoder}/embeddings.npz"),
        meta="results/{dataset}/{encoder}/embeddings.json",
    log:
        "logs/{dataset}/{encoder}/embed.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/embed.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
        encoder=lambda wc: ENCODERS[wc.encoder],
        cache_dir=config["cache_dir"],
        images=image_folder_manifest,
    wildcard_constraints:
        dataset=_ids(IMAGE_TYPES),
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
        "benchmarks/results/{dataset}/{encoder}/import_features.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
    wildcard_constraints:
        dataset=_ids(FEATURE_TYPES),
    threads: 1
    resources:
        # The compressed .npz expands in memory: budget ~10x its size.
        mem_mb=scaled_mem_mb(2000, 10),
        runtime=scaled_runtime(10, 0.1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/import_features.py"
