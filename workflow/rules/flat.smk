# Stage: flat clustering benchmark -- reducers x clusterers per (dataset, encoder) run
# (zs-ssl-clustering, paper 004). Algorithms live in embtree.flat.
#
# Uses:
#   common.smk: STAGE_TARGETS, regex_alternatives, scaled_mem_mb, scaled_runtime
#   flat_common.smk: FLAT, FLAT_CLUSTERERS, FLAT_REDUCERS, flat_cluster_mem_mb, flat_clusterer_method,
#       flat_clusterer_params, flat_reducer_method, flat_reducer_params, flat_targets


wildcard_constraints:
    reducer=regex_alternatives(FLAT_REDUCERS),
    clusterer=regex_alternatives(FLAT_CLUSTERERS),


rule flat_reduce:
    """Reduce a run's embeddings once per seed (none / PCA on z-scores / UMAP / PaCMAP, or a named variant); cached for every clusterer."""
    input:
        npz="results/{dataset}/{encoder}/embeddings.npz",
    output:
        "results/{dataset}/{encoder}/flat/{reducer}/features.npz",
    log:
        "logs/{dataset}/{encoder}/flat/{reducer}/reduce.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/flat/{reducer}/reduce.tsv"
    params:
        method=lambda wc: flat_reducer_method(wc.reducer),
        reducer_params=lambda wc: flat_reducer_params(wc.reducer),
        seeds=FLAT["seeds"],
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(2000, 20),
        runtime=scaled_runtime(15, 1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/flat_reduce.py"


rule flat_cluster:
    """Cluster reduced features for every seed; AMI, ARI, NMI, ACC, purity, silhouette, k, noise per seed."""
    input:
        features="results/{dataset}/{encoder}/flat/{reducer}/features.npz",
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        labels="results/{dataset}/{encoder}/flat/{reducer}/{clusterer}/labels.npz",
        metrics="results/{dataset}/{encoder}/flat/{reducer}/{clusterer}/metrics.tsv",
    log:
        "logs/{dataset}/{encoder}/flat/{reducer}/{clusterer}/cluster.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/flat/{reducer}/{clusterer}/cluster.tsv"
    params:
        method=lambda wc: flat_clusterer_method(wc.clusterer),
        clusterer_params=lambda wc: flat_clusterer_params(wc.clusterer),
        seeds=FLAT["seeds"],
        silhouette_sample_size=FLAT["silhouette_sample_size"],
    group:
        "flat_{dataset}_{encoder}_{reducer}"
    threads: 1
    resources:
        mem_mb=flat_cluster_mem_mb,
        runtime=scaled_runtime(20, 2),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/flat_cluster.py"


STAGE_TARGETS.append(flat_targets)
