"""Aggregation of the per-run tables into paper-layout report tables, and the report figures.

Everything here is a pure function from tidy ``pandas`` DataFrames (the per-run TSVs of
``docs/design.md`` concatenated) or numpy arrays to wide tables / matplotlib figures; file
reading and writing happen only in :func:`load_run_tables` and :func:`write_report_table`.

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

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: report rules run on compute nodes without a display

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from embtree.io import atomic_path, write_table, write_text  # noqa: E402

__all__ = [
    "DIRECTIONS",
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

MISSING = "missing"
NOT_APPLICABLE = "-"
INCOMPLETE = "incomplete"  # suffix of a cell aggregated over only part of its runs (partial report)

# Higher-is-better ("max"), lower-is-better ("min"); absent / None = descriptive, never bold.
DIRECTIONS = {
    "purity": "max",
    "purity_mean": "max",
    "coverage": "max",
    "coverage_mean": "max",
    "ri": "max",
    "nmi": "max",
    "ari": "max",
    "ami": "max",
    "acc": "max",
    "lp": "max",
    "dp": "max",
    "silhouette": "max",
    "lhd": "min",
    "rf": "min",
    "rf_norm": "min",
    "di": "min",
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
    "ari": "ARI",
    "ami": "AMI",
    "acc": "ACC",
    "lp": "LP",
    "dp": "DP",
    "lhd": "LHD",
    "rf": "RF",
    "rf_norm": "RF/RF_max",
    "di": "DI",
    "silhouette": "Silhouette",
    "r_max": "r_max",
    "r_f": "r_f",
}


class MissingResultsError(ValueError):
    """A per-run table needed for the report is missing or incomplete."""


# ----------------------------------------------------------------------------- loading


def load_run_tables(specs, partial=False, what="per-run tables"):
    """Read and concatenate the per-run TSVs listed in ``specs``.

    Parameters
    ----------
    specs : list of dict
        One entry per expected per-run table: ``path`` (str), ``keys`` (dict column -> value
        the table's rows must carry, e.g. ``{"dataset": "digits", "encoder": "pixels"}``) and
        optionally ``expect`` (dict column -> list of values that must all occur, e.g. the
        configured seeds) and ``may_be_empty`` (bool: a table with a header but no rows is a
        valid result, e.g. no infiltrated classes; otherwise it counts as missing).
    partial : bool
        When False (default) any absent file, table without rows, or missing expected value
        raises :class:`MissingResultsError` naming all of them. When True they are returned in
        ``missing`` so the aggregation can show the gaps.
    what : str
        Name of the table family, used in the error message.

    Returns
    -------
    data : DataFrame
        The concatenated rows (key columns restored from ``keys`` when a file lacks them).
    missing : DataFrame
        One row per missing run: its ``keys`` (plus the missing ``expect`` value) and
        ``reason``. Empty when everything is present.
    """
    if not isinstance(specs, (list, tuple)):
        raise ValueError(f"specs must be a list of dicts, got {type(specs).__name__}")
    frames, missing = [], []
    for spec in specs:
        if "path" not in spec or "keys" not in spec:
            raise ValueError(f"each spec needs 'path' and 'keys', got {sorted(spec)}")
        path, keys = Path(spec["path"]), dict(spec["keys"])
        if not path.exists():
            missing.append({**keys, "reason": f"file not found: {path}"})
            continue
        try:
            df = pd.read_csv(path, sep="\t")
        except pd.errors.EmptyDataError:
            df = pd.DataFrame()
        if df.empty:
            if not (spec.get("may_be_empty") and len(df.columns)):
                missing.append({**keys, "reason": f"table has no rows: {path}"})
            else:
                frames.append(df)  # keeps the columns for the aggregation
            continue
        for col, value in keys.items():
            if col not in df.columns:
                df[col] = value
            elif not (df[col].astype(str) == str(value)).all():
                raise ValueError(
                    f"{path}: column '{col}' should be '{value}' in every row, "
                    f"found {sorted(df[col].astype(str).unique())}"
                )
            else:
                df[col] = value  # one dtype for the key column across files
        for col, values in (spec.get("expect") or {}).items():
            have = set(df[col].tolist()) if col in df.columns else set()
            for v in values:
                if v not in have:
                    missing.append({**keys, col: v, "reason": f"{path} has no row with {col}={v}"})
        frames.append(df)
    missing = pd.DataFrame(missing)
    if len(missing) and not partial:
        lines = "\n  ".join(missing["reason"])
        raise MissingResultsError(
            f"{len(missing)} of the {what} the report needs are missing or incomplete "
            f"(re-run the workflow for them, or set report.partial: true to show gaps):\n  {lines}"
        )
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return data, missing


# ----------------------------------------------------------------------------- the table type


@dataclass
class ReportTable:
    """A wide report table and how to display it.

    ``values`` holds the numbers (or strings for text tables); ``std`` (same shape, optional)
    turns cells into ``mean ± std``; ``bold`` marks cells set in bold (best per column, or
    e.g. significant p-values); ``missing`` marks expected cells without data; all other empty
    cells are "not applicable"; ``incomplete`` marks cells aggregated over only part of their
    runs (partial report), printed with an ``(incomplete)`` suffix and never bold.
    """

    name: str
    title: str
    values: pd.DataFrame
    std: pd.DataFrame | None = None
    bold: pd.DataFrame | None = None
    missing: pd.DataFrame | None = None
    incomplete: pd.DataFrame | None = None
    decimals: int = 2
    number_format: str = "fixed"  # "fixed" (``decimals`` places) or "pvalue" (see _fmt_number)
    notes: list = field(default_factory=list)
    # Per-column override {last level of the column label: (number_format, decimals)}.
    column_formats: dict = field(default_factory=dict)

    def __post_init__(self):
        shape = self.values.shape
        for name in ("std", "bold", "missing", "incomplete"):
            frame = getattr(self, name)
            if frame is not None:
                frame = frame.reindex(index=self.values.index, columns=self.values.columns)
                if name != "std":
                    frame = frame.fillna(False).astype(bool)
                setattr(self, name, frame)
        if self.bold is None:
            self.bold = pd.DataFrame(False, index=self.values.index, columns=self.values.columns)
        for name in ("missing", "incomplete"):
            if getattr(self, name) is None:
                setattr(self, name, pd.DataFrame(False, index=self.values.index, columns=self.values.columns))
        assert self.bold.shape == shape


def best_mask(values, direction, decimals=None):
    """Cells holding the best value of their column (all ties are marked).

    Parameters
    ----------
    values : DataFrame of float (NaN = no value)
    direction : str or None or dict / Series mapping column -> "max" | "min" | None
    decimals : int, optional
        Compare the values rounded as printed, so every cell that reads like the best is bold
        (0.9999 and 1.0 both print "1.00").

    Returns
    -------
    DataFrame of bool, same shape as ``values``.
    """
    out = pd.DataFrame(False, index=values.index, columns=values.columns)
    for col in values.columns:
        d = direction.get(col) if isinstance(direction, (dict, pd.Series)) else direction
        if d is None:
            continue
        if d not in ("max", "min"):
            raise ValueError(f"direction for column {col!r} must be 'max', 'min' or None, got {d!r}")
        column = pd.to_numeric(values[col], errors="coerce")
        if decimals is not None:
            column = column.round(decimals)
        if column.notna().sum() == 0:
            continue
        best = column.max() if d == "max" else column.min()
        # Ties within float noise (values printed identically) share the bold.
        out[col] = np.isclose(column.to_numpy(dtype=float), best, rtol=1e-9, atol=1e-12)
    return out


def _missing_mask(index, columns, missing, rows, cols):
    """Cells of a (rows x cols) wide table covered by the ``missing`` key records."""
    mask = np.zeros((len(index), len(columns)), dtype=bool)
    if missing is None or len(missing) == 0:
        return pd.DataFrame(mask, index=index, columns=columns)
    idx = index.to_frame(index=False) if isinstance(index, pd.MultiIndex) else pd.DataFrame({rows[0]: index})
    col = (
        columns.to_frame(index=False) if isinstance(columns, pd.MultiIndex) else pd.DataFrame({cols[0]: columns})
    )
    for _, rec in missing.iterrows():
        r = np.ones(len(idx), bool)
        for k in rows:
            if k in rec and pd.notna(rec[k]):
                r &= (idx[k].astype(str) == str(rec[k])).to_numpy()
        c = np.ones(len(col), bool)
        for k in cols:
            if k in rec and pd.notna(rec[k]):
                c &= (col[k].astype(str) == str(rec[k])).to_numpy()
        mask[np.ix_(r, c)] = True
    return pd.DataFrame(mask, index=index, columns=columns)


def _ordered(values, order):
    """Unique values of ``values`` in the given ``order`` first, then in order of appearance."""
    seen = list(dict.fromkeys(values))
    if order is None:
        return seen
    order = [o for o in order if o in seen]
    return order + [v for v in seen if v not in order]


def wide_table(
    df,
    rows,
    cols,
    value,
    *,
    name,
    title,
    std=None,
    direction=None,
    missing=None,
    order=None,
    decimals=2,
    number_format="fixed",
    aggregate=None,
    ddof=0,
):
    """Pivot a tidy table into a wide :class:`ReportTable` (rows x cols), bolding the best.

    Parameters
    ----------
    df : DataFrame, tidy: one row per (rows + cols) cell, or several when ``aggregate`` is set.
    rows, cols : list of str
        Key columns forming the row index and the column index.
    value : str
        Column holding the cell value.
    std : str, optional
        Column holding a standard deviation to print as ``value ± std``.
    direction : "max" | "min" | None | dict
        Best-per-column rule (``"max"``: higher is better); default from :data:`DIRECTIONS`.
    missing : DataFrame, optional
        Missing-run records from :func:`load_run_tables`; matching cells show ``missing``
        (rows / columns named only there are added).
    order : dict, optional
        Column name -> preferred order of its values (e.g. the configured encoders).
    aggregate : None or "mean_std"
        With ``"mean_std"`` several rows per cell are averaged and ``std`` is their standard
        deviation with ``ddof`` (NaN, printed as the mean alone, for a single row with ddof=1).

    Returns
    -------
    ReportTable
    """
    rows, cols = list(rows), list(cols)
    need = rows + cols + [value] + ([std] if std else [])
    absent = [c for c in need if c not in df.columns] if len(df) else []
    if absent:
        raise ValueError(f"{name}: input table lacks column(s) {absent} (has {list(df.columns)})")
    order = order or {}
    if direction is None:
        direction = DIRECTIONS.get(value)
    keys = rows + cols
    if len(df):
        data = df[need].copy()
        if aggregate == "mean_std":
            g = data.groupby(keys, sort=False, dropna=False)[value]
            data = g.mean().rename(value).to_frame()
            data["_std"] = g.std(ddof=ddof)
            data = data.reset_index()
            std = "_std"
        elif aggregate is not None:
            raise ValueError(f"aggregate must be None or 'mean_std', got {aggregate!r}")
        dup = data.duplicated(keys, keep=False)
        if dup.any():
            raise ValueError(
                f"{name}: {int(dup.sum())} rows share the same {keys} cell, e.g.\n"
                f"{data.loc[dup, keys].head(4).to_string(index=False)}"
            )
    else:
        data = pd.DataFrame(columns=need)
    # Rows / columns named only by missing runs are added so the gap is visible.
    frames = [data[keys]]
    if missing is not None and len(missing):
        have = [k for k in keys if k in missing.columns]
        if set(have) == set(keys):
            frames.append(missing[keys])
        else:
            # A missing run covers whole rows or columns; add those whose keys it names.
            for part in (rows, cols):
                if all(k in missing.columns for k in part) and len(data):
                    other = [k for k in keys if k not in part]
                    extra = missing[part].drop_duplicates().merge(
                        data[other].drop_duplicates(), how="cross"
                    )
                    frames.append(extra[keys])
    allkeys = pd.concat(frames, ignore_index=True)
    allkeys = allkeys.dropna()

    def _index(names):
        if not len(allkeys):
            return pd.MultiIndex.from_arrays([[] for _ in names], names=names)
        levels = [_ordered(allkeys[n].tolist(), order.get(n)) for n in names]
        present = allkeys[names].drop_duplicates()
        tuples = list(present.itertuples(index=False, name=None))
        rank = [{v: i for i, v in enumerate(lv)} for lv in levels]
        tuples.sort(key=lambda t: tuple(rank[i][v] for i, v in enumerate(t)))
        return pd.MultiIndex.from_tuples(tuples, names=names)

    index, columns = _index(rows), _index(cols)
    if len(cols) == 1:
        columns = columns.get_level_values(0)
    if len(rows) == 1:
        index = index.get_level_values(0)
    values = data.set_index(keys)[value].unstack(cols) if len(data) else pd.DataFrame()
    values = values.reindex(index=index, columns=columns)
    stds = None
    if std:
        stds = data.set_index(keys)[std].unstack(cols).reindex(index=index, columns=columns)
    numeric = values.apply(pd.to_numeric, errors="coerce") if len(values.columns) else values
    bold = best_mask(numeric, direction, decimals if number_format == "fixed" else None)
    gap = _missing_mask(index, columns, missing, rows, cols)
    # A gap cell with data aggregates only part of its runs (e.g. one seed missing).
    miss = gap & values.isna()
    incomplete = gap & values.notna()
    return ReportTable(
        name=name,
        title=title,
        values=values,
        std=stds,
        bold=bold & ~gap,
        missing=miss,
        incomplete=incomplete,
        decimals=decimals,
        number_format=number_format,
    )


# ----------------------------------------------------------------------------- formatting


def _fmt_number(x, decimals, number_format):
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if number_format == "pvalue":
        # As the CAEC paper's table 9: six decimals, scientific notation below 1e-6.
        return f"{x:.2e}" if 0 < abs(x) < 1e-6 else f"{x:.6f}"
    return f"{x:.{decimals}f}"


def _escape_latex(s):
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        # Symbols of the table headers, as math so pdflatex needs no unicode set-up.
        "θ": r"$\theta$",
        "±": r"$\pm$",
        "≥": r"$\geq$",
        "χ": r"$\chi$",
        "²": r"$^2$",
    }
    return "".join(repl.get(ch, ch) for ch in str(s))


def format_cells(table, style="plain"):
    """Cell strings of ``table``: numbers formatted, ``mean ± std``, bold, gaps.

    Parameters
    ----------
    table : ReportTable
    style : "plain" | "markdown" | "latex"
        How bold and ``±`` are written (``**x**`` / ``\\textbf{x}``; ``$\\pm$`` in LaTeX).

    Returns
    -------
    DataFrame of str, same shape as ``table.values``.
    """
    if style not in ("plain", "markdown", "latex"):
        raise ValueError(f"style must be 'plain', 'markdown' or 'latex', got {style!r}")
    pm = r" $\pm$ " if style == "latex" else " ± "
    out = pd.DataFrame("", index=table.values.index, columns=table.values.columns, dtype=object)
    for j in range(table.values.shape[1]):
        col = table.values.columns[j]
        fmt, decimals = table.column_formats.get(
            col[-1] if isinstance(col, tuple) else col, (table.number_format, table.decimals)
        )
        for i in range(table.values.shape[0]):
            v = table.values.iat[i, j]
            if table.missing.iat[i, j]:
                out.iat[i, j] = MISSING
                continue
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out.iat[i, j] = NOT_APPLICABLE
                continue
            s = _fmt_number(v, decimals, fmt)
            if style == "latex":
                s = _escape_latex(s)
            if table.std is not None:
                sd = table.std.iat[i, j]
                if sd is not None and not (isinstance(sd, float) and math.isnan(sd)):
                    s = f"{s}{pm}{_fmt_number(float(sd), decimals, 'fixed')}"
            if table.incomplete.iat[i, j]:
                s = f"{s} ({INCOMPLETE})"
            if table.bold.iat[i, j]:
                s = f"**{s}**" if style == "markdown" else (rf"\textbf{{{s}}}" if style == "latex" else s)
            out.iat[i, j] = s
    return out


def _header_rows(columns):
    """Column labels as a list of header rows (one per MultiIndex level)."""
    if isinstance(columns, pd.MultiIndex):
        return [[str(c[k]) for c in columns] for k in range(columns.nlevels)]
    return [[str(c) for c in columns]]


def _index_rows(index):
    """Row labels with a repeated leading value blanked (paper style: model named once)."""
    tuples = [t if isinstance(t, tuple) else (t,) for t in index]
    out, prev = [], None
    for t in tuples:
        row = []
        for k, v in enumerate(t):
            same_prefix = prev is not None and prev[: k + 1] == t[: k + 1]
            row.append("" if same_prefix and k < len(t) - 1 else str(v))
        out.append(row)
        prev = t
    return out


def _index_names(index):
    names = list(index.names) if isinstance(index, pd.MultiIndex) else [index.name]
    return [str(n) if n is not None else "" for n in names]


def to_markdown(table):
    """GitHub-flavoured Markdown (title line, pipe table, bold as ``**x**``).

    Multi-level column labels are joined with `` / `` (Markdown has a single header row).
    """
    cells = format_cells(table, "markdown")
    header = _index_names(table.values.index) + [" / ".join(h) for h in zip(*_header_rows(cells.columns))]
    lines = [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(h.replace("|", "\\|") for h in header) + " |")
    lines.append("|" + "|".join(["---"] * len(header)) + "|")
    for labels, (_, row) in zip(_index_rows(cells.index), cells.iterrows()):
        vals = [s.replace("|", "\\|") for s in labels + list(row)]
        lines.append("| " + " | ".join(vals) + " |")
    for note in table.notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def to_latex(table):
    """A booktabs ``tabular`` with ``\\multicolumn`` headers for grouped columns (needs booktabs)."""
    cells = format_cells(table, "latex")
    n_idx = len(_index_names(table.values.index))
    headers = _header_rows(cells.columns)
    ncol = cells.shape[1]
    lines = [
        f"% {table.title}",
        r"\begin{tabular}{" + "l" * n_idx + "r" * ncol + "}",
        r"\toprule",
    ]
    for level, labels in enumerate(headers):
        last = level == len(headers) - 1
        lead = [_escape_latex(n) for n in _index_names(table.values.index)] if last else [""] * n_idx
        parts, rules, j = [], [], 0
        while j < ncol:
            k = j
            # Group equal labels that also share every higher level (so groups nest).
            while (
                k + 1 < ncol
                and not last
                and all(headers[u][k + 1] == headers[u][j] for u in range(level + 1))
            ):
                k += 1
            span = k - j + 1
            text = _escape_latex(labels[j])
            parts.append(rf"\multicolumn{{{span}}}{{c}}{{{text}}}" if span > 1 else text)
            if span > 1:
                rules.append(rf"\cmidrule(lr){{{n_idx + j + 1}-{n_idx + k + 1}}}")
            j = k + 1
        lines.append(" & ".join(lead + parts) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    lines.append(r"\midrule")
    for labels, (_, row) in zip(_index_rows(cells.index), cells.iterrows()):
        lines.append(" & ".join([_escape_latex(s) for s in labels] + list(row)) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_csv_frame(table):
    """Machine-readable flat frame: row keys as columns, one column per wide column.

    Column names of grouped columns are joined with ``/``; a ``±`` table adds a
    ``<column>/std`` column after each value column; missing cells hold the text ``missing``,
    not-applicable cells are empty.
    """
    vals = table.values.astype(object).where(~table.missing, MISSING)
    flat = [
        "/".join(str(x) for x in c) if isinstance(c, tuple) else str(c) for c in table.values.columns
    ]
    out = pd.DataFrame(index=range(len(vals)))
    idx = table.values.index.to_frame(index=False)
    for c in idx.columns:
        out[str(c)] = idx[c].to_numpy()
    for j, name in enumerate(flat):
        out[name] = vals.iloc[:, j].to_numpy()
        if table.std is not None:
            out[f"{name}/std"] = table.std.iloc[:, j].to_numpy()
    return out


def write_report_table(table, directory):
    """Write ``<directory>/<name>.csv``, ``.md`` and ``.tex`` atomically; return the paths."""
    directory = Path(directory)
    paths = [directory / f"{table.name}.{ext}" for ext in ("csv", "md", "tex")]
    write_table(paths[0], to_csv_frame(table))
    write_text(paths[1], to_markdown(table))
    write_text(paths[2], to_latex(table))
    return paths


# ----------------------------------------------------------------------------- CAEC tables

_RUN_ROWS = ["encoder", "metric"]


def _subset(df, **eq):
    for k, v in eq.items():
        df = df[df[k] == v] if len(df) else df
    return df


def caec_metric_table(summary, value, *, missing=None, order=None, name=None, title=None):
    """CAEC paper tables 5, 7, 8: one summary metric, rows encoder x metric, columns datasets.

    Parameters
    ----------
    summary : DataFrame, concatenated ``caec/{metric}/summary.tsv`` rows
        (dataset, encoder, metric, purity_mean, ri, nmi, ...).
    value : str, the summary column (``purity_mean``, ``ri``, ``nmi``, ``coverage_mean``...).
    """
    label = LABELS.get(value, value)
    return wide_table(
        summary,
        _RUN_ROWS,
        ["dataset"],
        value,
        name=name or f"caec_{value}",
        title=title or f"CAEC clusters: {label} per encoder and cluster metric (best per dataset in bold)",
        missing=missing,
        order=order,
    )


def purity_mean_std_table(summary, *, missing=None, order=None, value="purity_mean"):
    """CAEC paper table 6: purity per encoder, mean ± std over the cluster metrics (of table 5).

    The std is the population std (``ddof=0``), which reproduces the paper's table 6 from its
    table 5 (e.g. ViT / CIFAR10: 0.80, 0.86, 0.95 -> 0.87 ± 0.06).
    """
    miss = missing.drop(columns=["metric"], errors="ignore") if missing is not None and len(missing) else missing
    return wide_table(
        summary,
        ["encoder"],
        ["dataset"],
        value,
        name="caec_purity_mean_std",
        title="CAEC clusters: purity per encoder, mean ± std over cluster metrics",
        aggregate="mean_std",
        ddof=0,
        missing=miss,
        order=order,
    )


def per_class_table(per_class, dataset, value, *, missing=None, order=None, decimals=2):
    """CAEC paper tables 3 (``value="r_max"``) and 4 (``"coverage"``) for one dataset.

    Rows encoder x metric, columns the classes (in class-index order); coverage bolds the
    best per class, the radius is descriptive (no bold: radii of different metrics are in
    different units).
    """
    df = _subset(per_class, dataset=dataset)
    order = dict(order or {})
    if len(df):
        order["class_name"] = df.sort_values("class")["class_name"].drop_duplicates().tolist()
    miss = _subset(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = {"r_max": "maximum radius r_max", "coverage": "coverage", "r_f": "final radius r_f"}.get(value, value)
    return wide_table(
        df,
        _RUN_ROWS,
        ["class_name"],
        value,
        name=f"caec_{value}_{dataset}",
        title=f"CAEC clusters on {dataset}: {label} per class",
        missing=miss,
        order=order,
        decimals=decimals,
    )


def angle_table(per_class, *, missing=None, order=None):
    """CAEC paper table 2: mean ± std over classes of θ_min/2 and θ_max/2 (radians).

    Rows encoder x metric, columns dataset x (min, max); std with ``ddof=0``.
    """
    if len(per_class):
        long = per_class.melt(
            id_vars=["dataset", "encoder", "metric", "class"],
            value_vars=["theta_min_half", "theta_max_half"],
            var_name="angle",
            value_name="radians",
        )
        long["angle"] = long["angle"].map({"theta_min_half": "θmin/2", "theta_max_half": "θmax/2"})
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "metric", "angle", "radians"])
    return wide_table(
        long,
        _RUN_ROWS,
        ["dataset", "angle"],
        "radians",
        name="caec_angles",
        title="CAEC clusters: cluster angles θmin/2 and θmax/2 (radians), mean ± std over classes",
        aggregate="mean_std",
        ddof=0,
        direction=None,
        missing=missing,
        order={**(order or {}), "angle": ["θmin/2", "θmax/2"]},
    )


def chi2_table(per_class, *, alpha=0.05, missing=None, order=None):
    """CAEC paper table 1 per run: χ² goodness of fit of the growth counts to a Poisson law.

    Columns per dataset: the median p-value over classes, and the fraction of classes with
    ``p > alpha`` (growth consistent with Poisson, Theorem 2). Descriptive: no bold.
    """
    if len(per_class):
        df = per_class.dropna(subset=["chi2_p"])
        g = df.groupby(["dataset", "encoder", "metric"], sort=False)["chi2_p"]
        agg = pd.concat(
            [
                g.median().rename("median p"),
                g.apply(lambda p: float((p > alpha).mean())).rename(f"fraction p > {alpha:g}"),
            ],
            axis=1,
        ).reset_index()
        long = agg.melt(id_vars=["dataset", "encoder", "metric"], var_name="stat", value_name="v")
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "metric", "stat", "v"])
    t = wide_table(
        long,
        _RUN_ROWS,
        ["dataset", "stat"],
        "v",
        name="caec_chi2",
        title=f"CAEC growth: χ² Poisson goodness of fit (median p over classes; fraction of classes with p > {alpha:g})",
        direction=None,
        missing=missing,
        order=order,
        decimals=3,
    )
    t.column_formats = {"median p": ("pvalue", 6)}
    return t


def ttest_table(ttest, *, missing=None, order=None):
    """CAEC paper table 9: paired t-test p-values of coverage between cluster metrics.

    Rows encoder x metric pair, columns datasets; significant p-values (the ``significant``
    column of ``ttest.tsv``) in bold.
    """
    if len(ttest):
        df = ttest.copy()
        df["pair"] = df["metric_a"].astype(str) + ", " + df["metric_b"].astype(str)
    else:
        df = pd.DataFrame(columns=["dataset", "encoder", "pair", "p", "significant"])
    t = wide_table(
        df,
        ["encoder", "pair"],
        ["dataset"],
        "p",
        name="caec_ttest",
        title="CAEC coverage: paired t-test p-values between cluster metrics (significant in bold)",
        direction=None,
        missing=missing,
        order=order,
        number_format="pvalue",
    )
    if len(df):
        sig = df.set_index(["encoder", "pair", "dataset"])["significant"].astype(str).str.lower()
        sig = sig.isin(["true", "1", "yes"]).unstack("dataset")
        t.bold = sig.reindex(index=t.values.index, columns=t.values.columns).fillna(False).astype(bool)
        t.bold &= ~t.missing
    return t


def _top_other(df, group, other, top, min_count):
    """'name (count)' strings of the ``top`` count ranks per group, ties joined by ', '."""
    df = df[df["count"] >= min_count].copy()
    if not len(df):
        return pd.DataFrame(columns=[*group, "rank", "text"])
    df["rank"] = df.groupby(group, sort=False)["count"].rank(method="dense", ascending=False).astype(int)
    df = df[df["rank"] <= top].sort_values([*group, "rank", other])
    df["item"] = df[other].astype(str) + " (" + df["count"].astype(int).astype(str) + ")"
    return df.groupby([*group, "rank"], sort=False)["item"].agg(", ".join).rename("text").reset_index()


def infiltration_table(
    infiltration, dataset, *, top=3, min_count=2, missing=None, order=None, classes=None, runs=None
):
    """CAEC paper tables 10-13: the ``top`` most frequent infiltrated classes per cluster.

    Rows cluster (class) x rank 1..top, columns cluster metric x encoder; a cell reads
    ``other (count)`` with tied classes joined by ``, `` and only classes with at least
    ``min_count`` embeddings (the paper uses 2); ``-`` where a cluster has fewer.
    ``classes`` (all class names) and ``runs`` (DataFrame with dataset, encoder, metric) make
    clusters and runs without any infiltration appear too; by default both come from the data.
    """
    df = _subset(infiltration, dataset=dataset)
    order = dict(order or {})
    if classes is not None:
        order["class_name"] = list(classes)
    ranked = _top_other(df, ["encoder", "metric", "class_name"], "other_class", top, min_count)
    # Every (cluster, rank) row is shown for every run, '-' where the cluster has fewer.
    runs = df[["encoder", "metric"]] if runs is None else _subset(runs, dataset=dataset)[["encoder", "metric"]]
    runs = runs.drop_duplicates()
    names = df["class_name"].tolist() if classes is None else list(classes)
    if len(runs) and names:
        cls = pd.DataFrame({"class_name": _ordered(names, order.get("class_name"))})
        grid = runs.merge(cls, how="cross").merge(pd.DataFrame({"rank": range(1, top + 1)}), how="cross")
        full = grid.merge(ranked, on=["encoder", "metric", "class_name", "rank"], how="left")
        full["text"] = full["text"].fillna(NOT_APPLICABLE)
    else:  # no run of this dataset has an infiltrated class
        full = pd.DataFrame(columns=["encoder", "metric", "class_name", "rank", "text"])
    miss = _subset(missing, dataset=dataset) if missing is not None and len(missing) else missing
    return wide_table(
        full,
        ["class_name", "rank"],
        ["metric", "encoder"],
        "text",
        name=f"caec_infiltration_{dataset}",
        title=f"CAEC clusters on {dataset}: top-{top} infiltrated classes per cluster (embeddings ≥ {min_count})",
        direction=None,
        missing=miss,
        order=order,
    )


def intrusion_table(intrusion, dataset, *, top=3, missing=None, order=None):
    """CAEC paper table 14: classes whose embeddings also lie in another class's cluster.

    Rows encoder x metric x cluster, one column: ``other (count)`` for the ``top`` largest
    overlaps (``-`` rows are omitted as in the paper).
    """
    df = _subset(intrusion, dataset=dataset)
    if len(df):
        df = df.rename(columns={"class_a": "class_name"})
        ranked = _top_other(df, ["encoder", "metric", "class_name"], "class_b", top, 1)
        text = ranked.groupby(["encoder", "metric", "class_name"], sort=False)["text"].agg(", ".join).reset_index()
    else:
        text = pd.DataFrame(columns=["encoder", "metric", "class_name", "text"])
    text["column"] = "overlapping embeddings"
    miss = _subset(missing, dataset=dataset) if missing is not None and len(missing) else missing
    return wide_table(
        text,
        ["encoder", "metric", "class_name"],
        ["column"],
        "text",
        name=f"caec_intrusion_{dataset}",
        title=f"CAEC clusters on {dataset}: intrusive classes (embeddings shared by two clusters)",
        direction=None,
        missing=miss,
        order=order,
    )


# ----------------------------------------------------------------------------- trees

BEFORE = "before"


def tree_distance_table(trees, dataset, value, *, missing=None, order=None):
    """CAEC paper tables 17 (``value="rf"``) and 18 (``"di"``) for one dataset.

    Rows encoder x cluster metric (plus a ``before`` row: UPGMA on the class means before
    cluster growing, which has no G / P distinction and is shown under both), columns tree
    metric x point (G, P). Lower is better: the minimum per column is bold.
    """
    df = _subset(trees, dataset=dataset)
    if len(df):
        df = df.copy()
        before = df["cluster_metric"].astype(str) == BEFORE
        dup = df[before].drop(columns=["point"]).merge(pd.DataFrame({"point": ["G", "P"]}), how="cross")
        df = pd.concat([df[~before], dup], ignore_index=True)
    order = dict(order or {})
    order.setdefault("point", ["G", "P"])
    if "metric" in order:
        order.setdefault("cluster_metric", [*order["metric"], BEFORE])
        order.setdefault("tree_metric", order["metric"])
    miss = _subset(missing, dataset=dataset) if missing is not None and len(missing) else missing
    label = {"rf": "Robinson-Foulds distance", "di": "Deformity Index", "rf_norm": "normalised RF"}.get(value, value)
    return wide_table(
        df,
        ["encoder", "cluster_metric"],
        ["tree_metric", "point"],
        value,
        name=f"trees_{value}_{dataset}",
        title=f"Relation trees on {dataset}: {label} to the reference (UPGMA on G / P; lower is better)",
        missing=miss,
        order=order,
        decimals=0 if value == "rf" else 2,
    )


# ----------------------------------------------------------------------------- L2H

L2H_METRICS = ["nmi", "ari", "acc", "lp", "dp", "lhd"]


def _method_label(source):
    return "agglomerative" if source == "agglomerative" else f"L2H ({source})"


def l2h_table(l2h, *, missing=None, order=None, metrics=L2H_METRICS):
    """L2H paper table 1: rows encoder x method, columns dataset x (NMI, ARI, ACC, LP, DP, LHD).

    Methods are L2H per logit source and the agglomerative baseline; LHD is lower-is-better,
    the others higher-is-better.
    """
    if len(l2h):
        df = l2h.copy()
        df["method"] = df["source"].map(_method_label)
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=list(metrics), var_name="m", value_name="v")
        long["m"] = long["m"].map(lambda m: LABELS.get(m, m))
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    order["m"] = [LABELS.get(m, m) for m in metrics]
    if "source" in order:
        order["method"] = [_method_label(s) for s in order["source"]]
    miss = missing
    if missing is not None and len(missing) and "source" in missing.columns:
        miss = missing.assign(method=missing["source"].map(_method_label))
    return _method_table(
        long,
        name="l2h",
        title="Hierarchical clustering (L2H table 1 layout): flat and hierarchy metrics per method",
        missing=miss,
        order=order,
        directions={LABELS.get(m, m): DIRECTIONS.get(m) for m in metrics},
    )


def _method_table(long, *, name, title, missing, order, directions, column_formats=None):
    """Rows encoder x method, columns dataset x metric (``long``: dataset, encoder, method, m, v).

    ``directions`` maps a metric label to "max" / "min"; the best cell per column is bold.
    """
    t = wide_table(
        long,
        ["encoder", "method"],
        ["dataset", "m"],
        "v",
        name=name,
        title=title,
        direction=None,
        missing=missing,
        order=order,
    )
    if column_formats:
        t.column_formats = column_formats
    numeric = t.values.apply(pd.to_numeric, errors="coerce")
    t.bold = best_mask(numeric, {c: directions.get(c[1]) for c in t.values.columns}, t.decimals) & ~t.missing
    return t


# ----------------------------------------------------------------------------- flat


def flat_table(flat, value="ami", *, missing=None, order=None):
    """Clustering benchmark (paper 004, appendix H): ``value`` per encoder x clusterer x reducer.

    Columns datasets; cells are mean ± std over seeds (sample std, ``ddof=1``: seeds are
    repeated runs; a single seed prints the mean alone).
    """
    return wide_table(
        flat,
        ["encoder", "clusterer", "reducer"],
        ["dataset"],
        value,
        name=f"flat_{value}",
        title=f"Flat clustering: {LABELS.get(value, value)} per encoder, clusterer and reducer (mean ± std over seeds)",
        aggregate="mean_std",
        ddof=1,
        missing=missing,
        order=order,
    )


# ----------------------------------------------------------------------------- cross-method

CROSS_METRICS = {"rf": "RF", "di": "DI", "dp": "DP"}


def cross_method_table(trees, l2h, *, missing=None, order=None):
    """Reference-tree agreement of every hierarchy the pipeline builds (no paper has this).

    Rows encoder x method: CAEC relation trees built with the cluster metric as tree metric
    (``CAEC <metric> (G)`` / ``(P)``), UPGMA on class means before clustering, L2H per logit
    source and the agglomerative baseline; columns dataset x (RF, DI, DP). RF and DI lower is
    better, DP higher is better.
    """
    parts = []
    if len(trees):
        t = trees[trees["cluster_metric"].astype(str) == trees["tree_metric"].astype(str)].copy()
        t["method"] = "CAEC " + t["cluster_metric"].astype(str) + " (" + t["point"].astype(str) + ")"
        b = trees[trees["cluster_metric"].astype(str) == BEFORE].copy()
        b["method"] = "UPGMA before (" + b["tree_metric"].astype(str) + ")"
        parts += [t, b]
    if len(l2h):
        l_ = l2h.copy()
        l_["method"] = l_["source"].map(_method_label)
        parts.append(l_)
    cols = list(CROSS_METRICS)
    if parts:
        df = pd.concat([p.reindex(columns=["dataset", "encoder", "method", *cols]) for p in parts], ignore_index=True)
        df = df.dropna(subset=cols, how="all")
        long = df.melt(id_vars=["dataset", "encoder", "method"], value_vars=cols, var_name="m", value_name="v")
        long["m"] = long["m"].map(CROSS_METRICS)
    else:
        long = pd.DataFrame(columns=["dataset", "encoder", "method", "m", "v"])
    order = dict(order or {})
    order["m"] = list(CROSS_METRICS.values())
    methods = []
    for m in order.get("metric", []):
        methods += [f"CAEC {m} (G)", f"CAEC {m} (P)"]
    methods += [f"UPGMA before ({m})" for m in order.get("metric", [])]
    methods += [_method_label(s) for s in order.get("source", [])]
    order["method"] = methods
    miss = None
    if missing is not None and len(missing):
        miss = missing.copy()
        method = pd.Series(index=miss.index, dtype=object)
        for i, rec in miss.iterrows():
            cm, tm, src = (rec.get(k) for k in ("cluster_metric", "tree_metric", "source"))
            if isinstance(src, str):
                method[i] = _method_label(src)
            elif cm == BEFORE:
                method[i] = f"UPGMA before ({tm})"
            elif isinstance(cm, str) and cm == tm:
                method[i] = f"CAEC {cm} ({rec.get('point')})"
        miss["method"] = method
        miss = miss.dropna(subset=["method"])[["dataset", "encoder", "method"]]
    return _method_table(
        long,
        name="cross_method",
        title="Agreement with the reference hierarchy: CAEC relation trees, L2H and agglomerative trees",
        missing=miss,
        order=order,
        directions={"RF": "min", "DI": "min", "DP": "max"},
        column_formats={"RF": ("fixed", 0)},  # RF counts splits
    )


# ----------------------------------------------------------------------------- projection


def project_pca(X, *, n_max=5000, seed=0):
    """A 2-D PCA projection fitted on a random subsample (cheap, linear, so centroids map too).

    Linear PCA is used instead of UMAP / t-SNE because cluster centroids G and manifold mean
    points P (CAEC eq. 7-9) must be projected with the same map as the embeddings: a linear
    map sends the mean of the points to the projected mean.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_max : int, maximum number of samples kept (and used to fit)
    seed : int, random state of the subsample

    Returns
    -------
    index : ndarray of shape (n_kept,), the kept sample indices (sorted)
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (2, n_features); project ``Y`` as ``(Y - mean) @ components.T``
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 3:
        raise ValueError(f"X must be 2-D with at least 3 rows, got shape {X.shape}")
    if int(n_max) < 3:
        raise ValueError(f"n_max={n_max} should be >= 3")
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(X), size=min(int(n_max), len(X)), replace=False))
    sub = X[index]
    mean = sub.mean(axis=0)
    # SVD of the centred subsample: rows of Vt are the principal axes (sklearn PCA does the same).
    _, _, vt = np.linalg.svd(sub - mean, full_matrices=False)
    comps = np.zeros((2, X.shape[1]))
    comps[: min(2, len(vt))] = vt[:2]
    # Sign convention of sklearn's svd_flip: largest |loading| positive, for stable plots.
    signs = np.sign(comps[np.arange(2), np.argmax(np.abs(comps), axis=1)])
    comps *= np.where(signs == 0, 1, signs)[:, None]
    return index, mean, comps


