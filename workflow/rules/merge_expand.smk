# Stage: Merge & Expand (paper 003) per (dataset, encoder) run -- clusters with a fixed
# embedding, finds k itself and marks clean / unclean embeddings. Algorithm: embtree.merge_expand.
# Repeated runs: one job per seed of merge_expand.seeds (merge_expand/seed{seed}/).
#
# Uses:
#   common.smk: DATASETS, STAGE_TARGETS, regex_alternatives, scaled_mem_mb, scaled_runtime
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS, merge_expand_inputs, merge_expand_params,
#       merge_expand_targets


rule merge_expand:
    """Regions, seed regions, merging (M1-M3), expansion for one seed; labels, clean mask, scores, metrics, fig. 3c / 4c."""
    input:
        unpack(merge_expand_inputs),
    output:
        labels="results/{dataset}/{encoder}/merge_expand/seed{seed}/labels.npz",
        scores="results/{dataset}/{encoder}/merge_expand/seed{seed}/scores.npz",
        metrics="results/{dataset}/{encoder}/merge_expand/seed{seed}/metrics.tsv",
        neighbours="results/{dataset}/{encoder}/merge_expand/seed{seed}/neighbours.tsv",
        heatmaps="results/{dataset}/{encoder}/merge_expand/seed{seed}/heatmaps.png",
        neighbours_png="results/{dataset}/{encoder}/merge_expand/seed{seed}/neighbours.png",
    # Rule-level (merge_expand.seeds only): a global constraint would bind every {seed} of other stages.
    wildcard_constraints:
        seed=regex_alternatives([str(s) for s in MERGE_EXPAND_SEEDS]),
    log:
        "logs/{dataset}/{encoder}/merge_expand/seed{seed}.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/merge_expand/seed{seed}.tsv"
    params:
        me=merge_expand_params(),
        seed=lambda wc: int(wc.seed),
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
