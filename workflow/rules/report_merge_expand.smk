# Report figures of the Merge & Expand stage (paper 003 figs. 3a-c and 4a-c), redrawn from the
# per-run t-SNE maps, labels, score matrices, example thumbnails and neighbour histograms (never
# from embeddings or images) of the first seed of merge_expand.seeds. Its table (mean ± std over
# every seed) is built by report_tables (embtree.report.tables.merge_expand). Part of
# report_targets (`snakemake report_all`).
#
# Uses:
#   common.smk: DATASETS, RUNS, is_image_dataset
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS, merge_expand_first_seed
#   report_common.smk: CHANGED_SETTINGS, ME_FIGURES, REPORT_DIR, existing_if_partial, figure_files,
#       reported


localrules:
    report_merge_expand_figures,


rule report_merge_expand_figures:
    """Per run, first seed: t-SNE maps (figs. 3a/b), M1-M3 (fig. 3c), example images (4a/b), consistent nbrs (4c)."""
    input:
        scores=existing_if_partial([merge_expand_first_seed(ds, enc, "scores.npz") for ds, enc in RUNS]),
        neighbours=existing_if_partial([merge_expand_first_seed(ds, enc, "neighbours.tsv") for ds, enc in RUNS]),
        labels=existing_if_partial([merge_expand_first_seed(ds, enc, "labels.npz") for ds, enc in RUNS]),
        tsne=existing_if_partial([f"results/{ds}/{enc}/merge_expand/tsne.npz" for ds, enc in RUNS]),
        examples=existing_if_partial(
            [merge_expand_first_seed(ds, enc, "examples.npz") for ds, enc in RUNS if is_image_dataset(ds)]
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
               "scores": merge_expand_first_seed(ds, enc, "scores.npz"),
               "neighbours": merge_expand_first_seed(ds, enc, "neighbours.tsv"),
               "labels": merge_expand_first_seed(ds, enc, "labels.npz"),
               "tsne": f"results/{ds}/{enc}/merge_expand/tsne.npz",
               # None: a features-only data set, which has no images to show (the figure says so).
               "examples": merge_expand_first_seed(ds, enc, "examples.npz") if is_image_dataset(ds) else None,
               "dataset_type": DATASETS[ds]["type"],
               "out_tsne": f"{REPORT_DIR}/figures/merge_expand/tsne_{ds}_{enc}.png",
               "out_scores": f"{REPORT_DIR}/figures/merge_expand/scores_{ds}_{enc}.png",
               "out_examples": f"{REPORT_DIR}/figures/merge_expand/examples_{ds}_{enc}.png",
               "out_neighbours": f"{REPORT_DIR}/figures/merge_expand/neighbours_{ds}_{enc}.png"}
              for ds, enc in RUNS],
        changed_settings=CHANGED_SETTINGS,  # the captions name them
        seeds=MERGE_EXPAND_SEEDS,  # the caption names the first, which the figures draw
        n_examples=config["report"]["merge_expand_examples"],
        tsne_samples=config["report"]["merge_expand_tsne_samples"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_merge_expand.py"