# ----------------------------------------------------------------------------- figures


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (``.png``) and the same name with ``.svg``, atomically."""
    path = Path(path)
    out = []
    # One tight bounding box for both formats: bbox_inches="tight" would draw each figure an
    # extra time per format (most of the cost of report regeneration).
    bbox = fig.get_tightbbox().padded(0.1)
    for p in (path.with_suffix(".png"), path.with_suffix(".svg")):
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=100 if p.suffix == ".png" else None, bbox_inches=bbox, format=p.suffix[1:])
        out.append(p)
    plt.close(fig)
    return out


def _check_growth(target, other, class_names):
    target = np.atleast_2d(np.asarray(target, dtype=float))
    other = np.atleast_2d(np.asarray(other, dtype=float))
    if target.shape != other.shape:
        raise ValueError(f"target shape {target.shape} != other shape {other.shape}")
    if len(class_names) != target.shape[0]:
        raise ValueError(f"len(class_names)={len(class_names)} != target rows {target.shape[0]}")
    return target, other


def plot_growth(target, other, class_names, *, radii=None, title=""):
    """CAEC paper fig. 3: growth |Y_{r+1}| - |Y_r| (target) and |Z_{r+1}| - |Z_r| (other classes).

    Parameters
    ----------
    target, other : ndarray of shape (n_classes, n_steps)
        Per-step increments of target / non-target embeddings inside the growing ball
        (padded with NaN after a class stops growing).
    class_names : sequence of str, length n_classes
    radii : ndarray of shape (n_steps,) or (n_classes, n_steps), optional x values (default: step).

    Returns
    -------
    matplotlib Figure, one panel per class.
    """
    return plot_growth_grid([("", dict(target=target, other=other, class_names=class_names, radii=radii))],
                            title=title)


def plot_growth_grid(rows, *, title=""):
    """Growth curves of several runs (e.g. one column per cluster metric), classes overlaid.

    Top row: target increments |Y_{r+1}| - |Y_r| per class (one colour each); bottom row:
    other-class increments |Z_{r+1}| - |Z_r|, against the radius. Overlaying the classes
    keeps the figure at two panels per run (cheap to draw: report regeneration time) and puts
    the classes of one metric on a common radius axis.

    Parameters
    ----------
    rows : list of (label, dict)
        One entry per column; each dict holds the arguments of :func:`plot_growth`
        (``target``, ``other``, ``class_names``, optional ``radii``).
    """
    if not rows:
        raise ValueError("rows is empty")
    checked = [(label, *_check_growth(c["target"], c["other"], c["class_names"]), c) for label, c in rows]
    n = len(checked)
    fig, axes = plt.subplots(2, n, figsize=(3.4 * n, 4.4), squeeze=False, sharex="col")
    cmap = plt.get_cmap("tab10")
    for j, (label, target, other, c) in enumerate(checked):
        radii = c.get("radii")
        for k in range(target.shape[0]):
            if radii is None:
                x = np.arange(1, target.shape[1] + 1)
            else:
                r = np.asarray(radii, dtype=float)
                x = r[k] if r.ndim == 2 else r
            axes[0, j].plot(x, target[k], color=cmap(k % 10), lw=1, label=str(c["class_names"][k]))
            axes[1, j].plot(x, other[k], color=cmap(k % 10), lw=1)
        axes[0, j].set_title(label, fontsize=9)
        axes[1, j].set_xlabel("radius" if radii is not None else "step r", fontsize=8)
        for ax in axes[:, j]:
            ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("target |Y_{r+1}|-|Y_r|", fontsize=8)
    axes[1, 0].set_ylabel("other |Z_{r+1}|-|Z_r|", fontsize=8)
    axes[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.25, hspace=0.12, top=0.9 if title else 0.95)
    return fig


def parse_newick(text):
    """Parse a Newick string into nested ``(name, length, children)`` tuples.

    Hand-written (about 30 lines) rather than dendropy because the report only needs
    topology, leaf names and branch lengths, and dendropy's taxon-namespace handling renames
    leaves (underscores to spaces) which would break matching against class names.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("newick text is empty")
    s = text.strip()
    if not s.endswith(";"):
        raise ValueError(f"newick text must end with ';', got ...{s[-20:]!r}")
    pos = 0

    def label():
        nonlocal pos
        start = pos
        if pos < len(s) and s[pos] == "'":
            end = s.index("'", pos + 1)
            pos = end + 1
            name = s[start + 1 : end]
        else:
            while pos < len(s) and s[pos] not in ",():;":
                pos += 1
            name = s[start:pos].strip()
        length = None
        if pos < len(s) and s[pos] == ":":
            pos += 1
            start = pos
            while pos < len(s) and s[pos] not in ",();":
                pos += 1
            length = float(s[start:pos])
        return name, length

    def node():
        nonlocal pos
        children = []
        if s[pos] == "(":
            pos += 1
            children.append(node())
            while s[pos] == ",":
                pos += 1
                children.append(node())
            if s[pos] != ")":
                raise ValueError(f"newick: expected ')' at position {pos}")
            pos += 1
        name, length = label()
        return (name, length, children)

    tree = node()
    if s[pos] != ";":
        raise ValueError(f"newick: unexpected text at position {pos}: {s[pos:pos + 20]!r}")
    return tree


