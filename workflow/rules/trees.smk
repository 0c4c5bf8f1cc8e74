# Stage: relation trees (CAEC paper 3.3, eq. 14-16) and their comparison with the
# reference hierarchy (4.5: Robinson-Foulds, Deformity Index) + dendrogram purity.
#
# Point sets (config trees.points): G = final-cluster centroids G^f (eq. 14),
# P = manifold mean points; before/ = plain class centroids (no clustering).

TREE_METRICS = config["trees"]["metrics"]
TREE_POINTS = config["trees"]["points"]
CAEC_METRICS = config["caec"]["metrics"]


wildcard_constraints:
    tree_metric=_alternatives(TREE_METRICS),
    cluster_metric=_alternatives(CAEC_METRICS),
    point=_alternatives(TREE_POINTS),


rule relation_tree:
    """UPGMA relation tree over the CAEC cluster points G^f or P of every class."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
    output:
        nwk="results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.nwk",
        png="results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.png",
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.tsv"
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


rule relation_tree_before:
    """UPGMA tree over the plain class centroids G (before clustering)."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        nwk="results/{dataset}/{encoder}/trees/before/{tree_metric}.nwk",
        png="results/{dataset}/{encoder}/trees/before/{tree_metric}.png",
    log:
        "logs/{dataset}/{encoder}/trees/before/{tree_metric}.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/before/{tree_metric}.tsv"
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


rule compare_tree:
    """RF / normalised RF / Deformity Index against the reference, and dendrogram purity."""
    input:
        clusters="results/{dataset}/{encoder}/caec/{cluster_metric}/clusters.npz",
        tree="results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.nwk",
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        "results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.tsv",
    log:
        "logs/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.compare.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/{cluster_metric}/{tree_metric}/{point}.compare.tsv"
    group:
        "trees_{dataset}_{encoder}"
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/compare_tree.py"


rule compare_tree_before:
    """RF / DI / DP of the before-clustering tree (plain class centroids)."""
    input:
        tree="results/{dataset}/{encoder}/trees/before/{tree_metric}.nwk",
        reference="results/{dataset}/reference.nwk",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        "results/{dataset}/{encoder}/trees/before/{tree_metric}.tsv",
    log:
        "logs/{dataset}/{encoder}/trees/before/{tree_metric}.compare.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/trees/before/{tree_metric}.compare.tsv"
    group:
        "trees_{dataset}_{encoder}"
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 3),
        runtime=scaled_runtime(10, 0.02),
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
