# Helpers of the report stage (report.smk): which per-run outputs the report reads and
# which tables / figures it writes, all derived from config. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Uses:
#   common.smk: CONFIG_SCHEMA, DATASETS, RUNS, has_reference
#   flat_common.smk: flat_pairs
#   heads_common.smk: HEADS_ANCESTORS, HEADS_DATASETS, HEADS_DEPTHS, HEADS_HZR, HEADS_METHODS, HEADS_SEEDS,
#       HEADS_VARIANTS, heads_dir, heads_runs, heads_sweep, hzr_path, probe_path, probe_runs, probe_variants_path,
#       separability_path, separability_runs
#   l2h_common.smk: L2H_SEEDED, l2h_benchmark, l2h_dir, l2h_first_runs, l2h_runs, l2h_seeds, l2h_sources
#   merge_expand_common.smk: MERGE_EXPAND_SEEDS, merge_expand_dir
import os

REPORT_DIR = "results/report"
# Defaults come from the schema (validate() in common.smk fills them).
REPORT_PARTIAL = bool(config["report"]["partial"])
REPORT_CAEC_METRICS = list(config["caec"]["metrics"])
REPORT_TREE_METRICS = list(config["trees"]["metrics"])
REPORT_TREE_POINTS = list(config["trees"]["points"])
REPORT_FLAT = config["flat"]


def report_l2h_sources(dataset, encoder):
    """L2H sources of a run (logit sources + the agglomerative baseline), as decided in l2h.smk."""
    return list(l2h_sources(dataset, encoder))


def report_order():
    """Display order of the row / column keys: the order of the config."""
    return {
        "dataset": list(DATASETS),
        "encoder": list(dict.fromkeys(enc for _, enc in RUNS)),
        "metric": REPORT_CAEC_METRICS,
        "cluster_metric": REPORT_CAEC_METRICS + ["before"],
        "tree_metric": REPORT_TREE_METRICS,
        "point": REPORT_TREE_POINTS,
        "source": sorted({s for ds, enc in RUNS for s in report_l2h_sources(ds, enc)},
                         key=["classifier", "kmeans", "temi", "scanv2", "agglomerative"].index),
        "reducer": list(REPORT_FLAT.get("reducers", [])),
        "clusterer": list(REPORT_FLAT.get("clusterers", [])),
    }


def table_spec(path, expect=None, may_be_empty=False, **keys):
    spec = {"path": path, "keys": keys}
    if expect:
        spec["expect"] = expect
    if may_be_empty:
        spec["may_be_empty"] = True
    return spec


def _ref_runs():
    return [(ds, enc) for ds, enc in RUNS if has_reference(ds)]


def report_specs():
    """Every per-run table the report reads, by family: {family: [spec, ...]} (see embtree.report)."""
    caec = lambda ds, enc, m, f: f"results/{ds}/{enc}/caec/{m}/{f}"
    # A run without infiltrated / intrusive classes writes those tables with a header only.
    specs = {
        fam: [table_spec(caec(ds, enc, m, f"{fam}.tsv"), dataset=ds, encoder=enc, metric=m,
                    may_be_empty=fam in ("infiltration", "intrusion"))
              for ds, enc in RUNS for m in REPORT_CAEC_METRICS]
        for fam in ("summary", "per_class", "infiltration", "intrusion")
    }
    specs["ttest"] = (
        [table_spec(f"results/{ds}/{enc}/caec/ttest.tsv", dataset=ds, encoder=enc) for ds, enc in RUNS]
        if len(REPORT_CAEC_METRICS) > 1 else []
    )
    trees = []
    for ds, enc in _ref_runs():
        base = f"results/{ds}/{enc}/trees"
        for tm in REPORT_TREE_METRICS:
            trees.append(table_spec(f"{base}/before/{tm}.tsv", dataset=ds, encoder=enc,
                               cluster_metric="before", tree_metric=tm))
            for cm in REPORT_CAEC_METRICS:
                for pt in REPORT_TREE_POINTS:
                    trees.append(table_spec(f"{base}/{cm}/{tm}/{pt}.tsv", dataset=ds, encoder=enc,
                                       cluster_metric=cm, tree_metric=tm, point=pt))
    specs["trees"] = trees
    # One metrics.tsv per seed of a seeded source (the tables show mean ± std over them).
    specs["l2h"] = [
        table_spec(os.path.join(l2h_dir(ds, enc, src, s), "metrics.tsv"), dataset=ds, encoder=enc, source=src,
                   **({} if s is None else {"seed": s}))
        for ds, enc in RUNS for src, s in l2h_runs(ds, enc)
    ]
    specs["flat"] = [
        table_spec(f"results/{ds}/{enc}/flat/{red}/{clu}/metrics.tsv", expect={"seed": list(REPORT_FLAT["seeds"])},
              dataset=ds, encoder=enc, reducer=red, clusterer=clu)
        for ds, enc in RUNS for red, clu in flat_pairs(ds, enc)
    ]
    # One metrics.tsv per seed of merge_expand.seeds (the table shows mean ± std over them).
    specs["merge_expand"] = [
        table_spec(os.path.join(merge_expand_dir(ds, enc, s), "metrics.tsv"), dataset=ds, encoder=enc, seed=s)
        for ds, enc in RUNS for s in MERGE_EXPAND_SEEDS
    ]
    return specs