def _height(node):
    return 0 if not node[2] else 1 + max(_height(c) for c in node[2])


def _all_lengths(tree):
    return all(c[1] is not None and _all_lengths(c) for c in tree[2])


def _layout(tree, use_lengths=True):
    """Node positions of a rectangular dendrogram.

    x is the distance from the root (branch lengths when every branch has one, otherwise a
    cladogram with the leaves aligned); y is the leaf order. Returns the line segments
    ``((x0, y0), (x1, y1))`` and the leaves ``(name, x, y)``.
    """
    leaves, segs = [], []
    phylogram = use_lengths and _all_lengths(tree)
    top = _height(tree)

    def walk(node, x_parent):
        name, length, children = node
        if phylogram:
            x = x_parent + (length or 0.0) if x_parent is not None else 0.0
        else:
            x = float(top - _height(node))
        if not children:
            y = float(len(leaves))
            leaves.append((name, x, y))
            return x, y
        ys = []
        for c in children:
            cx, cy = walk(c, x)
            segs.append(((x, cy), (cx, cy)))
            ys.append(cy)
        segs.append(((x, min(ys)), (x, max(ys))))
        return x, (min(ys) + max(ys)) / 2

    walk(tree, None)
    return segs, leaves


def _rotate_to(tree, target_y):
    """``tree`` with every node's children sorted by the mean ``target_y`` of their leaves."""

    def walk(node):
        name, length, children = node
        if not children:
            y = target_y.get(name)
            return node, ([y] if y is not None else [])
        done = [walk(c) for c in children]
        done.sort(key=lambda cy: np.mean(cy[1]) if cy[1] else np.inf)
        return (name, length, [c for c, _ in done]), [y for _, ys in done for y in ys]

    return walk(tree)[0]


