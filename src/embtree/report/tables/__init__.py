"""The paper-layout report tables, one module per kind of result; :func:`build_all_tables` lists them."""

from __future__ import annotations

import pandas as pd

from embtree.report.common import LABELS
from embtree.report.tables.base import mark_baselines, stack_level
from embtree.report.tables.caec import build_caec_tables, flag_tree_tables
from embtree.report.tables.cross import cross_method_table
from embtree.report.tables.flat import (
    flat_found_k_tables,
    flat_group_tables,
    flat_ranking_table,
    flat_reducer_choice_table,
    flat_silhouette_correlation_table,
    flat_table,
    flat_threshold_choice_table,
)
from embtree.report.tables.l2h import l2h_runtime_table, l2h_table
from embtree.report.tables.merge_expand import merge_expand_table
from embtree.report.tables.trees import build_tree_tables


def build_all_tables(data, missing, *, caec_datasets, reference_datasets, order=None, merge_expand_n_seeds=None,
                     l2h_n_seeds=None, baselines=None, l2h_benchmarks=None, flat_settings=None, references=None,
                     max_table_classes=None):
    """Every report table from the loaded families (``data`` / ``missing`` of :func:`load_families`).

    ``merge_expand_n_seeds``: the configured number of Merge & Expand seeds (``len(merge_expand.seeds)``);
    its cells averaging another number print ``(n=k)``. ``l2h_n_seeds``: {seeded L2H source: its configured
    number of trees} (the L2H and cross-method tables: mean ± std over the seeds, ``(n=k)`` where fewer).
    ``baselines``: encoders with random weights (:func:`~embtree.report.common.baseline_encoders` of the
    config's encoders): their rows are never bold and a note names them. ``l2h_benchmarks``: ``(data,
    missing)`` of :func:`~embtree.report.load.load_benchmarks` for the L2H jobs, giving the runtime
    table (paper 001 table 2) after table 1; None leaves it out. ``flat_settings``: the flat
    stage's clusterer settings, development data sets and weights, per-encoder reducers and data-set
    groups (``flat_report_settings`` of ``workflow/rules/flat_common.smk``; paper 004 tables 3-4, fig. 1).
    ``references`` ({data set: reference Newick}) and ``max_table_classes`` (``report.max_table_classes``): the
    per-class CAEC tables of a data set with a reference and more classes are shown by superclass, their CSV
    per class (:func:`~embtree.report.tables.caec.class_groups`).
    A table whose rows are encoders and columns data sets, where some encoder has not run on every data
    set, gets the data set as its first row level instead (:func:`~embtree.report.tables.base.stack_level`).
    Returns a dict section -> list of ReportTable (sections: caec, trees, l2h, flat, cross, merge_expand).
    """
    m = missing
    l2h_ref = data["l2h"]
    if len(l2h_ref):
        l2h_ref = l2h_ref[l2h_ref["dataset"].isin(reference_datasets)]
    cross_gaps = [g for f, g in m.items() if f in ("trees", "l2h") and len(g)]
    cross_missing = pd.concat(cross_gaps, ignore_index=True) if cross_gaps else None
    if cross_missing is not None:
        cross_missing = cross_missing[cross_missing["dataset"].isin(reference_datasets)]
    sections = {
        "caec": build_caec_tables(data["summary"], data["per_class"], data["infiltration"], data["intrusion"],
                                  data["ttest"], datasets=caec_datasets, missing=m, order=order,
                                  references=references, max_classes=max_table_classes),
        "trees": flag_tree_tables(build_tree_tables(data["trees"], datasets=reference_datasets, missing=m,
                                                    order=order), data["trees"], data["summary"], reference_datasets),
        "l2h": [l2h_table(data["l2h"], missing=m.get("l2h"), order=order, n_seeds=l2h_n_seeds)]
        + ([l2h_runtime_table(l2h_benchmarks[0], missing=l2h_benchmarks[1], order=order, n_seeds=l2h_n_seeds,
                              sizes=data["l2h"])] if l2h_benchmarks is not None else []),
        "flat": [flat_table(data["flat"], v, missing=m.get("flat"), order=order) for v in ("ami", "ari", "silhouette")]
        + flat_found_k_tables(data["flat"], missing=m.get("flat"), order=order, settings=flat_settings)
        + [flat_ranking_table(data["flat"], order=order), flat_silhouette_correlation_table(data["flat"], order=order),
           flat_reducer_choice_table(data["flat"], flat_settings, order=order),
           flat_threshold_choice_table(data["flat"], flat_settings, order=order)]
        + flat_group_tables(data["flat"], flat_settings, order=order),
        "cross": [cross_method_table(data["trees"], l2h_ref, missing=cross_missing, order=order,
                                     n_seeds=l2h_n_seeds)]
        if reference_datasets else [],
        "merge_expand": [merge_expand_table(data["merge_expand"], missing=m.get("merge_expand"), order=order,
                                            n_seeds=merge_expand_n_seeds, flat=data.get("flat"))]
        if "merge_expand" in data else [],
    }
    return {section: [finish_table(t, baselines) for t in tables] for section, tables in sections.items()}


#: Column header of a table whose only column level was the data set, once stacked into the rows.
_VALUE_LABELS = {"caec_purity_mean_std": "Purity", "caec_ttest": "p", "caec_ri_all": "RI (all embeddings)",
                 "caec_nmi_all": "NMI (all embeddings)"}


def finish_table(table, baselines=None):
    """The last steps every report table goes through: rows of ``baselines`` (random-weights encoders)
    unranked, then the data set moved into the rows where the runs leave the data-set columns sparse
    (the same for the ``full`` table an aggregated one writes to its CSV)."""
    if table.full is not None:
        table.full = finish_table(table.full, baselines)
    table = mark_baselines(table, baselines)
    label = _VALUE_LABELS.get(table.name) or LABELS.get(table.name.split("_", 1)[-1], table.name.split("_", 1)[-1])
    return stack_level(table, "dataset", label=label)