REPORT_SPECS = report_specs()
# The L2H jobs' Snakemake benchmark files (paper 001 table 2, runtime): read when present, never required
# (embtree.report.load.load_benchmarks), so they are params of the report job, not inputs.
L2H_BENCHMARK_SPECS = [
    table_spec(l2h_benchmark(ds, enc, src, s), dataset=ds, encoder=enc, source=src, **({} if s is None else {"seed": s}))
    for ds, enc in RUNS for src, s in l2h_runs(ds, enc)
]
# How the report draws trees (report.tree_figures: layout, superclass colours, collapsing).
TREE_STYLE = dict(config["report"]["tree_figures"])


def report_inputs(*families):
    """Input paths of the given spec families; with report.partial only those that exist."""
    paths = [s["path"] for fam in families for s in REPORT_SPECS[fam]]
    if REPORT_PARTIAL:
        paths = [p for p in paths if os.path.exists(p)]
    return paths


def table_files(names):
    return [f"{REPORT_DIR}/{n}.{ext}" for n in names for ext in ("csv", "md", "tex", "html")]


def tables_by_dataset(path):
    """Report subcategory of a table: "tables: <dataset>" for a per-data-set table, else all."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    hits = [ds for ds in DATASETS if stem.endswith(f"_{ds}")]
    return f"tables: {max(hits, key=len)}" if hits else "tables: all data sets"


# The report's sections (its sidebar folders), by method. Snakemake's HTML report lists its
# categories in alphabetical order, so each name starts with its place: Findings first, the run's
# configuration last. workflow/report/workflow.rst links every one of them.
REPORT_CATEGORIES = {
    "findings": "1. Findings",
    "caec": "2. CAEC clusters",
    "trees": "3. Relation trees",
    "l2h": "4. L2H hierarchies",
    "flat": "5. Flat clustering",
    "heads": "6. Deep clustering heads",
    "merge_expand": "7. Merge & Expand",
    "cross": "8. Comparison",
    "run": "9. Run",
}


def reported(paths, caption, section, subcategory, suffixes=(".html", ".png")):
    """Wrap the .html tables / .png figures of ``paths`` for the HTML report; keep the rest plain.

    Tables go in as their .html page (rounded, best values bold, as in the Markdown, the caption
    above the table), not the .csv, which the report would show raw. ``section``: a key of
    REPORT_CATEGORIES. ``subcategory``: a string, or a function of the path (e.g. the data set a
    table or figure is about), so items are grouped in named folders (never "Other").
    """
    if section not in REPORT_CATEGORIES:
        raise ValueError(f"section={section!r} should be one of {sorted(REPORT_CATEGORIES)}")
    if not subcategory:
        raise ValueError(f"{caption}: every reported output needs a subcategory (else the report names it Other)")

    # (`report` may not start a line in a Snakefile: the parser reads it as the directive.)
    def flag(p):
        sub = subcategory(p) if callable(subcategory) else subcategory
        return report(p, caption=f"../report/{caption}.rst", category=REPORT_CATEGORIES[section], subcategory=sub)

    return [flag(p) if p.endswith(tuple(suffixes)) else p for p in paths]


# workflow/report/ (this file is workflow/rules/report_common.smk; read while it is parsed).
CAPTION_DIR = os.path.normpath(os.path.join(str(workflow.current_basedir), "..", "report"))


def caption_file(caption):
    """The caption file of a report item (workflow/report/<caption>.rst): the table pages carry it."""
    return os.path.join(CAPTION_DIR, f"{caption}.rst")


CAEC_DATASETS = [ds for ds in DATASETS if any(d == ds for d, _ in RUNS)]
REF_DATASETS = list(dict.fromkeys(ds for ds, _ in _ref_runs()))
CAEC_TABLES = (
    ["caec_purity", "caec_purity_mean_std", "caec_ri", "caec_nmi", "caec_angles", "caec_chi2", "caec_ttest",
     "caec_assumptions"]
    + [f"caec_{t}_{ds}" for ds in CAEC_DATASETS for t in ("r_max", "coverage", "infiltration", "intrusion")]
)
# embtree.report.tables.trees.REPORTED_TREE_VALUES
TREE_TABLES = [f"trees_{v}_{ds}" for ds in REF_DATASETS for v in ("rf", "clade_recall", "clade_precision", "di", "di_norm")]
# embtree.report.tables.build_all_tables' flat section (paper 004: AMI, ARI, silhouette; tables 16-19;
# fig. 6; section 4.6; tables 3-4: reducer and threshold choice; fig. 1: by data-set group)
FLAT_TABLES = ["flat_ami", "flat_ari", "flat_silhouette", "flat_n_clusters", "flat_noise_fraction", "flat_ranking",
               "flat_silhouette_ami", "flat_reducer_choice", "flat_threshold_choice", "flat_groups", "flat_group_ranks"]
CROSS_TABLES = ["cross_method"] if REF_DATASETS else []
ME_TABLES = ["merge_expand"]


def figure_files(names):
    return [f"{REPORT_DIR}/figures/{n}.{ext}" for n in names for ext in ("png", "svg")]


HEATMAP_FIGURES = ["caec_heatmap", "flat_ami_heatmap", "flat_groups"]
GROWTH_FIGURES = [f"growth/growth_{ds}_{enc}" for ds, enc in RUNS]
# (dataset, encoder, method) of every embedding map (report.projections); PCA keeps its old name.
PROJECTION_RUNS = [(ds, enc, m) for ds, enc in RUNS for m in config["report"]["projections"]]
PROJECTION_FIGURES = [f"projection/{'projection' if m == 'pca' else m}_{ds}_{enc}" for ds, enc, m in PROJECTION_RUNS]
# Relation tree next to the reference, one per run and cluster metric: the tree built with
# the cluster metric itself (the table's diagonal; else the first tree metric) on the manifold
# mean points P (else the first point set). The tables hold every combination; drawing all
# of them would dominate report regeneration time.
_FIGURE_POINT = "P" if "P" in REPORT_TREE_POINTS else REPORT_TREE_POINTS[0]
TREE_FIGURE_RUNS = [
    (ds, enc, cm, cm if cm in REPORT_TREE_METRICS else REPORT_TREE_METRICS[0], _FIGURE_POINT)
    for ds, enc in _ref_runs() for cm in REPORT_CAEC_METRICS
]
TREE_FIGURES = [f"trees/tree_{ds}_{enc}_{cm}_{tm}_{pt}" for ds, enc, cm, tm, pt in TREE_FIGURE_RUNS]
# CAEC fig. 7: the tree before clustering (class centroids) beside the one after it, one per run and
# cluster metric (every run: no reference needed; the tree metric and point as TREE_FIGURE_RUNS).
BEFORE_AFTER_RUNS = [
    (ds, enc, cm, cm if cm in REPORT_TREE_METRICS else REPORT_TREE_METRICS[0], _FIGURE_POINT)
    for ds, enc in RUNS for cm in REPORT_CAEC_METRICS
]
BEFORE_AFTER_FIGURES = [f"trees/before_after_{ds}_{enc}_{cm}_{tm}_{pt}" for ds, enc, cm, tm, pt in BEFORE_AFTER_RUNS]
# One dendrogram per source: a seeded source's first seed (the caption says so).
L2H_FIGURE_RUNS = [(ds, enc, src, s) for ds, enc in RUNS for src, s in l2h_first_runs(ds, enc)]
L2H_FIGURES = [f"l2h/l2h_{ds}_{enc}_{src}" for ds, enc, src, _ in L2H_FIGURE_RUNS]
# The configured number of trees per L2H source (l2h_seeds): a cell averaging fewer prints (n=k).
L2H_REPORT_SEEDS = {src: len(l2h_seeds(src)) for src in L2H_SEEDED}
# Per run: t-SNE maps (figs. 3a/b), score heat maps (fig. 3c), example images (figs. 4a/b; a
# features-only run's figure says why it has none), consistent neighbours (fig. 4c).
ME_FIGURES = [f"merge_expand/{kind}_{ds}_{enc}" for ds, enc in RUNS
              for kind in ("tsne", "scores", "examples", "neighbours")]


def existing_if_partial(paths):
    """Figure inputs; with report.partial only those that exist (the script draws the gaps)."""
    return [p for p in paths if os.path.exists(p)] if REPORT_PARTIAL else paths


# Heads report section (paper 002): every seed's metrics / heads tables (the tables show mean ± std
# over heads.seeds), the first seed's labels.npz (calibration).
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
    # how the neighbours were mined (heads.knn_backend) and their recall: a note on tables 1
    "knn": [table_spec(f"results/{ds}/{enc}/heads/knn_recall.tsv", dataset=ds, encoder=enc) for ds, enc in heads_runs()],
}
if HEADS_HZR:  # paper 002 table 2 and the relabelling figure (figs. 1, 9, 10)
    HEADS_REPORT_SPECS.update({
        "hzr": [table_spec(hzr_path(ds, enc, "variants.tsv"), dataset=ds, encoder=enc) for ds, enc in heads_runs()],
        "hzr_moves": [table_spec(hzr_path(ds, enc, "moves.tsv"), may_be_empty=True, dataset=ds, encoder=enc)
                      for ds, enc in heads_runs()],
        "probe_variants": [table_spec(probe_variants_path(ds, enc), may_be_empty=True, dataset=ds, encoder=enc)
                           for ds, enc in probe_runs()],
    })
# The calibration grid draws one run per head: the first seed's (the caption says so).
HEADS_CALIBRATION_RUNS = [
    {"path": os.path.join(heads_dir(ds, enc, m, "classes", HEADS_SEEDS[0]), "labels.npz"),
     "title": f"{ds} / {enc}: {m} (seed {HEADS_SEEDS[0]})"}
    for ds, enc in heads_runs() for m in HEADS_METHODS
]
HEADS_MULTILABEL = HEADS_ANCESTORS or any(DATASETS[ds].get("multi_labels") for ds in HEADS_DATASETS)
HEADS_TABLES = (["heads_summary", "heads", "heads_spread"] + (["heads_benchmarks"] if HEADS_HZR else [])
                + (["heads_depth"] if HEADS_DEPTHS else []) + (["heads_multilabel"] if HEADS_MULTILABEL else []))
HEADS_FIGURES = (["heads_calibration"] + (["heads_coarse_depths"] if HEADS_DEPTHS else [])
                 + (["heads_hzr_moves"] if HEADS_HZR else []))

# Heads analyses (paper 002, report_heads_analysis): the sweeps of heads.knn / heads.n_clusters
# (figs. 5-6; the main run is each sweep's point at the list's first value), TEMI - SCANv2 per
# encoder (fig. 3 right) and class separability per encoder (fig. 4).
def _heads_sweep_specs():
    specs = []
    for ds, enc in heads_runs():
        sweep = heads_sweep(ds)
        names = {(key, value): v for v, (key, value) in HEADS_VARIANTS[ds].items()}
        for key, values in sweep.items():
            if len(values) < 2:
                continue
            methods = HEADS_METHODS + (["kmeans"] if key == "n_clusters" else [])
            grans = HEADS_REPORT_GRANS if key == "knn" else ["classes"]
            for i, value in enumerate(values):
                variant = None if i == 0 else names[(key, value)]
                specs += [table_spec(os.path.join(heads_dir(ds, enc, m, g, s, variant), "metrics.tsv"), dataset=ds,
                                     encoder=enc, method=m, granularity=g, seed=s, sweep=key, sweep_value=str(value))
                          for m in methods for g in grans for s in HEADS_SEEDS]
            if key == "knn":  # k-means uses no neighbours: its main runs are the reference line
                specs += [table_spec(os.path.join(heads_dir(ds, enc, "kmeans", g, s), "metrics.tsv"), dataset=ds,
                                     encoder=enc, method="kmeans", granularity=g, seed=s, sweep=key, sweep_value="")
                          for g in grans for s in HEADS_SEEDS]
    return specs


HEADS_ANALYSIS_SPECS = {
    "heads": HEADS_REPORT_SPECS["heads"],
    "probe": HEADS_REPORT_SPECS["probe"],
    "sweep": _heads_sweep_specs(),
    "separability": [table_spec(separability_path(ds, enc), dataset=ds, encoder=enc) for ds, enc in separability_runs()],
}
HEADS_SWEEPS = [k for k in ("knn", "n_clusters") if any(s["keys"]["sweep"] == k for s in HEADS_ANALYSIS_SPECS["sweep"])]
_SWEEP_NAMES = {"knn": "heads_knn_sweep", "n_clusters": "heads_overclustering"}  # tables.heads.SWEEP_NAMES
HEADS_ANALYSIS_TABLES = ([_SWEEP_NAMES[k] for k in HEADS_SWEEPS]
                         + (["heads_separability"] if HEADS_ANALYSIS_SPECS["separability"] else []))
HEADS_ANALYSIS_FIGURES = ([_SWEEP_NAMES[k] for k in HEADS_SWEEPS]
                          + (["heads_gap"] if {"temi", "scanv2"} <= set(HEADS_METHODS) else [])
                          + (["heads_separability"] if HEADS_ANALYSIS_SPECS["separability"] else []))

# The findings page (embtree.report.findings) and the configuration the report was built from.
FINDINGS_FILES = [f"{REPORT_DIR}/findings.md", f"{REPORT_DIR}/findings.html"]
# One page per paper (embtree.report.papers): which of its tables and figures this run produced.
from embtree.report.papers import PAPERS as _PAPERS

PAPER_FILES = [f"{REPORT_DIR}/papers/{key}.{ext}" for key in _PAPERS for ext in ("md", "html")]
# run_config.yaml, and the same as an HTML page (the HTML report shows .html inline, a .yaml only as a download).
RUN_CONFIG_FILES = [f"{REPORT_DIR}/run_config.yaml", f"{REPORT_DIR}/run_config.html"]


def findings_inputs():
    """Every per-run table the findings page reads (with report.partial only those that exist)."""
    paths = [s["path"] for specs in (REPORT_SPECS, HEADS_REPORT_SPECS) for fam in specs.values() for s in fam]
    return [p for p in paths if os.path.exists(p)] if REPORT_PARTIAL else paths


def report_targets():
    """Every report table and figure, the findings page and the run's configuration (`snakemake
    report_all`; the `report` stage target): the heads and Merge & Expand sections included."""
    heads = heads_runs()  # no heads run (heads.datasets: []): no heads section
    return (
        FINDINGS_FILES + PAPER_FILES + RUN_CONFIG_FILES
        + table_files(CAEC_TABLES + TREE_TABLES + ["l2h", "l2h_runtime"] + FLAT_TABLES + CROSS_TABLES + ME_TABLES
                      + (HEADS_TABLES if heads else [])
                      + (HEADS_ANALYSIS_TABLES if heads else []))
        + figure_files(HEATMAP_FIGURES + GROWTH_FIGURES + PROJECTION_FIGURES + TREE_FIGURES + BEFORE_AFTER_FIGURES
                       + L2H_FIGURES
                       + ME_FIGURES + (HEADS_FIGURES if heads else [])
                       + (HEADS_ANALYSIS_FIGURES if heads else []))
    )


# Settings of this run that differ from the schema's defaults (the papers'), per section:
# the report captions name them, so that a shortened run (config/config.yaml is a tour)
# never reads as the papers' setup (embtree.settings).
from embtree.settings import changed_settings as _changed_settings

CHANGED_SETTINGS = _changed_settings(config, CONFIG_SCHEMA)

# Encoders with random weights (pretrained: false, no checkpoint): structural baselines, whose rows
# the tables and heatmaps never rank (embtree.report.common.baseline_encoders).
from embtree.report.common import baseline_encoders as _baseline_encoders

REPORT_BASELINES = _baseline_encoders(config.get("encoders") or {})