def plot_tree(newick, *, ax=None, title="", mirror=False, use_lengths=True, show_labels=True):
    """Draw a (possibly multifurcating) Newick tree as a rectangular dendrogram.

    Branch lengths are used when every branch has one (x axis = distance from the root),
    otherwise a cladogram is drawn (x axis hidden). Leaves that end before the deepest one get
    a dotted guide to the label column. ``mirror=True`` puts the root on the right.
    Returns ``(ax, {leaf name: y})``.
    """
    tree = parse_newick(newick) if isinstance(newick, str) else newick
    segs, leaves = _layout(tree, use_lengths)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, max(2.5, 0.25 * len(leaves))))
    sign = -1 if mirror else 1
    xmax = max(x for _, x, _ in leaves)
    for (x0, y0), (x1, y1) in segs:
        ax.plot([sign * x0, sign * x1], [y0, y1], color="0.2", lw=1)
    for name, x, y in leaves:
        if x < xmax:
            ax.plot([sign * x, sign * xmax], [y, y], color="0.7", lw=0.6, ls=":")
        if show_labels:
            ax.text(sign * xmax, y, f" {name} " if name else "", va="center", ha="right" if mirror else "left",
                    fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.8, len(leaves) - 0.2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if use_lengths and _all_lengths(tree):
        ax.tick_params(labelsize=7)
        if mirror:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):g}"))
    else:
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax, {name: y for name, _, y in leaves}


