# Stage: Merge & Expand (paper 003) per (dataset, encoder) run -- clusters with a fixed
# embedding, finds k itself and marks clean / unclean embeddings. Algorithm: embtree.merge_expand.
#
# Uses:
#   common.smk: DATASETS, STAGE_TARGETS, scaled_mem_mb, scaled_runtime
#   merge_expand_common.smk: MERGE_EXPAND, merge_expand_inputs, merge_expand_params,
#       merge_expand_targets


rule merge_expand:
    """Regions, seed regions, merging (M1-M3), expansion; labels, clean mask, scores, metrics, fig. 3c / 4c."""
    input:
        unpack(merge_expand_inputs),
    output:
        labels="results/{dataset}/{encoder}/merge_expand/labels.npz",
        scores="results/{dataset}/{encoder}/merge_expand/scores.npz",
        metrics="results/{dataset}/{encoder}/merge_expand/metrics.tsv",
        neighbours="results/{dataset}/{encoder}/merge_expand/neighbours.tsv",
        heatmaps="results/{dataset}/{encoder}/merge_expand/heatmaps.png",
        neighbours_png="results/{dataset}/{encoder}/merge_expand/neighbours.png",
    log:
        "logs/{dataset}/{encoder}/merge_expand.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/merge_expand.tsv"
    params:
        me=merge_expand_params(),
        seed=MERGE_EXPAND["seed"],
        max_quadratic_samples=config["flat"]["max_quadratic_samples"],
        dataset_spec=lambda wc: DATASETS[wc.dataset],
        cache_dir=config.get("cache_dir", "resources/cache"),
    # One thread: the stacked classifiers are small matmuls; a fixed thread count also
    # keeps the float reductions, hence the outputs, identical across reruns.
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(3000, 20),
        runtime=scaled_runtime(30, 1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/merge_expand.py"


STAGE_TARGETS.append(merge_expand_targets)
