# Stage: relation trees (CAEC paper 3.3, eq. 14-16) and their comparison with the
# reference hierarchy (4.5: Robinson-Foulds, Deformity Index) + dendrogram purity.
#
# Point sets (config trees.points): G = final-cluster centroids G^f (eq. 14),
# P = manifold mean points; before/ = plain class centroids (no clustering).
# Every tree carries the bootstrap support of its clades (trees.bootstrap replicates: the
# members of each final cluster resampled, before/: the samples of each class; Newick
# internal labels in percent, docs/methods/support.md).
#
# Uses:
#   common.smk: ONE_THREAD_BELOW_MB, STAGE_TARGETS, expand_runs, has_reference, regex_alternatives,
#       scaled_mem_mb, scaled_runtime, scaled_threads
#   trees_common.smk: before_tree_files, null_input, tree_files


TREE_METRICS = config["trees"]["metrics"]
TREE_POINTS = config["trees"]["points"]
CAEC_METRICS = config["caec"]["metrics"]


wildcard_constraints:
    tree_metric=regex_alternatives(TREE_METRICS),
    cluster_metric=regex_alternatives(CAEC_METRICS),
    point=regex_alternatives(TREE_POINTS),


# One job per CAEC run (and one per embedding run for before/) builds or compares every
# tree_metric x point tree of it: each tree is UPGMA over at most a few thousand class
# points, milliseconds of work, so one job per tree spent ~2 s of process start-up on
# each of them (126 jobs in the default run, now 31). The before/ jobs are the same rules on
# the embeddings (`use rule ... with:`): other inputs, point set G only, other paths.


rule relation_trees:
    """UPGMA relation trees for every tree metric over G^f and P of a CAEC run (before/: plain class centroids G)."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",  # member features (bootstrap)
    output:
        nwk=tree_files(".nwk"),
        png=tree_files(".png"),
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/relation_trees.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/trees/{cluster_metric}/relation_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=TREE_POINTS,
        bootstrap=config["trees"]["bootstrap"],
        seed=0,  # the resamples are fixed: a rerun gives the same support
    group:
        "trees_{dataset}_{encoder}"
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)  # the bootstrap's distances (embtree.distances kernels)
    resources:
        # The embeddings in float64 for the resampled means; one UPGMA per replicate and tree
        # (1,000 classes x 768 d, 150 MB of embeddings: 100 replicates x 6 trees ~ 1 min on 2 threads, 75 s on 1).
        mem_mb=scaled_mem_mb(2000, 3),
        runtime=scaled_runtime(10, 5e-5 * config["trees"]["bootstrap"] * len(TREE_METRICS) * len(TREE_POINTS)),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/relation_tree.py"


use rule relation_trees as relation_trees_before with:
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        nwk=before_tree_files(".nwk"),
        png=before_tree_files(".png"),
    log:
        "logs/{dataset}/{encoder}/trees/before/relation_trees.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/trees/before/relation_trees.tsv"
    params:
        points=["G"],
    resources:
        # Reads the embeddings (the class centroids are computed in the job).
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.01 + 5e-5 * config["trees"]["bootstrap"] * len(TREE_METRICS)),


rule compare_trees:
    """RF / normalised RF / Deformity Index against the reference, and dendrogram purity, of every tree of a run."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
        trees=tree_files(".nwk"),
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        null=null_input,
    output:
        tree_files(".tsv"),
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/compare_trees.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/trees/{cluster_metric}/compare_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=TREE_POINTS,
    group:
        "trees_{dataset}_{encoder}"
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02 * len(TREE_METRICS) * len(TREE_POINTS)),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/compare_tree.py"


rule reference_null:
    """Chance level of every tree score against the data set's reference: random binary trees."""
    input:
        reference="results/{dataset}/reference.nwk",
    output:
        "results/{dataset}/reference_null.tsv",
    log:
        "logs/{dataset}/reference_null.log",
    benchmark:
        "logs/benchmarks/{dataset}/reference_null.tsv"
    params:
        n_trees=config["trees"]["null_trees"],
        model=config["trees"]["null_model"],
        seed=0,  # the draw is fixed: a rerun gives the same trees and p-values
    threads: 1
    resources:
        mem_mb=1000,
        # ~0.07 s per random tree at 1,000 leaves on one core (benchmarks/bench_null.py)
        runtime=10 + config["trees"]["null_trees"] // 500,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_null.py"


use rule compare_trees as compare_trees_before with:
    input:
        trees=before_tree_files(".nwk"),
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        null=null_input,
    output:
        before_tree_files(".tsv"),
    log:
        "logs/{dataset}/{encoder}/trees/before/compare_trees.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/trees/before/compare_trees.tsv"
    params:
        points=["G"],
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02 * len(TREE_METRICS)),


# Final targets: every tree; the comparison tables only where a reference exists.
STAGE_TARGETS.append(
    lambda: expand_runs(
        "results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.nwk",
        cluster_metric=CAEC_METRICS,
        tree_metric=TREE_METRICS,
        point=TREE_POINTS,
    )
    + expand_runs("results/{dataset}/{encoder}/trees/before/{tree_metric}.nwk", tree_metric=TREE_METRICS)
    + [
        p
        for p in expand_runs(
            "results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.tsv",
            cluster_metric=CAEC_METRICS,
            tree_metric=TREE_METRICS,
            point=TREE_POINTS,
        )
        + expand_runs("results/{dataset}/{encoder}/trees/before/{tree_metric}.tsv", tree_metric=TREE_METRICS)
        if has_reference(p.split("/")[1])
    ]
)
