# Stage: report -- aggregation tables, figures and the HTML report captions.
#
# Every report job reads only cached per-run tables / arrays (never embeddings or images),
# so deleting results/report/ and re-running rebuilds the report without any analysis job.
# Inputs are explicit lists derived from config (report_common.smk): adding an encoder
# adds only its branches.
#
# Uses:
#   common.smk: DATASETS, RUNS, STAGE_TARGETS, expand_runs, has_reference, scaled_mem_mb, scaled_runtime
#   flat_common.smk: flat_report_settings
#   l2h_common.smk: l2h_dir
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS
#   report_common.smk: BEFORE_AFTER_FIGURES, BEFORE_AFTER_RUNS, CAEC_DATASETS, CAEC_TABLES, CHANGED_SETTINGS,
#       CROSS_TABLES, FINDINGS_FILES, FLAT_TABLES, PAPER_FILES, GROWTH_FIGURES, HEADS_REPORT_SPECS, L2H_BENCHMARK_SPECS,
#       L2H_FIGURES, L2H_FIGURE_RUNS, L2H_REPORT_SEEDS,
#       ME_TABLES, PROJECTION_FIGURES, PROJECTION_RUNS, REF_DATASETS, REPORT_BASELINES, REPORT_CAEC_METRICS, REPORT_DIR,
#       REPORT_PARTIAL, REPORT_SPECS, RUN_CONFIG_FILES, TREE_FIGURES, TREE_FIGURE_RUNS, TREE_STYLE, TREE_TABLES,
#       caption_file,
#       existing_if_partial, figure_files, findings_inputs, report_inputs, report_order, report_targets,
#       reported, table_files, tables_by_dataset
import os


# Two report jobs (one per core), not one per table: each job pays ~2-3 s of Python,
# Snakemake-preamble and pandas / matplotlib start-up, and report-only regeneration must
# stay within seconds. The figures are split between the two jobs to balance their times.
localrules:
    report_tables,
    report_caec_figures,
    report_findings,


