"""The report: per-run tables aggregated into paper-layout tables, and the report figures.

Pure functions from tidy ``pandas`` tables or numpy arrays to :class:`ReportTable` /
matplotlib figures; files are read only by ``load``, written only by ``formats`` and
``figures.base.save_figure``. The rule scripts (``workflow/scripts/report_*.py``) use only
the names re-exported here. Table layouts, missing results and how to add a kind of table:
``docs/design.md`` (Report).

``common``            cell markers (:data:`MISSING`, :data:`NOT_APPLICABLE`, :data:`INCOMPLETE`),
                      :data:`DIRECTIONS` (which value is bold), :data:`LABELS`, :class:`MissingResultsError`
``load``              :func:`load_run_tables`, :func:`load_families` (read the per-run TSVs)
``formats``           :func:`write_report_table` (CSV, Markdown, LaTeX, HTML), :func:`format_cells`
``tables.base``       :class:`ReportTable`, :func:`wide_table` (the pivot behind every table), :func:`best_mask`
``tables.<kind>``     ``caec``, ``trees``, ``l2h``, ``flat``, ``cross``, ``merge_expand``, ``heads``;
                      :func:`build_all_tables` (``tables/__init__.py``) lists the sections
``figures.base``      :func:`save_figure` (PNG + SVG), :func:`placeholder_figure`
``figures.<kind>``    ``heatmaps``, ``growth``, ``trees`` (tree vs reference), ``projection``,
                      ``merge_expand``, ``heads``, ``l2h`` (dendrograms)
"""

from embtree.report.common import DIRECTIONS, INCOMPLETE, LABELS, MISSING, NOT_APPLICABLE, MissingResultsError
from embtree.report.figures.base import placeholder_figure, save_figure
from embtree.report.figures.growth import growth_curves, plot_growth, plot_growth_grid
from embtree.report.figures.heads import plot_calibration_grid, plot_coarse_depths
from embtree.report.figures.heatmaps import plot_caec_heatmaps, plot_flat_heatmap, plot_heatmap
from embtree.report.figures.merge_expand import plot_consistent_neighbours, plot_me_scores
from embtree.report.figures.projection import plot_projection, project_pca
from embtree.report.figures.trees import plot_tree, plot_tree_pair, tree_figure
from embtree.report.formats import format_cells, to_csv_frame, to_html, to_latex, to_markdown, write_report_table
from embtree.report.load import load_families, load_run_tables
from embtree.report.tables.base import ReportTable, best_mask, wide_table
from embtree.report.tables import build_all_tables
from embtree.report.tables.heads import build_heads_tables, heads_depth_table, heads_spread_table, heads_table
from embtree.report.tables.caec import (
    angle_table,
    build_caec_tables,
    caec_metric_table,
    chi2_table,
    infiltration_table,
    intrusion_table,
    per_class_table,
    purity_mean_std_table,
    ttest_table,
)
from embtree.report.tables.cross import cross_method_table
from embtree.report.tables.merge_expand import merge_expand_table
from embtree.report.tables.flat import flat_table
from embtree.report.tables.l2h import l2h_table
from embtree.report.tables.trees import build_tree_tables, tree_distance_table

__all__ = [
    "build_heads_tables",
    "heads_table",
    "heads_spread_table",
    "heads_depth_table",
    "plot_coarse_depths",
    "plot_calibration_grid",
    "merge_expand_table",
    "plot_me_scores",
    "plot_consistent_neighbours",
    "DIRECTIONS",
    "LABELS",
    "MISSING",
    "NOT_APPLICABLE",
    "INCOMPLETE",
    "MissingResultsError",
    "ReportTable",
    "load_run_tables",
    "wide_table",
    "best_mask",
    "format_cells",
    "to_markdown",
    "to_latex",
    "to_html",
    "to_csv_frame",
    "write_report_table",
    "caec_metric_table",
    "purity_mean_std_table",
    "per_class_table",
    "angle_table",
    "chi2_table",
    "ttest_table",
    "infiltration_table",
    "intrusion_table",
    "tree_distance_table",
    "l2h_table",
    "flat_table",
    "cross_method_table",
    "project_pca",
    "plot_growth",
    "plot_growth_grid",
    "growth_curves",
    "load_families",
    "placeholder_figure",
    "plot_flat_heatmap",
    "tree_figure",
    "build_caec_tables",
    "build_tree_tables",
    "build_all_tables",
    "plot_caec_heatmaps",
    "plot_tree_pair",
    "plot_tree",
    "plot_projection",
    "plot_heatmap",
    "save_figure",
]
