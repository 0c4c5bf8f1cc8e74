# Stage: Merge & Expand (paper 003) per (dataset, encoder) run -- clusters with a fixed
# embedding, finds k itself and marks clean / unclean embeddings. Algorithm: embtree.merge_expand.
# Repeated runs: one job per seed of merge_expand.seeds (merge_expand/seed{seed}/).
#
# Uses:
#   common.smk: DATASETS, IMAGE_TYPES, STAGE_TARGETS, dataset_ids_regex, regex_alternatives, scaled_mem_mb,
#       scaled_runtime
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS, merge_expand_example_inputs, merge_expand_inputs,
#       merge_expand_params, merge_expand_targets
# Figs. 3a/b and 4a/b: merge_expand_tsne (per run) and merge_expand_examples (per image run, the
# first seed) cache what the report draws (report_merge_expand.smk asks for them).


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


rule merge_expand_tsne:
    """Per run: a seeded 2-D t-SNE map of a subsample of the embeddings (figs. 3a/b; the report draws it)."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        "results/{dataset}/{encoder}/merge_expand/tsne.npz",
    log:
        "logs/{dataset}/{encoder}/merge_expand/tsne.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/merge_expand/tsne.tsv"
    params:
        n_max=config["report"]["merge_expand_tsne_samples"],
        seed=0,
    # One thread: scikit-learn's Barnes-Hut t-SNE sums in thread order; one keeps reruns identical.
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1500, 2),
        runtime=20,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/merge_expand_tsne.py"


rule merge_expand_examples:
    """Per image run, one seed: example clean / unclean images amid their 8 nearest neighbours (figs. 4a/b)."""
    input:
        unpack(merge_expand_example_inputs),
    output:
        "results/{dataset}/{encoder}/merge_expand/seed{seed}/examples.npz",
    wildcard_constraints:
        seed=regex_alternatives([str(s) for s in MERGE_EXPAND_SEEDS]),
        dataset=dataset_ids_regex(IMAGE_TYPES),
    log:
        "logs/{dataset}/{encoder}/merge_expand/seed{seed}_examples.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/merge_expand/seed{seed}_examples.tsv"
    params:
        n_examples=config["report"]["merge_expand_examples"],
        seed=lambda wc: int(wc.seed),
        dataset_spec=lambda wc: DATASETS[wc.dataset],
        cache_dir=config.get("cache_dir", "resources/cache"),
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(2000, 12),
        runtime=20,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/merge_expand_examples.py"