def plot_tree_pair(newick, reference, *, title="", left_title="relation tree", right_title="reference"):
    """A tree next to the reference tree (tanglegram style): equal leaves joined by lines.

    Returns a matplotlib Figure with three panels: the tree (root on the left), the leaf
    labels of both trees joined by a line per shared leaf, and the mirrored reference.
    """
    t = parse_newick(newick) if isinstance(newick, str) else newick
    r = parse_newick(reference) if isinstance(reference, str) else reference
    # Rotate the reference's children (which does not change it) to follow the tree's leaf
    # order, so that lines cross only where the topologies really differ.
    r = _rotate_to(r, {name: y for name, _, y in _layout(t)[1]})
    n = max(len(_layout(t)[1]), len(_layout(r)[1]))
    fig, axes = plt.subplots(
        1, 3, figsize=(11, max(3.0, 0.22 * n + 1)), gridspec_kw={"width_ratios": [3, 2.6, 3]}
    )
    _, ya = plot_tree(t, ax=axes[0], title=left_title, show_labels=False)
    _, yb = plot_tree(r, ax=axes[2], title=right_title, mirror=True, use_lengths=False, show_labels=False)
    link = axes[1]
    fs = 8 if n <= 40 else 6 if n <= 100 else 4
    for name, y in ya.items():
        link.text(0, y, name, ha="left", va="center", fontsize=fs)
    for name, y in yb.items():
        link.text(1, y, name, ha="right", va="center", fontsize=fs)
    for name, y in ya.items():
        if name in yb:
            crossed = abs(y - yb[name]) > 0.5
            link.plot([0.4, 0.6], [y, yb[name]], color="tab:red" if crossed else "tab:blue", lw=0.7, alpha=0.8)
    link.set_xlim(0, 1)
    for ax in axes[1:]:
        ax.set_ylim(axes[0].get_ylim())
    link.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.02)  # no tight_layout: savefig(bbox_inches="tight") trims the margins
    return fig


