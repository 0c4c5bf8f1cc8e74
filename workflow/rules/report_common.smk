# Helpers of the report stage (report.smk): which per-run outputs the report reads and
# which tables / figures it writes, all derived from config. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Uses:
#   common.smk: CONFIG_SCHEMA, DATASETS, RUNS, has_reference
#   flat_common.smk: flat_pairs
#   l2h_common.smk: L2H_SEEDED, l2h_dir, l2h_first_runs, l2h_runs, l2h_seeds, l2h_sources
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
        for ds, enc in RUNS for red, clu in flat_pairs()
    ]
    # One metrics.tsv per seed of merge_expand.seeds (the table shows mean ± std over them).
    specs["merge_expand"] = [
        table_spec(os.path.join(merge_expand_dir(ds, enc, s), "metrics.tsv"), dataset=ds, encoder=enc, seed=s)
        for ds, enc in RUNS for s in MERGE_EXPAND_SEEDS
    ]
    return specs


REPORT_SPECS = report_specs()


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


def reported(paths, caption, category, subcategory=None):
    """Wrap the .html tables / .png figures of ``paths`` for the HTML report; keep the rest plain.

    Tables go in as their .html page (rounded, best values bold, as in the Markdown), not the
    .csv, which the report would show raw. ``subcategory``: a string, or a function of the
    path (e.g. the data set a table or figure is about), so items are grouped, not listed flat.
    """
    # (`report` may not start a line in a Snakefile: the parser reads it as the directive.)
    def flag(p):
        sub = subcategory(p) if callable(subcategory) else subcategory
        extra = {"subcategory": sub} if sub else {}
        return report(p, caption=f"../report/{caption}.rst", category=category, **extra)

    return [flag(p) if p.endswith((".html", ".png")) else p for p in paths]


CAEC_DATASETS = [ds for ds in DATASETS if any(d == ds for d, _ in RUNS)]
REF_DATASETS = list(dict.fromkeys(ds for ds, _ in _ref_runs()))
CAEC_TABLES = (
    ["caec_purity", "caec_purity_mean_std", "caec_ri", "caec_nmi", "caec_angles", "caec_chi2", "caec_ttest"]
    + [f"caec_{t}_{ds}" for ds in CAEC_DATASETS for t in ("r_max", "coverage", "infiltration", "intrusion")]
)
# embtree.report.tables.trees.REPORTED_TREE_VALUES
TREE_TABLES = [f"trees_{v}_{ds}" for ds in REF_DATASETS for v in ("rf", "clade_recall", "clade_precision", "di", "di_norm")]
FLAT_TABLES = ["flat_ami", "flat_silhouette"]
CROSS_TABLES = ["cross_method"] if REF_DATASETS else []
ME_TABLES = ["merge_expand"]


def figure_files(names):
    return [f"{REPORT_DIR}/figures/{n}.{ext}" for n in names for ext in ("png", "svg")]


HEATMAP_FIGURES = ["caec_heatmap", "flat_ami_heatmap"]
GROWTH_FIGURES = [f"growth/growth_{ds}_{enc}" for ds, enc in RUNS]
PROJECTION_FIGURES = [f"projection/projection_{ds}_{enc}" for ds, enc in RUNS]
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
# One dendrogram per source: a seeded source's first seed (the caption says so).
L2H_FIGURE_RUNS = [(ds, enc, src, s) for ds, enc in RUNS for src, s in l2h_first_runs(ds, enc)]
L2H_FIGURES = [f"l2h/l2h_{ds}_{enc}_{src}" for ds, enc, src, _ in L2H_FIGURE_RUNS]
# The configured number of trees per L2H source (l2h_seeds): a cell averaging fewer prints (n=k).
L2H_REPORT_SEEDS = {src: len(l2h_seeds(src)) for src in L2H_SEEDED}
ME_FIGURES = [f"merge_expand/{kind}_{ds}_{enc}" for ds, enc in RUNS for kind in ("scores", "neighbours")]


def existing_if_partial(paths):
    """Figure inputs; with report.partial only those that exist (the script draws the gaps)."""
    return [p for p in paths if os.path.exists(p)] if REPORT_PARTIAL else paths


def report_targets():
    """Every report table and figure (the `report` stage target)."""
    return table_files(CAEC_TABLES + TREE_TABLES + ["l2h"] + FLAT_TABLES + CROSS_TABLES + ME_TABLES) + figure_files(
        HEATMAP_FIGURES + GROWTH_FIGURES + PROJECTION_FIGURES + TREE_FIGURES + L2H_FIGURES + ME_FIGURES
    )


# Settings of this run that differ from the schema's defaults (the papers'), per section:
# the report captions name them, so that a shortened run (config/config.yaml is a tour)
# never reads as the papers' setup (embtree.settings).
from embtree.settings import changed_settings as _changed_settings

CHANGED_SETTINGS = _changed_settings(config, CONFIG_SCHEMA)
