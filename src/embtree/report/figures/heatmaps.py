"""Annotated heatmaps of report tables: any numeric table, the CAEC summary, flat clustering.

Cells the table flags are marked the way the table prints them, so a bright colour never
hides a caveat: cells built from degenerate input (:attr:`ReportTable.flagged`, ``†``) are
hatched ``///`` and tree scores not better than chance (:attr:`ReportTable.chance`, ``°``)
are hatched ``\\\\\\``; the mark follows the value in the cell and the table's own note for
each mark is printed under the figure. Rows the table leaves unranked (random-weights
encoders, :attr:`ReportTable.unranked`) are dotted ``...``. The figures never decide what is
flagged: they draw the flags of the tables (:func:`embtree.report.tables.base.flag_cells`,
:func:`~embtree.report.tables.base.mark_chance`).
"""

from __future__ import annotations

import textwrap

import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from embtree.report.common import CHANCE_MARK, LABELS, MISSING, SMALL_CLUSTER_MARK
from embtree.report.figures.base import no_data_figure
from embtree.report.tables.base import ReportTable, mark_baselines, wide_table
from embtree.report.tables.caec import build_caec_tables

CAEC_HEATMAP_METRICS = ["purity", "ri", "nmi"]
#: Full range of each flat-clustering score: the colour scale spans it, so near values look near.
_FLAT_RANGES = {"ami": (0.0, 1.0), "silhouette": (-1.0, 1.0)}

#: Hatch pattern and cell-text suffix of each kind of marked cell, and the ReportTable mask it reads.
CELL_MARKS = {"flagged": ("///", SMALL_CLUSTER_MARK), "chance": ("\\\\\\", CHANCE_MARK)}
#: Hatch of the rows a table leaves unranked (:func:`embtree.report.tables.base.mark_baselines`:
#: random-weights encoders, structural baselines), and the legend line when the table names none.
BASELINE_HATCH = "..."
BASELINE_TEXT = "row of a random-weights encoder: a structural baseline, not a finding"


def _label(key):
    return " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _axis_name(index):
    """``"encoder / metric"`` from the level names of a table's row or column index."""
    names = [str(n) for n in index.names if n is not None]
    return " / ".join(names)


def _mask(table, name, values):
    """``table``'s boolean mask ``name`` as an array shaped like ``values`` (all False if absent);
    ``"unranked"`` (a mask of rows) is spread over the row's cells."""
    frame = getattr(table, name, None) if isinstance(table, ReportTable) else None
    if frame is None:
        return np.zeros(values.shape, dtype=bool)
    if isinstance(frame, pd.Series):
        rows = frame.reindex(values.index).fillna(False).to_numpy(dtype=bool)
        return np.repeat(rows[:, None], values.shape[1], axis=1)
    return frame.reindex(index=values.index, columns=values.columns).fillna(False).to_numpy(dtype=bool)


def _draw(ax, table, *, cmap="viridis", vmin=None, vmax=None, mid=None, row_labels=True):
    """Draw ``table`` (:class:`ReportTable` or DataFrame) on ``ax``, each finite cell annotated.

    NaN cells are grey (``missing`` written in the cells the table marks missing); cells of the
    table's ``flagged`` / ``chance`` masks are hatched and their value carries the table's mark
    (:data:`CELL_MARKS`). Annotations are black above ``mid`` (default: the middle of the finite
    range), else white. Returns ``(image, kinds of marks drawn)``.
    """
    values = table.values if isinstance(table, ReportTable) else table
    numeric = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = [_label(t) for t in values.index]
    cols = [_label(t) for t in values.columns]
    im = ax.imshow(np.ma.masked_invalid(numeric), aspect="auto", cmap=plt.get_cmap(cmap).with_extremes(bad="0.9"),
                   vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=30 if max(map(len, cols), default=0) > 6 else 0,
                  ha="right" if max(map(len, cols), default=0) > 6 else "center", fontsize=8)
    ax.set_yticks(range(len(rows)), rows if row_labels else [""] * len(rows), fontsize=8)
    if mid is None:
        finite = numeric[np.isfinite(numeric)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    masks = {kind: _mask(table, kind, values) for kind in CELL_MARKS}
    missing = _mask(table, "missing", values)
    baseline = _mask(table, "unranked", values)
    drawn = []
    for i in range(numeric.shape[0]):
        for j in range(numeric.shape[1]):
            v = numeric[i, j]
            if not np.isfinite(v):
                if missing[i, j]:
                    ax.text(j, i, MISSING, ha="center", va="center", fontsize=6, color="0.3")
                continue
            ink = "black" if v > mid else "white"
            if baseline[i, j]:
                ax.add_patch(matplotlib.patches.Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, fill=False, hatch=BASELINE_HATCH, edgecolor=ink, linewidth=0,
                    alpha=0.6, gid=f"unranked:{i},{j}"))
                if "unranked" not in drawn:
                    drawn.append("unranked")
            suffix = ""
            for kind, (hatch, mark) in CELL_MARKS.items():
                if masks[kind][i, j]:
                    suffix += mark
                    # A hatched, unfilled rectangle over the cell (gid names the kind, for tests).
                    ax.add_patch(matplotlib.patches.Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, hatch=hatch, edgecolor=ink, linewidth=0,
                        alpha=0.6, gid=f"{kind}:{i},{j}"))
                    if kind not in drawn:
                        drawn.append(kind)
            ax.text(j, i, f"{v:.2f}{suffix}", ha="center", va="center", fontsize=7, color=ink,
                    fontweight="bold" if suffix else "normal",
                    bbox=dict(boxstyle="round,pad=0.1", fc="0.5" if ink == "white" else "1.0", ec="none",
                              alpha=0.55) if suffix else None)
    return im, drawn


