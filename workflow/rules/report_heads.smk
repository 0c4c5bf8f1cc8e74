# Report section of the heads stage (paper 002): heads table (table 1 layout), spread over
# heads, accuracy vs coarse depth (fig. 2 left) and calibration (fig. 3). A job of its own,
# reading only the per-run heads outputs: every seed's metrics / heads tables (the tables show
# mean ± std over heads.seeds), the first seed's labels.npz (calibration).
#
# Uses:
#   common.smk: DATASETS, STAGE_TARGETS
#   heads_common.smk: HEADS_ANCESTORS, HEADS_DATASETS, HEADS_DEPTHS, HEADS_METHODS, HEADS_SEEDS, heads_dir,
#       heads_runs, probe_path, probe_runs
#   report_common.smk: CHANGED_SETTINGS, REPORT_PARTIAL, existing_if_partial, figure_files,
#       report_order, reported, table_files, table_spec
import os

HEADS_REPORT_GRANS = ["classes"] + [f"depth{d}" for d in HEADS_DEPTHS]
HEADS_REPORT_SPECS = {
    "heads": [
        table_spec(os.path.join(heads_dir(ds, enc, m, g, s), "metrics.tsv"), dataset=ds, encoder=enc, method=m,
                   granularity=g, seed=s)
        for ds, enc in heads_runs() for m in ["kmeans"] + HEADS_METHODS for g in HEADS_REPORT_GRANS for s in HEADS_SEEDS
    ],
    "heads_spread": [
        table_spec(os.path.join(heads_dir(ds, enc, m, "classes", s), "heads.tsv"), dataset=ds, encoder=enc, method=m,
                   seed=s)
        for ds, enc in heads_runs() for m in HEADS_METHODS for s in HEADS_SEEDS
    ],
    "probe": [table_spec(probe_path(ds, enc), dataset=ds, encoder=enc) for ds, enc in probe_runs()],
}
# The calibration grid draws one run per head: the first seed's (the caption says so).
HEADS_CALIBRATION_RUNS = [
    {"path": os.path.join(heads_dir(ds, enc, m, "classes", HEADS_SEEDS[0]), "labels.npz"),
     "title": f"{ds} / {enc}: {m} (seed {HEADS_SEEDS[0]})"}
    for ds, enc in heads_runs() for m in HEADS_METHODS
]
HEADS_MULTILABEL = HEADS_ANCESTORS or any(DATASETS[ds].get("multi_labels") for ds in HEADS_DATASETS)
HEADS_TABLES = (["heads", "heads_spread"] + (["heads_depth"] if HEADS_DEPTHS else [])
                + (["heads_multilabel"] if HEADS_MULTILABEL else []))
HEADS_FIGURES = ["heads_calibration"] + (["heads_coarse_depths"] if HEADS_DEPTHS else [])


localrules:
    report_heads,


rule report_heads:
    """Heads tables (paper 002 table 1 layout, spread over heads, ACC vs coarse depth) and figures."""
    input:
        tables=existing_if_partial([s["path"] for fam in HEADS_REPORT_SPECS.values() for s in fam]),
        labels=existing_if_partial([r["path"] for r in HEADS_CALIBRATION_RUNS]),
    output:
        tables=reported(table_files(HEADS_TABLES), "heads_tables", "Deep clustering heads"),
        figures=reported(figure_files(HEADS_FIGURES), "heads_figures", "Deep clustering heads", "figures"),
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
        seeds=HEADS_SEEDS,  # cells over fewer seeds than these print their n
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/report_heads.py"


STAGE_TARGETS.append(lambda: table_files(HEADS_TABLES) + figure_files(HEADS_FIGURES) if heads_runs() else [])