def plot_projection(xy, labels, class_names, *, centroids=None, title=""):
    """2-D scatter of projected embeddings coloured by class, with cluster centroids.

    Parameters
    ----------
    xy : ndarray of shape (n_samples, 2)
    labels : ndarray of shape (n_samples,), int class indices
    class_names : sequence of str
    centroids : dict name -> ndarray of shape (n_classes, 2), optional (e.g. ``{"G": ..., "P": ...}``)
    """
    xy = np.asarray(xy, dtype=float)
    labels = np.asarray(labels)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must have shape (n, 2), got {xy.shape}")
    if len(labels) != len(xy):
        raise ValueError(f"len(labels)={len(labels)} != len(xy)={len(xy)}")
    C = len(class_names)
    cmap = plt.get_cmap("tab10" if C <= 10 else "tab20" if C <= 20 else "gist_ncar")
    colors = [cmap(k / max(C - 1, 1)) if C > 20 else cmap(k) for k in range(C)]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for k in range(C):
        sel = labels == k
        ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.35, color=colors[k],
                   label=str(class_names[k]) if C <= 20 else None, rasterized=True)
    markers = ["X", "P", "D", "*", "s"]
    for m, (name, pts) in enumerate((centroids or {}).items()):
        pts = np.asarray(pts, dtype=float)
        ax.scatter(pts[:, 0], pts[:, 1], s=70, marker=markers[m % len(markers)],
                   c=[colors[k % C] for k in range(len(pts))], edgecolors="black", linewidths=0.8,
                   label=f"{name}")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if C <= 20 or centroids:
        ax.legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_heatmap(table, *, title=None, cmap="viridis"):
    """Heatmap of a numeric :class:`ReportTable` (or DataFrame), values annotated in the cells.

    Missing / not-applicable cells are left blank (grey).
    """
    values = table.values if isinstance(table, ReportTable) else table
    numeric = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = [" / ".join(map(str, t)) if isinstance(t, tuple) else str(t) for t in values.index]
    cols = [" / ".join(map(str, t)) if isinstance(t, tuple) else str(t) for t in values.columns]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * max(len(cols), 1), 1.0 + 0.35 * max(len(rows), 1)))
    masked = np.ma.masked_invalid(numeric)
    cm = plt.get_cmap(cmap).with_extremes(bad="0.9")
    im = ax.imshow(masked, aspect="auto", cmap=cm)
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    finite = numeric[np.isfinite(numeric)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(numeric.shape[0]):
        for j in range(numeric.shape[1]):
            v = numeric[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if v > mid else "white")
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title if title is not None else getattr(table, "title", ""), fontsize=9)
    return fig


