# Stage: CAEC -- class-associated embedding clusters (CAEC paper, section 3.2 and 4.2-4.4).
# One job per (dataset, encoder, distance metric) grows the clusters and writes every
# per-run table; the paired t-tests compare the metrics of one (dataset, encoder).
#
# Uses:
#   common.smk: ONE_THREAD_BELOW_MB, STAGE_TARGETS, embeddings_path, expand_runs, regex_alternatives,
#       scaled_mem_mb, scaled_runtime, scaled_threads

CAEC = config["caec"]


CAEC_RUN_FILES = ["clusters.npz", "growth.npz", "per_class.tsv", "summary.tsv",
                  "infiltration.tsv", "intrusion.tsv", "growth.png"]


rule caec_clusters:
    """Grow one cluster per class (eq. 1-4), its structure (eq. 7-14) and the run's scores."""
    input:
        npz=embeddings_path,
    output:
        clusters="results/{dataset}/{encoder}/caec/{caec_metric}/clusters.npz",
        growth="results/{dataset}/{encoder}/caec/{caec_metric}/growth.npz",
        per_class="results/{dataset}/{encoder}/caec/{caec_metric}/per_class.tsv",
        summary="results/{dataset}/{encoder}/caec/{caec_metric}/summary.tsv",
        infiltration="results/{dataset}/{encoder}/caec/{caec_metric}/infiltration.tsv",
        intrusion="results/{dataset}/{encoder}/caec/{caec_metric}/intrusion.tsv",
    log:
        "logs/{dataset}/{encoder}/caec/{caec_metric}/clusters.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/caec/{caec_metric}/clusters.tsv"
    params:
        gamma=CAEC["gamma"],
        step=CAEC["step"],
        min_cluster_size=CAEC["min_cluster_size"],
    wildcard_constraints:
        caec_metric=regex_alternatives(CAEC["metrics"]),
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        # Features as float32 + float64 copies, 64 MB distance blocks, members and growth.
        mem_mb=scaled_mem_mb(1500, 8),
        runtime=scaled_runtime(10, 0.2),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/caec_clusters.py"


rule caec_growth_plots:
    """Paper fig. 3 for a few classes, one figure per metric: new target / other embeddings per radius step."""
    input:
        growth=expand("results/{{dataset}}/{{encoder}}/caec/{caec_metric}/growth.npz", caec_metric=CAEC["metrics"]),
    output:
        png=expand("results/{{dataset}}/{{encoder}}/caec/{caec_metric}/growth.png", caec_metric=CAEC["metrics"]),
    log:
        "logs/{dataset}/{encoder}/caec/growth_plots.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/caec/growth_plots.tsv"
    params:
        n_classes=CAEC["growth_plot_classes"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/caec_growth_plot.py"


rule caec_ttest:
    """Paired t-test of per-class coverage between every pair of metrics (section 4.3, table 9)."""
    input:
        per_class=expand("results/{{dataset}}/{{encoder}}/caec/{caec_metric}/per_class.tsv",
                         caec_metric=CAEC["metrics"]),
    output:
        "results/{dataset}/{encoder}/caec/ttest.tsv",
    log:
        "logs/{dataset}/{encoder}/caec/ttest.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/caec/ttest.tsv"
    params:
        metrics=CAEC["metrics"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/caec_ttest.py"


localrules:
    caec_growth_plots,
    caec_ttest,


STAGE_TARGETS.append(
    lambda: expand_runs("results/{dataset}/{encoder}/caec/ttest.tsv")
    + expand_runs("results/{dataset}/{encoder}/caec/{caec_metric}/{name}",
                  caec_metric=CAEC["metrics"], name=CAEC_RUN_FILES)
)