def _marks_legend(fig, tables, drawn, width=110, baseline_note=None):
    """Under the figure: one line per kind of mark drawn, hatch + the table's own note for it
    (``baseline_note``: the note of the unranked rows, which carries no mark to find it by)."""
    lines = []
    if "unranked" in drawn:
        lines.append((BASELINE_HATCH, textwrap.fill(f"dotted, {baseline_note or BASELINE_TEXT}", width)))
    for kind in CELL_MARKS:
        if kind not in drawn:
            continue
        hatch, mark = CELL_MARKS[kind]
        notes = [n for t in tables if isinstance(t, ReportTable) for n in t.notes if str(n).startswith(mark)]
        text = notes[0] if notes else f"{mark} flagged cell (see the table's notes)"
        lines.append((hatch, textwrap.fill(f"hatched, {text}", width)))
    if not lines:
        return
    handles = [matplotlib.patches.Patch(facecolor="white", edgecolor="black", hatch=h, label=t) for h, t in lines]
    # Under everything the axes draw (rotated tick labels, axis names): the legend's top sits at
    # the lowest point of the axes' tight boxes, in figure coordinates.
    renderer = fig.canvas.get_renderer()
    low = min(ax.get_tightbbox(renderer).y0 for ax in fig.axes)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, low / fig.bbox.height - 0.01),
               fontsize=7, frameon=False, handlelength=2.5, handleheight=1.6)


def plot_heatmap(table, *, title=None, cmap="viridis", value_label=None, vmin=None, vmax=None):
    """Heatmap of a numeric :class:`ReportTable` (or DataFrame), values annotated in the cells.

    Missing / not-applicable cells are left blank (grey); flagged and chance cells of a
    ReportTable are hatched and marked (:func:`_draw`), with the table's note for each mark
    under the figure. Axes are named after the table's row and column keys, the colour bar
    ``value_label``; ``vmin`` / ``vmax`` fix the colour range (default: the data's range, which
    the colour bar states). An empty table gives a "no data" figure.
    """
    values = table.values if isinstance(table, ReportTable) else table
    title = title if title is not None else getattr(table, "title", "")
    if not values.size or not values.apply(pd.to_numeric, errors="coerce").notna().to_numpy().any():
        return no_data_figure(f"{title}: the table has no numeric cells" if title else "the table has no numeric cells")
    nrow, ncol = values.shape
    fig, ax = plt.subplots(figsize=(2.2 + 1.1 * max(ncol, 1), 1.4 + 0.35 * max(nrow, 1)))
    im, drawn = _draw(ax, table, cmap=cmap, vmin=vmin, vmax=vmax,
                      mid=None if vmin is None or vmax is None else (vmin + vmax) / 2)
    bar = fig.colorbar(im, ax=ax, fraction=0.04)
    bar.ax.tick_params(labelsize=8)
    if value_label:
        bar.set_label(value_label, fontsize=8)
    ax.set_xlabel(_axis_name(values.columns), fontsize=8)
    ax.set_ylabel(_axis_name(values.index), fontsize=8)
    ax.set_title(textwrap.fill(title, 90), fontsize=9)
    _marks_legend(fig, [table], drawn)
    return fig


def caec_heatmap_tables(summary, *, order=None, tables=None, baselines=None):
    """The CAEC purity, RI and NMI :class:`ReportTable` of the report, flags included.

    ``tables``: the report's CAEC section (:func:`embtree.report.tables.caec.build_caec_tables`,
    in its wide layout: encoder x metric rows, dataset columns) when already built; otherwise it
    is built from ``summary`` alone, so the figure marks exactly the cells the tables mark.
    ``baselines``: the random-weights encoders (:func:`embtree.report.common.baseline_encoders`),
    whose rows :func:`~embtree.report.tables.base.mark_baselines` leaves unranked.
    Returns ``(tables, note of the baseline rows or None)``.
    """
    if tables is None:
        empty = pd.DataFrame()
        tables = build_caec_tables(summary, empty, empty, empty, empty, datasets=[], order=order)
    by_name = {t.name: t for t in tables}
    shown = [by_name[n] for n in ("caec_purity", "caec_ri", "caec_nmi") if n in by_name]
    note = None
    for t in shown:
        before = list(t.notes)
        mark_baselines(t, baselines)
        note = note or next((n for n in t.notes if n not in before), None)
    return shown, note


