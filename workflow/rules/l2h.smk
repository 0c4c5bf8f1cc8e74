# Stage: L2H hierarchies from logits (paper 001) and the agglomerative baseline, per
# (dataset, encoder, source). Sources: the config's `l2h.sources` that the run can provide,
# plus the baseline `agglomerative` (always); see l2h_sources() in l2h_common.smk.
# Repeated runs (l2h.seeds): the sources with a training run behind their logits (kmeans, temi,
# scanv2) build one tree per seed (l2h_seeded, l2h/{source}/seed{seed}/); the deterministic ones
# (classifier, agglomerative) one tree (l2h, l2h/{source}/); see l2h_common.smk.
# Every tree carries the bootstrap support of its clades (trees.bootstrap replicates, Newick
# internal labels in percent; docs/methods/support.md): L2H reruns on the logits of a
# within-class resample (no retraining), the baseline its Ward merges over resampled clusters.
#
# Uses:
#   common.smk: ONE_THREAD_BELOW_MB, STAGE_TARGETS, regex_alternatives, scaled_mem_mb, scaled_runtime,
#       scaled_threads
#   l2h_common.smk: L2H_SEEDS, l2h_inputs, l2h_params, l2h_targets


rule l2h:
    """L2H tree over K clusters from classifier logits (or the Ward baseline cut at K), scored against the labels."""
    input:
        unpack(l2h_inputs),
    output:
        linkage="results/{dataset}/{encoder}/l2h/{source}/linkage.npy",
        nwk="results/{dataset}/{encoder}/l2h/{source}/tree.nwk",
        tsv="results/{dataset}/{encoder}/l2h/{source}/metrics.tsv",
        png="results/{dataset}/{encoder}/l2h/{source}/dendrogram.png",
        leaves="results/{dataset}/{encoder}/l2h/{source}/leaves.tsv",
    log:
        "logs/{dataset}/{encoder}/l2h/{source}.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/l2h/{source}.tsv"
    params:
        l2h=l2h_params,  # seed: the first of l2h.seeds
    wildcard_constraints:
        source="classifier|agglomerative",
    group:
        "l2h_{dataset}_{encoder}"
    threads: scaled_threads(2)
    resources:
        # Logits/features in float64 row blocks, Ward's condensed matrix (<= 400 MB at 10^4 samples);
        # per bootstrap process (the job's threads), the rows of G* of one L2H step (replicates index
        # the shared logits, no resampled copy).
        mem_mb=scaled_mem_mb(3000, 8),
        # Bootstrap: one L2H run per replicate (~1.5 s at 50,000 x 1,000 logits, ~350 MB of input).
        runtime=scaled_runtime(15, 0.1 + 1e-4 * config["trees"]["bootstrap"]),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/l2h.py"


use rule l2h as l2h_seeded with:
    output:
        linkage="results/{dataset}/{encoder}/l2h/{source}/seed{seed}/linkage.npy",
        nwk="results/{dataset}/{encoder}/l2h/{source}/seed{seed}/tree.nwk",
        tsv="results/{dataset}/{encoder}/l2h/{source}/seed{seed}/metrics.tsv",
        png="results/{dataset}/{encoder}/l2h/{source}/seed{seed}/dendrogram.png",
        leaves="results/{dataset}/{encoder}/l2h/{source}/seed{seed}/leaves.tsv",
    log:
        "logs/{dataset}/{encoder}/l2h/{source}/seed{seed}.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/l2h/{source}/seed{seed}.tsv"
    params:
        l2h=l2h_params,  # seed: the {seed} wildcard (temi / scanv2: also the heads run read)
    # No Ward/PCA here: the same files at any thread count (common.smk: ONE_THREAD_BELOW_MB).
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    # Rule-level (l2h.seeds only): a global constraint would bind every {seed} of other stages.
    wildcard_constraints:
        source="kmeans|temi|scanv2",
        seed=regex_alternatives([str(s) for s in L2H_SEEDS]),


STAGE_TARGETS.append(l2h_targets)
