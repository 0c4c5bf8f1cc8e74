"""The report: per-run tables aggregated into paper-layout tables, and the report figures.

Pure functions from tidy ``pandas`` tables or numpy arrays to :class:`ReportTable` /
matplotlib figures; files are read only by ``load``, written only by ``formats`` and
``figures.base.save_figure``. The rule scripts (``workflow/scripts/report_*.py``) use only
the names re-exported here. Table layouts, missing results and how to add a kind of table:
``docs/design.md`` (Report).

``common``            cell markers (:data:`MISSING`, :data:`NOT_APPLICABLE`, :data:`INCOMPLETE`),
                      :data:`DIRECTIONS` (which value is bold), :data:`LABELS`, :class:`MissingResultsError`
``load``              :func:`load_run_tables`, :func:`load_families` (read the per-run TSVs),
                      :func:`load_benchmarks` (the jobs' Snakemake benchmark files)
``formats``           :func:`write_report_table` (CSV, Markdown, LaTeX, HTML), :func:`format_cells`
``tables.base``       :class:`ReportTable`, :func:`wide_table` (the pivot behind every table), :func:`best_mask`
``tables.<kind>``     ``caec``, ``trees``, ``l2h``, ``flat``, ``cross``, ``merge_expand``, ``heads``;
                      :func:`build_all_tables` (``tables/__init__.py``) lists the sections
``figures.base``      :func:`save_figure` (PNG + SVG), :func:`placeholder_figure`
``figures.<kind>``    ``heatmaps``, ``growth``, ``trees`` (tree vs reference, before vs after clustering;
                      rectangular or circular, coloured by superclass), ``projection``,
                      ``merge_expand``, ``heads``, ``l2h`` (dendrograms)
``findings``          :func:`~embtree.report.findings.build_findings` (the findings page: headline
                      numbers, chance levels, cautions), its Markdown / HTML
"""

import importlib

# Names re-exported here -> the module that defines them. Loaded on first use (PEP 562, the
# lazy-loading habit of scipy / scikit-image): a job that draws one figure imports that figure's
# module only, not every table and figure of the report (about 2.5 s and 100 MB per process).
_EXPORTS = {
    "DIRECTIONS": "embtree.report.common",
    "INCOMPLETE": "embtree.report.common",
    "LABELS": "embtree.report.common",
    "MISSING": "embtree.report.common",
    "MissingResultsError": "embtree.report.common",
    "NOT_APPLICABLE": "embtree.report.common",
    "placeholder_figure": "embtree.report.figures.base",
    "no_data_figure": "embtree.report.figures.base",
    "save_figure": "embtree.report.figures.base",
    "growth_curves": "embtree.report.figures.growth",
    "plot_growth": "embtree.report.figures.growth",
    "plot_growth_grid": "embtree.report.figures.growth",
    "plot_calibration_grid": "embtree.report.figures.heads",
    "plot_coarse_depths": "embtree.report.figures.heads",
    "plot_hzr_moves": "embtree.report.figures.heads",
    "plot_heads_sweep": "embtree.report.figures.heads",
    "plot_method_gap": "embtree.report.figures.heads",
    "plot_separability": "embtree.report.figures.heads",
    "plot_caec_heatmaps": "embtree.report.figures.heatmaps",
    "plot_flat_heatmap": "embtree.report.figures.heatmaps",
    "plot_flat_group_heatmap": "embtree.report.figures.heatmaps",
    "plot_heatmap": "embtree.report.figures.heatmaps",
    "plot_consistent_neighbours": "embtree.report.figures.merge_expand",
    "plot_me_scores": "embtree.report.figures.merge_expand",
    "plot_me_tsne": "embtree.report.figures.merge_expand",
    "plot_me_examples": "embtree.report.figures.merge_expand",
    "plot_projection": "embtree.report.figures.projection",
    "project_pca": "embtree.report.figures.projection",
    "tsne_map": "embtree.report.figures.projection",
    "plot_tree": "embtree.report.figures.trees",
    "plot_tree_pair": "embtree.report.figures.trees",
    "tree_figure": "embtree.report.figures.trees",
    "before_after_figure": "embtree.report.figures.trees",
    "draw_trees": "embtree.report.figures.trees",
    "plot_tree_circular": "embtree.report.figures.trees",
    "plot_circular_pair": "embtree.report.figures.trees",
    "baseline_encoders": "embtree.report.common",
    "caption": "embtree.report.formats",
    "format_cells": "embtree.report.formats",
    "to_csv_frame": "embtree.report.formats",
    "to_html": "embtree.report.formats",
    "to_latex": "embtree.report.formats",
    "to_markdown": "embtree.report.formats",
    "write_report_table": "embtree.report.formats",
    "load_benchmarks": "embtree.report.load",
    "load_families": "embtree.report.load",
    "load_run_tables": "embtree.report.load",
    "apply_bold": "embtree.report.tables.base",
    "best_mask": "embtree.report.tables.base",
    "mark_baselines": "embtree.report.tables.base",
    "printed_values": "embtree.report.tables.base",
    "stack_level": "embtree.report.tables.base",
    "ReportTable": "embtree.report.tables.base",
    "wide_table": "embtree.report.tables.base",
    "build_all_tables": "embtree.report.tables",
    "build_heads_tables": "embtree.report.tables.heads",
    "heads_benchmarks_table": "embtree.report.tables.heads",
    "heads_depth_table": "embtree.report.tables.heads",
    "heads_spread_table": "embtree.report.tables.heads",
    "heads_summary_table": "embtree.report.tables.heads",
    "heads_table": "embtree.report.tables.heads",
    "heads_separability_table": "embtree.report.tables.heads",
    "heads_sweep_table": "embtree.report.tables.heads",
    "angle_table": "embtree.report.tables.caec",
    "build_caec_tables": "embtree.report.tables.caec",
    "caec_metric_table": "embtree.report.tables.caec",
    "chi2_table": "embtree.report.tables.caec",
    "infiltration_table": "embtree.report.tables.caec",
    "intrusion_table": "embtree.report.tables.caec",
    "per_class_table": "embtree.report.tables.caec",
    "purity_mean_std_table": "embtree.report.tables.caec",
    "ttest_table": "embtree.report.tables.caec",
    "cross_method_table": "embtree.report.tables.cross",
    "merge_expand_table": "embtree.report.tables.merge_expand",
    "flat_table": "embtree.report.tables.flat",
    "flat_group_tables": "embtree.report.tables.flat",
    "flat_reducer_choice_table": "embtree.report.tables.flat",
    "flat_threshold_choice_table": "embtree.report.tables.flat",
    "l2h_table": "embtree.report.tables.l2h",
    "l2h_runtime_table": "embtree.report.tables.l2h",
    "build_tree_tables": "embtree.report.tables.trees",
    "tree_distance_table": "embtree.report.tables.trees",
}

__all__ = sorted(_EXPORTS)
_SUBMODULES = ("common", "load", "formats", "tables", "figures")


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
