"""Cell markers, metric directions and display names shared by every report table."""

from __future__ import annotations


MISSING = "missing"

NOT_APPLICABLE = "-"

SMALL_CLUSTER_MARK = "†"  # cell built from a CAEC cluster / run with clusters below caec.min_cluster_size
# cell whose tree score is not better than chance: p >= CHANCE_ALPHA against random trees
# (trees.null_trees; embtree.hierarchy.null)
CHANCE_MARK = "°"
CHANCE_ALPHA = 0.05
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