rule report_tables:
    """Every report table (CAEC 1-14, trees 17-18, L2H tables 1-2, flat AMI, cross-method), heatmaps, L2H dendrograms."""
    input:
        tables=report_inputs(*REPORT_SPECS),
        trees=existing_if_partial(
            [os.path.join(l2h_dir(ds, enc, src, s), f) for ds, enc, src, s in L2H_FIGURE_RUNS
             for f in ("tree.nwk", "leaves.tsv")]
            + [f"results/{ds}/reference.nwk" for ds in REF_DATASETS]
        ),
        # The table pages carry their caption above the table (the report shows it beside the table).
        captions=[caption_file(c) for c in ("caec_tables", "tree_tables", "l2h_table", "l2h_runtime", "flat_tables",
                                            "cross_table", "merge_expand_table")],
    output:
        caec=reported(table_files(CAEC_TABLES), "caec_tables", "caec", tables_by_dataset),
        trees=reported(table_files(TREE_TABLES), "tree_tables", "trees", tables_by_dataset),
        l2h=reported(table_files(["l2h"]), "l2h_table", "l2h", tables_by_dataset),
        l2h_runtime=reported(table_files(["l2h_runtime"]), "l2h_runtime", "l2h", tables_by_dataset),
        flat=reported(table_files(FLAT_TABLES), "flat_tables", "flat", tables_by_dataset),
        cross=reported(table_files(CROSS_TABLES), "cross_table", "cross", tables_by_dataset),
        merge_expand=reported(table_files(ME_TABLES), "merge_expand_table", "merge_expand", tables_by_dataset),
        caec_heatmap=reported(figure_files(["caec_heatmap"]), "caec_heatmap", "caec", "heatmap"),
        flat_heatmap=reported(figure_files(["flat_ami_heatmap"]), "flat_heatmap", "flat", "heatmap"),
        flat_groups=reported(figure_files(["flat_groups"]), "flat_groups", "flat", "heatmap"),
        l2h_figures=reported(figure_files(L2H_FIGURES), "l2h_figures", "l2h", "dendrograms"),
    log:
        "logs/report/tables.log",
    benchmark:
        "logs/benchmarks/report/tables.tsv"
    params:
        specs=REPORT_SPECS,
        caec_datasets=CAEC_DATASETS,
        reference_datasets=REF_DATASETS,
        order=report_order(),
        tree_figures=[
            {"tree": os.path.join(l2h_dir(ds, enc, src, s), "tree.nwk"),
             "leaves": os.path.join(l2h_dir(ds, enc, src, s), "leaves.tsv"),
             "reference": f"results/{ds}/reference.nwk" if has_reference(ds) else None,
             "out": f"{REPORT_DIR}/figures/{name}.png", "left": "hierarchy",
             "xlabel": "Ward distance from the root" if src == "agglomerative" else "L2H merge steps from the root",
             "title": f"{ds} / {enc}: {src}" + ("" if s is None else f" (seed {s})")}
            for (ds, enc, src, s), name in zip(L2H_FIGURE_RUNS, L2H_FIGURES)
        ],
        partial=REPORT_PARTIAL,
        tree_style=TREE_STYLE,
        # The L2H jobs' benchmark files (table 2): read if present, a note where not (not inputs:
        # results copied from elsewhere have none).
        l2h_benchmarks=L2H_BENCHMARK_SPECS,
        changed_settings=CHANGED_SETTINGS,  # the captions name them
        merge_expand_seeds=MERGE_EXPAND_SEEDS,  # merge_expand cells over fewer seeds print their n
        l2h_n_seeds=L2H_REPORT_SEEDS,  # trees per seeded L2H source: cells over fewer print their n
        baselines=REPORT_BASELINES,  # random-weight encoders: rows never ranked
        flat_settings=flat_report_settings(),  # tables 3-4 and fig. 1 of paper 004: choices, groups
        # Per-class CAEC tables of more classes than this: by superclass of the reference (issue 28).
        references={ds: f"results/{ds}/reference.nwk" for ds in REF_DATASETS},
        max_table_classes=config["report"]["max_table_classes"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_tables.py"


rule report_caec_figures:
    """CAEC growth curves (paper fig. 3), 2-D embedding scatters with centroids, relation trees vs reference,
    trees before vs after clustering (paper fig. 7)."""
    input:
        growth=existing_if_partial([f"results/{ds}/{enc}/caec/{m}/growth.npz" for ds, enc in RUNS for m in REPORT_CAEC_METRICS]),
        projection=existing_if_partial(expand_runs("results/{dataset}/{encoder}/projection.npz")),
        trees=existing_if_partial(
            [f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk" for ds, enc, cm, tm, pt in TREE_FIGURE_RUNS]
            + [f"results/{ds}/reference.nwk" for ds in REF_DATASETS]
        ),
        before_after=existing_if_partial(sorted(
            {f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk" for ds, enc, cm, tm, pt in BEFORE_AFTER_RUNS}
            | {f"results/{ds}/{enc}/trees/before/{tm}.nwk" for ds, enc, _, tm, _ in BEFORE_AFTER_RUNS}
        )),
    output:
        growth=reported(figure_files(GROWTH_FIGURES), "growth", "caec", "growth curves"),
        projection=reported(figure_files(PROJECTION_FIGURES), "projection", "caec", "embedding scatter"),
        trees=reported(figure_files(TREE_FIGURES), "tree_figures", "trees", "relation tree vs reference"),
        before_after=reported(figure_files(BEFORE_AFTER_FIGURES), "tree_before_after", "trees",
                              "before vs after clustering"),
    log:
        "logs/report/caec_figures.log",
    benchmark:
        "logs/benchmarks/report/caec_figures.tsv"
    params:
        growth=[
            {"growth": {m: f"results/{ds}/{enc}/caec/{m}/growth.npz" for m in REPORT_CAEC_METRICS},
             "out": f"{REPORT_DIR}/figures/{name}.png", "title": f"{ds} / {enc}: CAEC cluster growth"}
            for (ds, enc), name in zip(RUNS, GROWTH_FIGURES)
        ],
        projection=[
            {"projection": f"results/{ds}/{enc}/projection.npz", "out": f"{REPORT_DIR}/figures/{name}.png",
             "method": method, "title": f"{ds} / {enc} ({'t-SNE' if method == 'tsne' else 'PCA'})"}
            for (ds, enc, method), name in zip(PROJECTION_RUNS, PROJECTION_FIGURES)
        ],
        tree_figures=[
            {"tree": f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk", "reference": f"results/{ds}/reference.nwk",
             "out": f"{REPORT_DIR}/figures/{name}.png", "left": "relation tree",
             "xlabel": f"{tm} distance from the root (UPGMA)",
             "title": f"{ds} / {enc}: clusters {cm}, UPGMA {tm} on {pt}"}
            for (ds, enc, cm, tm, pt), name in zip(TREE_FIGURE_RUNS, TREE_FIGURES)
        ],
        before_after=[
            {"before": f"results/{ds}/{enc}/trees/before/{tm}.nwk", "after": f"results/{ds}/{enc}/trees/{cm}/{tm}/{pt}.nwk",
             "reference": f"results/{ds}/reference.nwk" if has_reference(ds) else None,
             "out": f"{REPORT_DIR}/figures/{name}.png", "left": "before clustering (UPGMA on the class centroids)",
             "right": f"after clustering (UPGMA on {'P' if pt == 'P' else 'G^f'}, clusters grown with {cm})",
             "xlabel": f"{tm} distance from the root (UPGMA)",
             "title": f"{ds} / {enc}: relation trees before and after CAEC clustering ({cm}; UPGMA {tm})"}
            for (ds, enc, cm, tm, pt), name in zip(BEFORE_AFTER_RUNS, BEFORE_AFTER_FIGURES)
        ],
        tree_style=TREE_STYLE,
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
    """Per run: 2-D PCA (and t-SNE, report.projections) of a subsample of the embeddings, with class means, G^f and P."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        clusters=expand("results/{{dataset}}/{{encoder}}/caec/{metric}/clusters.npz", metric=REPORT_CAEC_METRICS),
    output:
        "results/{dataset}/{encoder}/projection.npz",
    log:
        "logs/{dataset}/{encoder}/projection.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/projection.tsv"
    params:
        metrics=REPORT_CAEC_METRICS,
        n_max=3000,
        seed=0,
        methods=config["report"]["projections"],
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 4),
        runtime=scaled_runtime(10, 0.1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_projection.py"


rule report_findings:
    """The findings page (headline numbers of every method per run, chance levels, the planted
    control, every caution), one page per paper (which of its tables and figures the run produced) and the configuration the report was built from (+ package versions)."""
    input:
        tables=findings_inputs(),
        references=existing_if_partial([f"results/{ds}/reference.nwk" for ds in REF_DATASETS]),
    output:
        findings=reported(FINDINGS_FILES, "findings", "findings", "all runs"),
        papers=reported(PAPER_FILES, "papers", "findings", "the papers' tables and figures"),
        # Written from this job's own config, not from results/config.effective.yaml (which a later
        # failed run of another config can replace).
        run_config=reported(RUN_CONFIG_FILES, "run_config", "run", "configuration"),
    log:
        "logs/report/findings.log",
    benchmark:
        "logs/benchmarks/report/findings.tsv"
    params:
        specs={**REPORT_SPECS, **HEADS_REPORT_SPECS},
        references={ds: f"results/{ds}/reference.nwk" for ds in REF_DATASETS},
        partial=REPORT_PARTIAL,
        changed_settings=CHANGED_SETTINGS,
        runs=RUNS,
        # The report outputs this run plans (the paper pages match them against each paper's items).
        produced=[p for p in report_targets() if p not in PAPER_FILES],
        datasets=list(DATASETS),
        config=config,  # a changed config rebuilds run_config.yaml (params are a rerun trigger)
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_findings.py"


rule report_all:
    """Build only the report (findings, tables, figures of every section, heads and Merge & Expand
    included, and the run's configuration); `snakemake report_all` after a run regenerates it."""
    input:
        report_targets(),
    localrule: True


STAGE_TARGETS.append(report_targets)
