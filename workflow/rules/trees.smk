# Stage: relation trees (CAEC paper 3.3, eq. 14-16) and their comparison with the
# reference hierarchy (4.5: Robinson-Foulds, Deformity Index) + dendrogram purity.
#
# Point sets (config trees.points): G = final-cluster centroids G^f (eq. 14),
# P = manifold mean points; before/ = plain class centroids (no clustering).
include: "trees_common.smk"


TREE_METRICS = config["trees"]["metrics"]
TREE_POINTS = config["trees"]["points"]
CAEC_METRICS = config["caec"]["metrics"]


wildcard_constraints:
    tree_metric=_alternatives(TREE_METRICS),
    cluster_metric=_alternatives(CAEC_METRICS),
    point=_alternatives(TREE_POINTS),


# One job per CAEC run (and one per embedding run for before/) builds or compares every
# tree_metric x point tree of it: each tree is UPGMA over at most a few thousand class
# points, milliseconds of work, so one job per tree spent ~2 s of process start-up on
# each of them (126 jobs in the default run, now 31).


rule relation_trees:
    """UPGMA relation trees over the CAEC cluster points G^f and P of every class, for every tree metric."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
    output:
        nwk=_tree_files(".nwk"),
        png=_tree_files(".png"),
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/relation_trees.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/{cluster_metric}/relation_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=TREE_POINTS,
    group:
        "trees_{dataset}_{encoder}"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/relation_tree.py"


rule relation_trees_before:
    """UPGMA trees over the plain class centroids G (before clustering), for every tree metric."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        nwk=_before_files(".nwk"),
        png=_before_files(".png"),
    log:
        "logs/{dataset}/{encoder}/trees/before/relation_trees.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/before/relation_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=["G"],
    group:
        "trees_{dataset}_{encoder}"
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.01),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/relation_tree.py"


rule compare_trees:
    """RF / normalised RF / Deformity Index against the reference, and dendrogram purity, of every tree of a CAEC run."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
        trees=_tree_files(".nwk"),
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        _tree_files(".tsv"),
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/compare_trees.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/{cluster_metric}/compare_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=TREE_POINTS,
    group:
        "trees_{dataset}_{encoder}"
    threads: scaled_threads(2)
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02 * len(TREE_METRICS) * len(TREE_POINTS)),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/compare_tree.py"


rule compare_trees_before:
    """RF / DI / DP of the before-clustering trees (plain class centroids), for every tree metric."""
    input:
        trees=_before_files(".nwk"),
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        _before_files(".tsv"),
    log:
        "logs/{dataset}/{encoder}/trees/before/compare_trees.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/before/compare_trees.tsv"
    params:
        tree_metrics=TREE_METRICS,
        points=["G"],
    group:
        "trees_{dataset}_{encoder}"
    threads: scaled_threads(2)
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02 * len(TREE_METRICS)),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/compare_tree.py"


# Rebuilt copies of resources/hierarchies/ (the shipped files are never outputs: a fresh
# clone must not try to regenerate them, which would need WordNet).
HIERARCHY_FILES = [
    f"results/hierarchies/{name}{suffix}"
    for name in ["cifar10", "cifar100", "cifar100-coarse", "imagenet"]
    for suffix in [".nwk", "_synsets.tsv"]
]


rule hierarchies:
    """Rebuild the shipped WordNet reference trees into results/hierarchies/ (not part of `all`; needs WordNet 3.0)."""
    output:
        HIERARCHY_FILES,
    log:
        "logs/hierarchies.log",
    benchmark:
        "benchmarks/results/hierarchies.tsv"
    params:
        wordnet_dir=config["wordnet"].get("dir"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/make_hierarchies.py"


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
