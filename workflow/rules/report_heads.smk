# Report section of the heads stage (paper 002): heads table (table 1 layout), spread over
# heads, accuracy vs coarse depth (fig. 2 left) and calibration (fig. 3). A job of its own,
# reading only the per-run heads outputs listed in report_common.smk (HEADS_REPORT_SPECS); its
# outputs are part of report_targets (`snakemake report_all` rebuilds them).
#
# Uses:
#   heads_common.smk: HEADS_DEPTHS, HEADS_SEEDS
#   report_common.smk: CHANGED_SETTINGS, HEADS_ANALYSIS_FIGURES, HEADS_ANALYSIS_SPECS, HEADS_ANALYSIS_TABLES,
#       HEADS_CALIBRATION_RUNS, HEADS_FIGURES, HEADS_MULTILABEL,
#       HEADS_REPORT_SPECS, HEADS_TABLES, REPORT_BASELINES, REPORT_PARTIAL, caption_file, existing_if_partial, figure_files,
#       report_order, reported, table_files, tables_by_dataset


localrules:
    report_heads,
    report_heads_analysis,


rule report_heads:
    """Heads tables (paper 002 table 1 layout, spread over heads, ACC vs coarse depth) and figures."""
    input:
        tables=existing_if_partial([s["path"] for fam in HEADS_REPORT_SPECS.values() for s in fam]),
        labels=existing_if_partial([r["path"] for r in HEADS_CALIBRATION_RUNS]),
        captions=[caption_file("heads_tables")],
    output:
        tables=reported(table_files(HEADS_TABLES), "heads_tables", "heads", tables_by_dataset),
        figures=reported(figure_files(HEADS_FIGURES), "heads_figures", "heads", "figures"),
    log:
        "logs/report/heads.log",
    benchmark:
        "logs/benchmarks/report/heads.tsv"
    params:
        specs=HEADS_REPORT_SPECS,
        calibration=HEADS_CALIBRATION_RUNS,
        order=report_order(),
        partial=REPORT_PARTIAL,
        changed_settings=CHANGED_SETTINGS,  # the captions name them
        multilabel=HEADS_MULTILABEL,
        coarse=bool(HEADS_DEPTHS),  # heads.depths: the heads_depth table is an output
        seeds=HEADS_SEEDS,  # cells over fewer seeds than these print their n
        baselines=REPORT_BASELINES,  # random-weight encoders: rows never ranked
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_heads.py"


rule report_heads_analysis:
    """Heads analyses of paper 002: sweeps of k and of over-clustering (figs. 5-6), TEMI - SCANv2 per encoder (fig. 3 right), class separability (fig. 4)."""
    input:
        tables=existing_if_partial([s["path"] for fam in HEADS_ANALYSIS_SPECS.values() for s in fam]),
        captions=[caption_file("heads_analysis")],
    output:
        tables=reported(table_files(HEADS_ANALYSIS_TABLES), "heads_analysis", "heads", tables_by_dataset),
        figures=reported(figure_files(HEADS_ANALYSIS_FIGURES), "heads_analysis", "heads", "figures"),
    log:
        "logs/report/heads_analysis.log",
    benchmark:
        "logs/benchmarks/report/heads_analysis.tsv"
    params:
        specs=HEADS_ANALYSIS_SPECS,
        order=report_order(),
        partial=REPORT_PARTIAL,
        changed_settings=CHANGED_SETTINGS,  # the captions name them
        seeds=HEADS_SEEDS,  # cells over fewer seeds than these print their n
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_heads_analysis.py"