def plot_caec_heatmaps(summary, *, order=None, tables=None, baselines=None):
    """Heatmaps of purity, RI and NMI over (encoder x cluster metric) x dataset, side by side.

    Colours span the fixed range 0-1 (the colour bar states it). Cells the CAEC tables flag
    (runs with clusters below ``caec.min_cluster_size``, ``†``) are hatched and marked, with the
    tables' note under the figure; rows of ``baselines`` (random-weights encoders) are dotted.
    ``tables`` and ``baselines`` as for :func:`caec_heatmap_tables`.
    """
    shown, baseline_note = caec_heatmap_tables(summary, order=order, tables=tables, baselines=baselines)
    shown = [t for t in shown if t.values.size]
    if not shown:
        return no_data_figure("CAEC heatmaps: no CAEC summary rows (no CAEC run finished)")
    n = len(shown)
    nrow, ncol = shown[0].values.shape
    fig, axes = plt.subplots(1, n, figsize=(n * (2.2 + 0.9 * ncol) + 1.2, 1.6 + 0.32 * nrow), squeeze=False)
    drawn = []
    for k, (ax, t) in enumerate(zip(axes[0], shown)):
        im, marks = _draw(ax, t, vmin=0, vmax=1, mid=0.5, row_labels=k == 0)
        drawn += [m for m in marks if m not in drawn]
        metric = t.name[len("caec_"):]
        ax.set_title(LABELS.get(metric, metric), fontsize=9)
        ax.set_xlabel(_axis_name(t.values.columns), fontsize=8)
        if k == 0:
            ax.set_ylabel(_axis_name(t.values.index), fontsize=8)
    bar = fig.colorbar(im, ax=list(axes[0]), fraction=0.03)
    bar.ax.tick_params(labelsize=8)
    bar.set_label("score (0 to 1, higher is better)", fontsize=8)
    _marks_legend(fig, shown, drawn, width=40 * n + 30, baseline_note=baseline_note)
    return fig


def plot_flat_heatmap(flat, value="ami", *, order=None):
    """Heatmap of the flat-clustering ``value`` (mean over seeds): rows clusterer x reducer,
    columns dataset x encoder (dense, unlike the paper-layout table whose rows hold encoders)."""
    label = LABELS.get(value, value)
    if not len(flat) or value not in flat.columns:
        return no_data_figure(f"flat clustering heatmap: no {label} rows (no flat clustering run finished)")
    t = wide_table(
        flat, ["clusterer", "reducer"], ["dataset", "encoder"], value, name=f"flat_{value}_heatmap",
        title=f"Flat clustering: mean {label} over seeds", aggregate="mean_std", ddof=1,
        order=order,
    )
    lo, hi = _FLAT_RANGES.get(value, (None, None))
    return plot_heatmap(t, value_label=f"mean {label} over seeds" + (f" (range {lo:g} to {hi:g})" if hi else ""),
                        vmin=lo, vmax=hi)


def plot_flat_group_heatmap(flat, settings=None, *, order=None):
    """Paper 004 fig. 1 as a heatmap: mean AMI per encoder (rows, averaged over clusterers) and
    data-set group (columns), with each encoder's rank within its group in the cell
    (:func:`embtree.report.tables.flat.flat_group_tables`)."""
    from embtree.report.tables.flat import ALL_CLUSTERERS, flat_group_tables

    means, ranks = flat_group_tables(flat, settings, order=order)
    if not len(means.values):
        return no_data_figure(f"flat clustering by data-set group: {means.empty_note}")
    rows = means.values.index.get_level_values("clusterer") == ALL_CLUSTERERS
    values = means.values[rows].droplevel("clusterer")
    t = ReportTable(name="flat_groups_heatmap", title="Mean AMI per data-set group\n(rank in the group; paper 004, "
                    "fig. 1)", values=values, number_format="percent", decimals=1)
    fig = plot_heatmap(t, value_label="mean AMI over clusterers (0 to 1)", vmin=0.0, vmax=1.0)
    ax = fig.axes[0]
    rank = ranks.values.reindex(index=values.index, columns=values.columns)
    for text in ax.texts:  # add the rank beside the value each annotated cell prints
        x, y = text.get_position()
        i, j = int(round(y)), int(round(x))
        if 0 <= i < rank.shape[0] and 0 <= j < rank.shape[1] and pd.notna(rank.iat[i, j]) and text.get_text():
            text.set_text(f"{text.get_text()} ({rank.iat[i, j]:g})")
    return fig