# ----------------------------------------------------------------------------- builders
# One call per report rule: the rule script loads the per-run tables, calls one builder and
# writes what it returns, so the choice of tables lives here (testable), not in the script.


def _for(missing, family):
    return (missing or {}).get(family)


def build_caec_tables(summary, per_class, infiltration, intrusion, ttest, *, datasets, missing=None, order=None):
    """Every CAEC table (paper tables 1-14 layouts) from the concatenated per-run tables.

    Parameters
    ----------
    summary, per_class, infiltration, intrusion, ttest : DataFrame
        Concatenated ``summary.tsv``, ``per_class.tsv``, ``infiltration.tsv``,
        ``intrusion.tsv`` and ``ttest.tsv`` rows (see ``docs/design.md``).
    datasets : list of str, datasets with CAEC runs (one per-class table each).
    missing : dict family -> DataFrame of missing-run records (from :func:`load_run_tables`).

    Returns
    -------
    list of ReportTable
    """
    order = order or {}
    # Paper tables 5-6 use the purity of eq. 17 (all clusters pooled): the summary's `purity`
    # column; older summaries only have the per-class mean `purity_mean`.
    purity = "purity" if "purity" in summary.columns else "purity_mean"
    tables = [
        caec_metric_table(summary, purity, missing=_for(missing, "summary"), order=order, name="caec_purity"),
        purity_mean_std_table(summary, missing=_for(missing, "summary"), order=order, value=purity),
        caec_metric_table(summary, "ri", missing=_for(missing, "summary"), order=order),
        caec_metric_table(summary, "nmi", missing=_for(missing, "summary"), order=order),
        angle_table(per_class, missing=_for(missing, "per_class"), order=order),
        chi2_table(per_class, missing=_for(missing, "per_class"), order=order),
        ttest_table(ttest, missing=_for(missing, "ttest"), order=order),
    ]
    for ds in datasets:
        classes = None
        if len(per_class) and (per_class["dataset"] == ds).any():
            classes = per_class[per_class["dataset"] == ds].sort_values("class")["class_name"].drop_duplicates()
        tables += [
            per_class_table(per_class, ds, "r_max", missing=_for(missing, "per_class"), order=order),
            per_class_table(per_class, ds, "coverage", missing=_for(missing, "per_class"), order=order),
            infiltration_table(infiltration, ds, missing=_for(missing, "infiltration"), order=order,
                               classes=classes, runs=summary),
            intrusion_table(intrusion, ds, missing=_for(missing, "intrusion"), order=order),
        ]
    return tables


