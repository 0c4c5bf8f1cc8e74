# Stage: report -- aggregation tables, figures and the HTML report captions.
#
# Every report job reads only cached per-run tables / arrays (never embeddings or images),
# so deleting results/report/ and re-running rebuilds the report without any analysis job.
# Inputs are explicit lists derived from config (report_common.smk): adding an encoder
# adds only its branches.


include: "report_common.smk"


# Two report jobs (one per core), not one per table: each job pays ~2-3 s of Python,
# Snakemake-preamble and pandas / matplotlib start-up, and report-only regeneration must
# stay within seconds. The figures are split between the two jobs to balance their times.
localrules:
    report_tables,
    report_caec_figures,


rule report_tables:
    """Every report table (CAEC 1-14, trees 17-18, L2H table 1, flat AMI, cross-method), heatmaps, L2H dendrograms."""
    input:
        tables=report_inputs(*REPORT_SPECS),
        trees=_maybe(
            [f"results/{ds}/{enc}/l2h/{src}/{f}" for ds, enc, src in L2H_FIGURE_RUNS for f in ("tree.nwk", "leaves.tsv")]
            + [f"results/{ds}/reference.nwk" for ds in REF_DATASETS]
        ),
    output:
        caec=_reported(_table_files(CAEC_TABLES), "caec_tables", "CAEC clusters", _tables_by_dataset),
        trees=_reported(_table_files(TREE_TABLES), "tree_tables", "Relation trees", _tables_by_dataset),
        l2h=_reported(_table_files(["l2h"]), "l2h_table", "L2H hierarchies", _tables_by_dataset),
        flat=_reported(_table_files(FLAT_TABLES), "flat_tables", "Flat clustering", _tables_by_dataset),
        cross=_reported(_table_files(CROSS_TABLES), "cross_table", "Comparison", _tables_by_dataset),
        merge_expand=_reported(_table_files(ME_TABLES), "merge_expand_table", "Merge & Expand", _tables_by_dataset),
        caec_heatmap=_reported(_figures(["caec_heatmap"]), "caec_heatmap", "CAEC clusters", "heatmap"),
        flat_heatmap=_reported(_figures(["flat_ami_heatmap"]), "flat_heatmap", "Flat clustering", "heatmap"),
        l2h_figures=_reported(_figures(L2H_FIGURES), "l2h_figures", "L2H hierarchies", "dendrograms"),
    log:
        "logs/report/tables.log",
    benchmark:
        "benchmarks/results/report/tables.tsv"
    params:
        specs=REPORT_SPECS,
        caec_datasets=CAEC_DATASETS,
        reference_datasets=REF_DATASETS,
        order=_report_order(),
        tree_figures=[
            {"tree": f"results/{ds}/{enc}/l2h/{src}/tree.nwk",
             "leaves": f"results/{ds}/{enc}/l2h/{src}/leaves.tsv",
             "reference": f"results/{ds}/reference.nwk" if has_reference(ds) else None,
             "out": f"{REPORT_DIR}/figures/{name}.png", "left": "hierarchy", "title": f"{ds} / {enc}: {src}"}
            for (ds, enc, src), name in zip(L2H_FIGURE_RUNS, L2H_FIGURES)
        ],
        partial=REPORT_PARTIAL,
        changed_settings=CHANGED_SETTINGS,  # the captions name them
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_tables.py"


rule report_caec_figures:
    """CAEC growth curves (paper fig. 3), 2-D embedding scatters with centroids, relation trees vs reference."""
    input:
        growth=_maybe([f"results/{ds}/{enc}/caec/{m}/growth.npz" for ds, enc in RUNS for m in REPORT_CAEC_METRICS]),
        projection=_maybe(expand_runs("results/{dataset}/{encoder}/projection.npz")),
        trees=_maybe(
            [f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk" for ds, enc, cm, tm, pt in TREE_FIGURE_RUNS]
            + [f"results/{ds}/reference.nwk" for ds in REF_DATASETS]
        ),
    output:
        growth=_reported(_figures(GROWTH_FIGURES), "growth", "CAEC clusters", "growth curves"),
        projection=_reported(_figures(PROJECTION_FIGURES), "projection", "CAEC clusters", "embedding scatter"),
        trees=_reported(_figures(TREE_FIGURES), "tree_figures", "Relation trees", "relation tree vs reference"),
    log:
        "logs/report/caec_figures.log",
    benchmark:
        "benchmarks/results/report/caec_figures.tsv"
    params:
        growth=[
            {"growth": {m: f"results/{ds}/{enc}/caec/{m}/growth.npz" for m in REPORT_CAEC_METRICS},
             "out": f"{REPORT_DIR}/figures/{name}.png", "title": f"{ds} / {enc}: CAEC cluster growth"}
            for (ds, enc), name in zip(RUNS, GROWTH_FIGURES)
        ],
        projection=[
            {"projection": f"results/{ds}/{enc}/projection.npz", "out": f"{REPORT_DIR}/figures/{name}.png",
             "title": f"{ds} / {enc} (PCA)"}
            for (ds, enc), name in zip(RUNS, PROJECTION_FIGURES)
        ],
        tree_figures=[
            {"tree": f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk", "reference": f"results/{ds}/reference.nwk",
             "out": f"{REPORT_DIR}/figures/{name}.png", "left": "relation tree",
             "title": f"{ds} / {enc}: clusters {cm}, UPGMA {tm} on {pt}"}
            for (ds, enc, cm, tm, pt), name in zip(TREE_FIGURE_RUNS, TREE_FIGURES)
        ],
        n_classes=int(config["caec"]["growth_plot_classes"]),
        metric=REPORT_CAEC_METRICS[0],
        partial=REPORT_PARTIAL,
        changed_settings=CHANGED_SETTINGS,  # the captions name them
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_caec_figures.py"


rule report_projection:
    """Per run: 2-D PCA of a subsample of the embeddings, with class means, G^f and P of every CAEC metric."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        clusters=expand("results/{{dataset}}/{{encoder}}/caec/{metric}/clusters.npz", metric=REPORT_CAEC_METRICS),
    output:
        "results/{dataset}/{encoder}/projection.npz",
    log:
        "logs/{dataset}/{encoder}/projection.log",
    benchmark:
        "benchmarks/results/{dataset}/{encoder}/projection.tsv"
    params:
        metrics=REPORT_CAEC_METRICS,
        n_max=3000,
        seed=0,
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 4),
        runtime=scaled_runtime(10, 0.1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_projection.py"


rule report_all:
    """Build only the report (tables + figures); `snakemake report_all` after a run regenerates it."""
    input:
        report_targets(),
    localrule: True


STAGE_TARGETS.append(report_targets)
