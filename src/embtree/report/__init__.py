"""Aggregation of the per-run tables into paper-layout report tables, and the report figures.

Everything here is a pure function from tidy ``pandas`` DataFrames (the per-run TSVs of
``docs/design.md`` concatenated) or numpy arrays to wide tables / matplotlib figures; file
reading and writing happen only in :mod:`~embtree.report.load` (``load_run_tables``),
:mod:`~embtree.report.formats` (``write_report_table``) and ``figures.base.save_figure``.

Layout (one module per concern)
-------------------------------
``common``            cell markers (``missing``, ``-``), :data:`DIRECTIONS`, :data:`LABELS`, the error type
``load``              reading the per-run TSVs (:func:`load_run_tables`, :func:`load_families`)
``table``             :class:`ReportTable` and :func:`wide_table`, the pivot behind every table
``formats``           one table written as CSV, Markdown, LaTeX and HTML (:func:`write_report_table`)
``tables/<kind>.py``  the paper-layout tables of one kind of result: ``caec``, ``trees``, ``l2h``,
                      ``flat``, ``cross`` (cross-method), ``heads`` (paper 002, own rule); ``tables/__init__.py`` has
                      :func:`build_all_tables`, the list of report sections
``figures/<kind>.py`` figures: ``base`` (saving, placeholder), ``heatmaps``, ``growth``,
                      ``trees`` (dendrograms, tanglegrams), ``projection``

The rule scripts (``workflow/scripts/report_*.py``) use only the names re-exported here.

Adding the tables and figures of a new method
---------------------------------------------
1. ``tables/<kind>.py``: functions from the concatenated per-run table(s) to
   :class:`ReportTable` (build them with :func:`wide_table`; the metric's direction in
   :data:`DIRECTIONS` sets the bold, its header in :data:`LABELS`), and a
   ``build_<kind>_tables(...) -> list[ReportTable]``.
2. ``tables/__init__.py``: one entry ``"<kind>": build_<kind>_tables(data["<family>"], ...)``
   in :func:`build_all_tables` (``data`` / ``missing`` are keyed by the spec families of
   ``report_specs()`` in ``workflow/rules/report_common.smk``; add the family there).
3. ``workflow/rules/report.smk``: the section's output files in ``report_tables`` (wrapped in
   ``_reported`` with a caption under ``workflow/report/``).
4. Figures: ``figures/<kind>.py`` with ``plot_*`` functions returning a matplotlib Figure
   (the rule script saves it with :func:`save_figure`); re-export what a script calls here.
5. Tests in ``tests/test_report.py`` on hand-made tables; file contracts in ``docs/design.md``.

Table layouts follow the papers:

* CAEC paper (``000_...``), tables 1-18: rows = encoder x cluster metric, columns = datasets
  (or classes of one dataset, tables 3-4; tree metric x point G/P, tables 17-18);
* L2H paper (``001_...``), table 1: rows = method, columns = dataset x (NMI, ARI, ACC, LP, DP, LHD);
* clustering benchmark (``004_...``), appendix H: AMI per encoder x clusterer (x reducer),
  columns = datasets, mean +- std over seeds.

The best value of every column is set in bold, as in the papers, using the metric's direction
(:data:`DIRECTIONS`: ``"max"`` = higher is better, ``"min"`` = lower is better, ``None`` =
descriptive quantity, never bolded).

Missing results
---------------
A per-run table that is absent (or lacks rows it must have, e.g. a seed) is never silently
dropped: :func:`load_run_tables` raises :class:`MissingResultsError` naming every missing file,
unless ``partial=True``; then the affected cells are shown as ``missing`` (:data:`MISSING`).
An aggregated cell (mean over metrics or seeds) that lost some of its runs shows its value
followed by ``(incomplete)``. Cells that do not apply (e.g. an encoder not configured for a
dataset) are shown as ``-``.
"""

from embtree.report.common import DIRECTIONS, INCOMPLETE, LABELS, MISSING, NOT_APPLICABLE, MissingResultsError
from embtree.report.figures.base import placeholder_figure, save_figure
from embtree.report.figures.growth import growth_curves, plot_growth, plot_growth_grid
from embtree.report.figures.heads import plot_calibration_grid, plot_coarse_depths
from embtree.report.figures.heatmaps import plot_caec_heatmaps, plot_flat_heatmap, plot_heatmap
from embtree.report.figures.merge_expand import plot_consistent_neighbours, plot_me_scores
from embtree.report.figures.projection import plot_projection, project_pca
from embtree.report.figures.trees import parse_newick, plot_tree, plot_tree_pair, tree_figure
from embtree.report.formats import format_cells, to_csv_frame, to_html, to_latex, to_markdown, write_report_table
from embtree.report.load import load_families, load_run_tables
from embtree.report.table import ReportTable, best_mask, wide_table
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
    "parse_newick",
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