def build_tree_tables(trees, *, datasets, missing=None, order=None):
    """Relation-tree tables 17 (RF) and 18 (DI) for every dataset with a reference."""
    out = []
    for ds in datasets:
        out += [
            tree_distance_table(trees, ds, "rf", missing=_for(missing, "trees"), order=order),
            tree_distance_table(trees, ds, "di", missing=_for(missing, "trees"), order=order),
        ]
    return out


CAEC_HEATMAP_METRICS = ["purity", "ri", "nmi"]


def plot_caec_heatmaps(summary, *, order=None):
    """Heatmaps of purity, RI and NMI over (encoder x cluster metric) x dataset, side by side."""
    metrics = [m if m in summary.columns or m != "purity" else "purity_mean" for m in CAEC_HEATMAP_METRICS]
    n = len(metrics)
    tables = [caec_metric_table(summary, m, order=order) for m in metrics]
    nrow, ncol = tables[0].values.shape
    fig, axes = plt.subplots(1, n, figsize=(n * (2.2 + 0.9 * ncol), 1.2 + 0.32 * nrow), squeeze=False)
    rows = [" / ".join(map(str, t)) for t in tables[0].values.index]
    for k, (ax, t) in enumerate(zip(axes[0], tables)):
        v = t.values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        im = ax.imshow(np.ma.masked_invalid(v), aspect="auto", cmap=plt.get_cmap("viridis").with_extremes(bad="0.9"),
                       vmin=0, vmax=1)
        ax.set_xticks(range(ncol), [str(c) for c in t.values.columns], rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(nrow), rows if k == 0 else [""] * nrow, fontsize=8)
        for i in range(nrow):
            for j in range(ncol):
                if np.isfinite(v[i, j]):
                    ax.text(j, i, f"{v[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="black" if v[i, j] > 0.5 else "white")
        ax.set_title(LABELS.get(metrics[k], metrics[k]), fontsize=9)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.03)
    return fig


def load_families(specs, partial=False):
    """:func:`load_run_tables` for each family of ``specs`` (dict family -> list of specs).

    Returns ``(data, missing)``: two dicts family -> DataFrame. With ``partial=False`` all
    families are checked before raising, so the error lists every missing table at once.
    """
    data, missing, errors = {}, {}, []
    for family, fam_specs in specs.items():
        try:
            data[family], missing[family] = load_run_tables(list(fam_specs), partial=partial, what=f"{family} tables")
        except MissingResultsError as exc:
            errors.append(str(exc))
    if errors:
        raise MissingResultsError("\n".join(errors))
    return data, missing


def placeholder_figure(message):
    """A figure that states what is missing (partial reports keep every figure slot visible)."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    ax.axis("off")
    return fig


# growth.npz key pairs, first match wins: per-step increments, or cumulative counts to difference.
_GROWTH_INCREMENTS = [("target", "other"), ("dY", "dZ"), ("new_target", "new_other"), ("delta_target", "delta_other")]
_GROWTH_CUMULATIVE = [("Y", "Z"), ("n_target", "n_other"), ("target_counts", "other_counts"),
                      ("cum_target", "cum_other")]


def growth_curves(arrays, n_classes=4):
    """Arguments of :func:`plot_growth` from the arrays of a CAEC ``growth.npz``.

    Accepts per-step increments (``target`` / ``other``) or cumulative counts inside the
    radius (``Y`` / ``Z`` ...; differenced here), padded per class; optional ``radii`` and
    ``class_names``. The first ``n_classes`` classes are kept (all when ``n_classes`` is 0).
    """
    def pick(pairs):
        for a, b in pairs:
            if a in arrays and b in arrays:
                return np.asarray(arrays[a], dtype=float), np.asarray(arrays[b], dtype=float)
        return None

    inc = pick(_GROWTH_INCREMENTS)
    if inc is None:
        cum = pick(_GROWTH_CUMULATIVE)
        if cum is None:
            raise ValueError(f"growth arrays have none of the known count keys; got {sorted(arrays)}")
        inc = tuple(np.diff(c, axis=-1) for c in cum)
        radii = arrays.get("radii")
        radii = None if radii is None else np.asarray(radii, dtype=float)[..., 1:]
    else:
        radii = arrays.get("radii")
    target, other = (np.atleast_2d(x) for x in inc)
    C = target.shape[0]
    names = arrays.get("class_names")
    names = [str(n) for n in names] if names is not None else [str(k) for k in range(C)]
    if "classes" in arrays and len(names) != C:
        names = [names[int(k)] for k in np.asarray(arrays["classes"])]
    keep = slice(None) if not n_classes else slice(0, int(n_classes))
    if radii is not None and np.ndim(radii) == 2:
        radii = radii[keep]
    return {"target": target[keep], "other": other[keep], "class_names": names[keep], "radii": radii}


def build_all_tables(data, missing, *, caec_datasets, reference_datasets, order=None):
    """Every report table from the loaded families (``data`` / ``missing`` of :func:`load_families`).

    Returns a dict section -> list of ReportTable (sections: caec, trees, l2h, flat, cross).
    """
    m = missing
    l2h_ref = data["l2h"]
    if len(l2h_ref):
        l2h_ref = l2h_ref[l2h_ref["dataset"].isin(reference_datasets)]
    cross_gaps = [g for f, g in m.items() if f in ("trees", "l2h") and len(g)]
    cross_missing = pd.concat(cross_gaps, ignore_index=True) if cross_gaps else None
    if cross_missing is not None:
        cross_missing = cross_missing[cross_missing["dataset"].isin(reference_datasets)]
    return {
        "caec": build_caec_tables(data["summary"], data["per_class"], data["infiltration"], data["intrusion"],
                                  data["ttest"], datasets=caec_datasets, missing=m, order=order),
        "trees": build_tree_tables(data["trees"], datasets=reference_datasets, missing=m, order=order),
        "l2h": [l2h_table(data["l2h"], missing=m.get("l2h"), order=order)],
        "flat": [flat_table(data["flat"], v, missing=m.get("flat"), order=order) for v in ("ami", "silhouette")],
        "cross": [cross_method_table(data["trees"], l2h_ref, missing=cross_missing, order=order)]
        if reference_datasets else [],
    }


def tree_figure(run, partial=False):
    """The figure of one tree-figure spec of the report rules.

    ``run`` holds ``tree`` (Newick path), ``reference`` (Newick path or None), ``title`` and
    ``left`` (title of the tree panel). A missing file raises :class:`MissingResultsError`,
    or with ``partial=True`` gives a placeholder figure naming it.
    """
    gone = [f for f in (run["tree"], run["reference"]) if f and not Path(f).exists()]
    if gone:
        if not partial:
            raise MissingResultsError(f"tree figure needs {', '.join(gone)} (file not found)")
        return placeholder_figure(f"{MISSING}: {', '.join(gone)}")
    if run["reference"]:
        return plot_tree_pair(Path(run["tree"]).read_text(), Path(run["reference"]).read_text(),
                              title=run["title"], left_title=run["left"])
    return plot_tree(Path(run["tree"]).read_text(), title=run["title"])[0].figure


def plot_flat_heatmap(flat, value="ami", *, order=None):
    """Heatmap of the flat-clustering ``value`` (mean over seeds): rows clusterer x reducer,
    columns dataset x encoder (dense, unlike the paper-layout table whose rows hold encoders)."""
    t = wide_table(
        flat, ["clusterer", "reducer"], ["dataset", "encoder"], value, name=f"flat_{value}_heatmap",
        title=f"Flat clustering: mean {LABELS.get(value, value)} over seeds", aggregate="mean_std", ddof=1,
        order=order,
    )
    return plot_heatmap(t)
