# Report figures of the Merge & Expand stage (paper 003 fig. 3c and 4c), redrawn from the
# per-run score matrices and neighbour histograms (never from embeddings). Its table is
# built by report_tables (embtree.report.tables.merge_expand).
#
# Uses:
#   common.smk: RUNS, expand_runs
#   report_common.smk: CHANGED_SETTINGS, ME_FIGURES, REPORT_DIR, existing_if_partial,
#       figure_files, reported


localrules:
    report_merge_expand_figures,


rule report_merge_expand_figures:
    """Per run: heat maps of M1 / M2 / M3 by merged block (fig. 3c), consistent-neighbour histograms (fig. 4c)."""
    input:
        scores=existing_if_partial(expand_runs("results/{dataset}/{encoder}/merge_expand/scores.npz")),
        neighbours=existing_if_partial(expand_runs("results/{dataset}/{encoder}/merge_expand/neighbours.tsv")),
    output:
        figures=reported(figure_files(ME_FIGURES), "merge_expand_figures", "Merge & Expand"),
    log:
        "logs/report/merge_expand_figures.log",
    benchmark:
        "logs/benchmarks/report/merge_expand_figures.tsv"
    params:
        runs=[{"dataset": ds, "encoder": enc,
               "scores": f"results/{ds}/{enc}/merge_expand/scores.npz",
               "neighbours": f"results/{ds}/{enc}/merge_expand/neighbours.tsv",
               "out_scores": f"{REPORT_DIR}/figures/merge_expand/scores_{ds}_{enc}.png",
               "out_neighbours": f"{REPORT_DIR}/figures/merge_expand/neighbours_{ds}_{enc}.png"}
              for ds, enc in RUNS],
        changed_settings=CHANGED_SETTINGS,  # the captions name them
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_merge_expand.py"
