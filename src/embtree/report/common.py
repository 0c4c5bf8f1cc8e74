"""Cell markers, metric directions and display names shared by every report table."""

from __future__ import annotations


MISSING = "missing"

NOT_APPLICABLE = "-"

SMALL_CLUSTER_MARK = "†"  # cell built from a CAEC cluster / run with clusters below caec.min_cluster_size
# cell whose tree score is not better than chance: p >= CHANCE_ALPHA against random trees
# (trees.null_trees; embtree.hierarchy.null)
CHANCE_MARK = "°"
CHANCE_ALPHA = 0.05
SIGNIFICANT_MARK = "*"  # a test's p-value at or below its threshold (the caption names it)
INCOMPLETE = "incomplete"  # suffix of a cell aggregated over only part of its runs (partial report)

# Higher-is-better ("max"), lower-is-better ("min"); absent / None = descriptive, never bold.
DIRECTIONS = {
    "purity": "max",
    "purity_mean": "max",
    "coverage": "max",
    "coverage_mean": "max",
    "ri": "max",
    "nmi": "max",
    "ri_all": "max",
    "nmi_all": "max",
    "ari": "max",
    "ami": "max",
    "acc": "max",
    "lp": "max",
    "dp": "max",
    "silhouette": "max",
    "lhd": "min",
    "rf": "min",
    "rf_norm": "min",
    "clade_recall": "max",
    "clade_precision": "max",
    "di": "min",
    "di_norm": "min",
    "intrusion_count": "min",
    "intrusion_fraction": "min",
}

# Display names of metrics (column headers).
LABELS = {
    "purity": "Purity",
    "purity_mean": "Purity",
    "coverage": "Coverage",
    "ri": "RI",
    "nmi": "NMI",
    "ri_all": "RI (all embeddings)",
    "nmi_all": "NMI (all embeddings)",
    "ari": "ARI",
    "ami": "AMI",
    "acc": "ACC",
    "lp": "LP",
    "dp": "DP",
    "lhd": "LHD",
    "rf": "RF",
    "rf_norm": "RF/RF_max",
    "clade_recall": "Recall",
    "clade_precision": "Precision",
    "di": "DI",
    "di_norm": "DI/DI_max",
    "silhouette": "Silhouette",
    "r_max": "r_max",
    "r_f": "r_f",
}



class MissingResultsError(ValueError):
    """A per-run table needed for the report is missing or incomplete."""


# ---------------------------------------------------------------- number formats
#
# One printed format per quantity, in every table (CSV keeps the raw numbers of the per-run tables):
#   "percent"  a score in [0, 1] (a share of samples / pairs / clades): printed x 100 with
#              SCORE_DECIMALS decimals, the std likewise; the caption says "scores in %".
#   "count"    a count (RF splits, clusters, classes): an integer; a mean over seeds one decimal.
#   "pvalue"   "< 0.001", else three significant digits (0.0206, 0.500).
#   "fixed"    a quantity in its own unit (distances, radii, angles, silhouette): ``decimals``.
SCORE_DECIMALS = 1
PVALUE_FLOOR = 0.001
_PERCENT = ("percent", SCORE_DECIMALS)
FORMATS = {
    **{m: _PERCENT for m in ("purity", "purity_mean", "coverage", "coverage_mean", "ri", "nmi", "ri_all", "nmi_all",
                             "ari", "ami", "acc", "lp", "dp", "clade_recall", "clade_precision", "top5_acc",
                             "msp_mean", "ece", "clean_fraction", "intrusion_fraction", "noise_fraction")},
    **{m: _PERCENT for m in ("acc_all", "acc_clean", "acc_unclean", "ami_all", "top1_l", "top5_l")},
    "rf": ("count", 0),
    "n_classes": ("count", 0),
    "n_clusters": ("count", 0),
    "intrusion_count": ("count", 0),
    "di": ("fixed", 2),
    "di_norm": ("fixed", 3),  # a bounded distance, often < 0.01
    "lhd": ("fixed", 2),
    "silhouette": ("fixed", 2),
    "r_max": ("fixed", 2),
    "r_f": ("fixed", 2),
    "p": ("pvalue", 3),
}

#: The one meaning of bold in every table (the caption says it).
BOLD_RULE = ("Bold: the best value of its column among comparable rows{scope}, compared as printed; "
             "none where more than half of those rows tie for it or only one row has a value; never "
             "given to marked cells (†, °, (n=k), incomplete){unranked}.")
PERCENT_RULE = "Scores in [0, 1] are printed in % ({d} decimal{s}); the CSV keeps them as fractions."


def baseline_encoders(encoders):
    """The encoders of ``encoders`` (the config's ``encoders`` mapping) with random weights: ``pretrained:
    false`` and no ``checkpoint``. They are structural baselines, not findings: the tables never bold
    their rows (:func:`embtree.report.tables.base.mark_baselines`)."""
    if not isinstance(encoders, dict):
        raise ValueError(f"encoders must be the config's encoders mapping, got {type(encoders).__name__}")
    return [name for name, cfg in encoders.items()
            if isinstance(cfg, dict) and cfg.get("pretrained") is False and not cfg.get("checkpoint")]
