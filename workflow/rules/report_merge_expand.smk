# Report figures of the Merge & Expand stage (paper 003 fig. 3c and 4c), redrawn from the
# per-run score matrices and neighbour histograms (never from embeddings) of the first seed of
# merge_expand.seeds. Its table (mean ± std over every seed) is built by report_tables
# (embtree.report.tables.merge_expand). Part of report_targets (`snakemake report_all`).
#
# Uses:
#   common.smk: RUNS
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS, merge_expand_dir
#   report_common.smk: CHANGED_SETTINGS, ME_FIGURES, REPORT_DIR, existing_if_partial, figure_files,
#       reported
import os


localrules:
    report_merge_expand_figures,


rule report_merge_expand_figures:
    """Per run, first seed: heat maps of M1 / M2 / M3 by merged block (fig. 3c), consistent-neighbour histograms (fig. 4c)."""
    input:
        scores=existing_if_partial(
            [os.path.join(merge_expand_dir(ds, enc, MERGE_EXPAND_SEEDS[0]), "scores.npz") for ds, enc in RUNS]
        ),
        neighbours=existing_if_partial(
            [os.path.join(merge_expand_dir(ds, enc, MERGE_EXPAND_SEEDS[0]), "neighbours.tsv") for ds, enc in RUNS]
        ),
    output:
        figures=reported(figure_files(ME_FIGURES), "merge_expand_figures", "merge_expand", "figures"),
    log:
        "logs/report/merge_expand_figures.log",
    benchmark:
        "logs/benchmarks/report/merge_expand_figures.tsv"
    params:
        # One run each: the first seed's (the caption says so; the table averages every seed).
        runs=[{"dataset": ds, "encoder": enc, "seed": MERGE_EXPAND_SEEDS[0],
               "scores": os.path.join(merge_expand_dir(ds, enc, MERGE_EXPAND_SEEDS[0]), "scores.npz"),
               "neighbours": os.path.join(merge_expand_dir(ds, enc, MERGE_EXPAND_SEEDS[0]), "neighbours.tsv"),
               "out_scores": f"{REPORT_DIR}/figures/merge_expand/scores_{ds}_{enc}.png",
               "out_neighbours": f"{REPORT_DIR}/figures/merge_expand/neighbours_{ds}_{enc}.png"}
              for ds, enc in RUNS],
        changed_settings=CHANGED_SETTINGS,  # the captions name them
        seeds=MERGE_EXPAND_SEEDS,  # the caption names the first, which the figures draw
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_merge_expand.py"
