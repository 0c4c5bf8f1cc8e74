"""The wide report table type and the pivot that builds every table (best per column in bold, gaps).

:class:`ReportTable`   a wide table and how to display it (bold, missing, incomplete, flagged, chance cells)
:func:`wide_table`     tidy rows -> :class:`ReportTable`, best value of each column in bold
:func:`seeds_note`     the note of a table whose cells are mean ± std over repeated runs (seeds)
:func:`short_cells`    the cells averaging another number of runs than configured (``(n=k)``)
:func:`best_mask`      the cells holding the best value of their column
:func:`flag_cells`     mark cells built from degenerate input (never bold)
:func:`mark_chance`    mark tree scores not better than chance (p >= 0.05; never bold)
:func:`ordered_values` unique values, a preferred order first
:func:`rows_where`     the rows of a tidy table whose columns equal the given values
:func:`missing_of`     the missing-run records of one spec family
:func:`method_table`   rows encoder x method, columns dataset x metric (L2H, cross-method tables)
:func:`apply_bold`     the one bold rule of every table (best among comparable rows, as printed, no wide ties)
:func:`mark_baselines` rows of random-weights encoders: never bold, named in a note
:func:`stack_level`    a column level (the data set) moved into the rows where the runs leave it sparse
:func:`printed_values` the numbers as the text formats print them (bold compares these)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from embtree.report.common import CHANCE_ALPHA, DIRECTIONS, FORMATS, LABELS

_LABEL_OF = {m: label for m, label in LABELS.items() if m not in ("purity_mean",)}  # metric -> its header


@dataclass
class ReportTable:
    """A wide report table and how to display it.

    ``values`` holds the numbers (or strings for text tables); ``std`` (same shape, optional)
    turns cells into ``mean ± std``; ``bold`` marks cells set in bold (best per column, or
    e.g. significant p-values); ``missing`` marks expected cells without data; all other empty
    cells are "not applicable"; ``incomplete`` marks cells aggregated over only part of their
    runs (partial report), printed with an ``(incomplete)`` suffix and never bold;
    ``flagged`` marks cells built from degenerate input (CAEC clusters below
    ``caec.min_cluster_size``), printed with a ``†`` suffix and never bold (a note says why);
    ``chance`` marks tree scores not better than chance (p >= 0.05 against random trees),
    printed with a ``°`` suffix and never bold.
    ``count`` (same shape, optional) is the number of runs a ``mean ± std`` cell averages and
    ``expected_count`` the configured number (e.g. of seeds): a cell whose count differs prints
    ``(n=count)`` after its value.

    Bold has one meaning in every table (:func:`apply_bold`): the best value of its column among
    comparable rows (rows sharing the ``compare_by`` row levels, e.g. the data set), compared as
    printed, none where more than half of those rows tie or only one row has a value, never on a
    marked cell or an ``unranked`` row (a baseline, e.g. random weights). ``directions`` is what
    is best: one of "max" / "min" for every column, or {last level of the column label: "max" /
    "min" / None}; None (the default) leaves ``bold`` as set by the builder.
    ``number_format`` / ``column_formats``: "percent" (a score in [0, 1], printed x 100),
    "count", "pvalue" or "fixed" (:data:`~embtree.report.common.FORMATS`). ``empty_note`` is what
    the text formats print instead of a table without rows. ``full``: the table before aggregation
    (one column or row per class), which the CSV holds in place of this one (nothing computed is lost).
    """

    name: str
    title: str
    values: pd.DataFrame
    std: pd.DataFrame | None = None
    bold: pd.DataFrame | None = None
    missing: pd.DataFrame | None = None
    incomplete: pd.DataFrame | None = None
    flagged: pd.DataFrame | None = None
    count: pd.DataFrame | None = None
    expected_count: int | None = None
    chance: pd.DataFrame | None = None
    significant: pd.DataFrame | None = None  # p-values at or below a test's threshold: "*" (not bold)
    decimals: int = 2
    number_format: str = "fixed"  # "fixed" (``decimals`` places), "percent", "count" or "pvalue"
    notes: list = field(default_factory=list)
    # Per-column override {last level of the column label: (number_format, decimals)}.
    column_formats: dict = field(default_factory=dict)
    directions: object = None  # "max" / "min" / {last level of the column label: "max" / "min" / None}
    compare_by: list = field(default_factory=list)  # row levels of comparable rows (bold)
    unranked: pd.Series | None = None  # rows never bold (baselines), bool per row
    empty_note: str = "none"
    # The unaggregated table its CSV holds instead (a per-class table shown by superclass, issue 28).
    full: "ReportTable | None" = None

    def __post_init__(self):
        shape = self.values.shape
        for name in ("std", "count", "bold", "missing", "incomplete", "flagged", "chance", "significant"):
            frame = getattr(self, name)
            if frame is not None:
                frame = frame.reindex(index=self.values.index, columns=self.values.columns)
                if name not in ("std", "count"):
                    frame = frame.fillna(False).astype(bool)
                setattr(self, name, frame)
        if self.bold is None:
            self.bold = pd.DataFrame(False, index=self.values.index, columns=self.values.columns)
        for name in ("missing", "incomplete", "flagged", "chance"):
            if getattr(self, name) is None:
                setattr(self, name, pd.DataFrame(False, index=self.values.index, columns=self.values.columns))
        if self.unranked is None:
            self.unranked = pd.Series(False, index=self.values.index)
        else:
            self.unranked = self.unranked.reindex(self.values.index).fillna(False).astype(bool)
        assert self.bold.shape == shape

    def column_format(self, col):
        """``(number_format, decimals)`` of column ``col`` (a label of ``values.columns``)."""
        key = col[-1] if isinstance(col, tuple) else col
        return self.column_formats.get(key, (self.number_format, self.decimals))

    def direction_of(self, col):
        """"max" / "min" / None: what is best in column ``col`` (from :attr:`directions`)."""
        d = self.directions
        if isinstance(d, dict):
            key = col[-1] if isinstance(col, tuple) else col
            return d.get(key, d.get(col))
        return d


#: Bold is not given where more than this share of the comparable rows tie for the best.
MAX_TIE_SHARE = 0.5


def best_mask(values, direction, decimals=None, *, groups=None, exclude=None, max_tie_share=MAX_TIE_SHARE):
    """Cells holding the best value of their column among comparable rows (ties share it).

    No cell of a column (within a group) is marked where fewer than two rows have a value, or
    where more than ``max_tie_share`` of them tie for the best (the best then says nothing).

    Parameters
    ----------
    values : DataFrame of float (NaN = no value)
    direction : str or None or dict / Series mapping column -> "max" | "min" | None
    decimals : int, optional
        Compare the values rounded as printed, so every cell that reads like the best is bold
        (0.9999 and 1.0 both print "1.00"); see also :func:`printed_values`.
    groups : array-like of length n_rows, optional
        Rows compare only within equal labels (e.g. the data set of each row).
    exclude : DataFrame of bool, optional
        Cells that neither compete nor get bold (marked cells, baseline rows).

    Returns
    -------
    DataFrame of bool, same shape as ``values``.
    """
    out = np.zeros(values.shape, dtype=bool)
    group_of = np.zeros(len(values), dtype=int) if groups is None else pd.factorize(pd.Series(list(groups)))[0]
    # Arrays taken once: a per-class table has 1,000-10,000 columns, and pandas column access per column
    # made this quadratic.
    cells = values.to_numpy()
    excluded = None if exclude is None else exclude.to_numpy(dtype=bool)
    for j, col in enumerate(values.columns):
        d = direction.get(col) if isinstance(direction, (dict, pd.Series)) else direction
        if d is None:
            continue
        if d not in ("max", "min"):
            raise ValueError(f"direction for column {col!r} must be 'max', 'min' or None, got {d!r}")
        x = np.asarray(pd.to_numeric(cells[:, j], errors="coerce"), dtype=float)
        if decimals is not None:
            x = np.round(x, decimals)
        if excluded is not None:
            x = np.where(excluded[:, j], np.nan, x)
        mark = np.zeros(len(x), dtype=bool)
        for g in np.unique(group_of):
            rows = (group_of == g) & ~np.isnan(x)
            if rows.sum() < 2:
                continue
            best = np.nanmax(x[rows]) if d == "max" else np.nanmin(x[rows])
            # Ties within float noise (values printed identically) share the bold.
            tie = rows & np.isclose(x, best, rtol=1e-9, atol=1e-12)
            if tie.sum() <= max_tie_share * rows.sum():
                mark |= tie
        out[:, j] = mark
    return pd.DataFrame(out, index=values.index, columns=values.columns)


def printed_values(table):
    """The numbers of ``table`` as the text formats print them (percent x 100 and rounded; counts
    to one decimal; p-values unrounded): what :func:`apply_bold` compares."""
    numeric = table.values.apply(pd.to_numeric, errors="coerce") if len(table.values.columns) else table.values
    out = numeric.astype(float).to_numpy(copy=True)  # one array, not a pandas column write per column
    for j, col in enumerate(numeric.columns):
        fmt, dec = table.column_format(col)
        if fmt == "percent":
            out[:, j] = np.round(out[:, j] * 100, dec)
        elif fmt == "count":
            out[:, j] = np.round(out[:, j], 1)
        elif fmt == "fixed":
            out[:, j] = np.round(out[:, j], dec)
    return pd.DataFrame(out, index=numeric.index, columns=numeric.columns)


def excluded_cells(table):
    """Cells that never get bold and do not compete for it: missing, incomplete, flagged (†), not above
    chance (°), short of runs ((n=k)) and the cells of ``unranked`` rows."""
    ex = table.missing | table.incomplete | table.flagged | table.chance | short_cells(table)
    return ex | pd.DataFrame(np.repeat(table.unranked.to_numpy()[:, None], ex.shape[1], axis=1),
                             index=ex.index, columns=ex.columns)


def _groups(table):
    if not table.compare_by:
        return None
    idx = table.values.index
    names = list(idx.names)
    levels = [idx.get_level_values(names.index(n)) for n in table.compare_by if n in names]
    return list(zip(*levels)) if levels else None


def apply_bold(table):
    """Set ``table.bold`` by the one rule of every report table; returns ``table``.

    With ``table.directions`` set: the best printed value of each column among comparable rows
    (``table.compare_by``), without :func:`excluded_cells`, and not where more than half of the rows
    tie (:func:`best_mask`). Without directions the builder's bold is kept, less the excluded cells.
    """
    ex = excluded_cells(table)
    if table.directions is None or not len(table.values.columns):
        table.bold = table.bold & ~ex
        return table
    directions = {c: table.direction_of(c) for c in table.values.columns}
    table.bold = best_mask(printed_values(table), directions, groups=_groups(table), exclude=ex)
    return table


def mark_baselines(table, encoders, note=None):
    """Rows whose ``encoder`` level is one of ``encoders`` (random weights: structural baselines whose
    scores are no findings) become ``unranked``: never bold, and the others' best is bold instead.
    ``note`` (default: one naming them) is appended when a row is marked. Returns ``table``."""
    encoders = [str(e) for e in (encoders or [])]
    names = list(table.values.index.names)
    if not encoders or "encoder" not in names or not len(table.values):
        return table
    enc = table.values.index.get_level_values(names.index("encoder")).astype(str)
    rows = pd.Series(np.isin(enc, encoders), index=table.values.index)
    if not rows.any():
        return table
    table.unranked = table.unranked | rows
    apply_bold(table)
    hit = sorted(set(enc[rows.to_numpy()]))
    text = note or (f"{', '.join(hit)}: random weights (pretrained: false), a structural baseline; its rows "
                    "are not findings and never bold.")
    if text not in table.notes:
        table.notes.append(text)
    return table


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


def ordered_values(values, order):
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
    decimals=None,
    number_format=None,
    aggregate=None,
    ddof=0,
    expected_count=None,
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
    number_format, decimals : optional
        How the cells print; default the quantity's (:data:`~embtree.report.common.FORMATS` of
        ``value``), else ``"fixed"`` with 2 decimals.
    aggregate : None or "mean_std"
        With ``"mean_std"`` several rows per cell are averaged and ``std`` is their standard
        deviation with ``ddof`` (NaN, printed as the mean alone, for a single row with ddof=1);
        the number of values averaged goes to :attr:`ReportTable.count`.
    expected_count : int, optional
        With ``"mean_std"``: the number of rows a cell should average (e.g. the configured
        seeds); a cell built from another number prints ``(n=...)``.

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
    fmt, dec = FORMATS.get(value, ("fixed", 2))
    number_format = number_format or fmt
    decimals = dec if decimals is None else decimals
    keys = rows + cols
    if len(df):
        data = df[need].copy()
        if aggregate == "mean_std":
            g = data.groupby(keys, sort=False, dropna=False)[value]
            data = g.mean().rename(value).to_frame()
            data["_std"] = g.std(ddof=ddof)
            data["_n"] = g.count()  # values averaged (NaN rows left out, as by the mean)
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
        levels = [ordered_values(allkeys[n].tolist(), order.get(n)) for n in names]
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
    stds = counts = None
    if std:
        stds = data.set_index(keys)[std].unstack(cols).reindex(index=index, columns=columns)
    if aggregate == "mean_std" and len(data):
        counts = data.set_index(keys)["_n"].unstack(cols).reindex(index=index, columns=columns)
        counts = counts.where(counts > 0)  # no value averaged: no count (the cell prints "-")
    gap = _missing_mask(index, columns, missing, rows, cols)
    # A gap cell with data aggregates only part of its runs (e.g. one seed missing).
    miss = gap & values.isna()
    incomplete = gap & values.notna()
    table = ReportTable(
        name=name,
        title=title,
        values=values,
        std=stds,
        missing=miss,
        incomplete=incomplete,
        count=counts,
        expected_count=expected_count,
        decimals=decimals,
        number_format=number_format,
        directions=direction,
    )
    return apply_bold(table)


#: The ``split`` values of the per-run tables: the samples a method was fitted on, and a held-out
#: evaluation set scored with the fitted model (datasets.<name>.eval_path / eval_split / eval_fraction).
SPLIT_ORDER = ["fit", "eval"]
SPLIT_NOTE = ("split: fit = the samples each method was fitted on; eval = the held-out evaluation set "
              "(datasets.<name>.eval_path / eval_split / eval_fraction), assigned by the fitted model, never "
              "trained on. Read eval rows as the papers' validation-set numbers.")


def split_rows(df, rows):
    """The row keys and rows of a per-run table by ``split`` (issue 25's held-out evaluation).

    Without any ``eval`` row (no data set has a held-out set) only the ``fit`` rows are kept and
    the row keys are ``rows`` unchanged, so such tables look as before; with one, ``split`` joins
    the keys right after ``encoder`` (or last). Rows of a table without a ``split`` column (written
    before held-out sets existed) are fit rows; the rows returned always have a ``split`` column.

    Returns
    -------
    (list of str, DataFrame)
    """
    rows = list(rows)
    if "split" not in df.columns:
        df = df.assign(split="fit")
    if not len(df):
        return rows, df
    split = df["split"].astype(str)
    if not split.eq("eval").any():
        return rows, df[split.eq("fit")]
    at = rows.index("encoder") + 1 if "encoder" in rows else len(rows)
    return rows[:at] + ["split"] + rows[at:], df.assign(split=split)


def seeds_note(key, n_seeds=None, *, subject=None, bold=True):
    """The note of a table whose cells are ``wide_table(aggregate="mean_std", ddof=1,
    expected_count=n_seeds)`` over repeated runs: what was averaged and what ``(n=k)`` means.

    ``key``: the config key listing the seeds (``"heads.seeds"``); ``n_seeds``: their configured
    number (None: unknown); ``subject``: the cells the note is about (``"Clustering methods"``),
    else all; ``bold``: whether the table bolds the best mean (cells short of seeds never are).
    """
    which = f"the {n_seeds} seed{'' if n_seeds == 1 else 's'} of {key}" if n_seeds else f"the seeds of {key}"
    lead = f"{subject}: mean ± std" if subject else "Mean ± std"
    return (f"{lead} (sample std) over {which}{', bold by the mean' if bold else ''}; a single seed prints "
            f"its value alone; (n=k): only k seeds' results were found{' (never bold)' if bold else ''}.")


def short_cells(table):
    """Cells averaging another number of runs than configured (``count`` != ``expected_count``, printed
    ``(n=k)``): tables leave them out of the bold, as incomplete cells, and bold the best of the others."""
    if table.count is None or table.expected_count is None:
        return pd.DataFrame(False, index=table.values.index, columns=table.values.columns)
    return table.count.notna() & table.count.ne(table.expected_count)


def _cell_mask(table, df, rows, cols, truth):
    """Boolean frame shaped like ``table.values``: cells where any row of tidy ``df`` has ``truth``."""
    data = df[list(rows) + list(cols)].assign(_flag=np.asarray(truth, dtype=bool))
    mask = data.groupby(list(rows) + list(cols), sort=False)["_flag"].any().unstack(list(cols))
    if isinstance(table.values.columns, pd.MultiIndex) is False and isinstance(mask.columns, pd.MultiIndex):
        mask.columns = mask.columns.get_level_values(0)
    mask = mask.reindex(index=table.values.index, columns=table.values.columns).fillna(False).astype(bool)
    return mask & table.values.notna()


def truthy(series):
    """A per-run table's boolean column as bool (its TSV holds ``True`` / ``true`` / ``1`` / ``yes``)."""
    return series.astype(str).str.lower().isin(["true", "1", "yes"])


def flag_cells(table, df, rows, cols, flag, note, direction=None):
    """Set ``table.flagged`` where any row of tidy ``df`` in that cell has ``df[flag]`` true.

    ``rows`` / ``cols`` are the key columns the table was pivoted on (as for
    :func:`wide_table`); ``note`` is appended to ``table.notes`` when a cell is flagged.
    Flagged cells are never bold; the best of the other cells of each column becomes bold instead
    (:func:`apply_bold`; ``direction``, "max" / "min", sets the table's directions first). Returns ``table``. A ``df`` without the
    ``flag`` column (older per-run tables) flags nothing.
    """
    if not len(df) or flag not in df.columns:
        return table
    truth = truthy(df[flag])
    table.flagged = table.flagged | _cell_mask(table, df, rows, cols, truth.to_numpy())
    if direction is not None:
        table.directions = direction
    apply_bold(table)
    if table.flagged.to_numpy().any() and note not in table.notes:
        table.notes.append(note)
    return table


def mark_chance(table, df, rows, cols, p_column, note, alpha=CHANCE_ALPHA):
    """Set ``table.chance`` where a row of tidy ``df`` in that cell has ``df[p_column] >= alpha``
    (a tree score not better than chance); such cells are never bold (the best of the others is). ``note`` is appended when a
    cell is marked. A ``df`` without ``p_column`` (no null distribution) marks nothing.
    Returns ``table``.
    """
    if not len(df) or p_column not in df.columns:
        return table
    p = pd.to_numeric(df[p_column], errors="coerce").to_numpy(dtype=float)
    table.chance = table.chance | _cell_mask(table, df, rows, cols, p >= alpha)
    apply_bold(table)
    if table.chance.to_numpy().any() and note not in table.notes:
        table.notes.append(note)
    return table


def rows_where(df, **eq):
    """Rows of ``df`` whose columns equal the given values (``rows_where(df, dataset="cifar10")``)."""
    for k, v in eq.items():
        df = df[df[k] == v] if len(df) else df
    return df


def missing_of(missing, family):
    """The missing-run records of spec ``family`` in ``missing`` (None when there are none)."""
    return (missing or {}).get(family)


def method_table(long, *, name, title, missing, order, directions, column_formats=None, expected=None):
    """Rows encoder x method, columns dataset x metric (``long``: dataset, encoder, method, m, v).

    Several rows of one cell (one per seed) are averaged: mean ± std (sample std; one row prints
    its value alone). ``expected``: {method: its configured number of runs} (e.g. the seeds of an
    L2H source); a cell of such a method averaging another number prints ``(n=k)`` and is never
    bold, and methods not named print no n. ``directions`` maps a metric label to "max" / "min";
    the best cell (mean) per column is bold (:func:`apply_bold`). A metric label of
    :data:`~embtree.report.common.LABELS` prints in its quantity's format unless ``column_formats``
    says otherwise.
    """
    expected = dict(expected or {})
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
        aggregate="mean_std",
        ddof=1,
        expected_count=max(expected.values()) if expected else None,
    )
    if t.count is not None:
        # Each method against its own configured number: only the cells short of it keep a count.
        want = pd.Series([expected.get(key[-1]) for key in t.count.index], index=t.count.index, dtype=float)
        t.count = t.count.where(t.count.ne(want, axis=0) & want.notna().to_numpy()[:, None])
    t.column_formats = {**{label: FORMATS[m] for m, label in _LABEL_OF.items() if m in FORMATS},
                        **(column_formats or {})}
    t.directions = dict(directions)
    return apply_bold(t)


_CELL_FRAMES = ("values", "std", "count", "bold", "missing", "incomplete", "flagged", "chance", "significant")


def _present(table):
    return table.values.notna() | table.missing


def is_sparse(table, level="dataset"):
    """Whether a row of ``table`` has cells in some but not all groups of column level ``level`` (e.g. an
    encoder run on one of the data sets): the wide layout would print a group of ``-`` for it."""
    cols = table.values.columns
    if level not in list(cols.names) or not len(table.values):
        return False
    present = _present(table)
    groups = cols.get_level_values(level)
    have = pd.DataFrame({g: present.loc[:, groups == g].any(axis=1) for g in dict.fromkeys(groups)})
    used = have.any(axis=1)
    return bool((used & ~have.all(axis=1)).any())


def stack_level(table, level="dataset", *, label=None, when="sparse"):
    """``table`` with column level ``level`` moved to the front of the row index (a long table).

    Each row keeps only the ``level`` values it has cells for, so no row prints a column group of
    ``-`` for a data set its encoder never ran on. Bold stays as it was (it compared the rows of
    one data set) and later bold compares within it (``compare_by``). ``label``: the column
    header when ``level`` was the only column level (default the table's metric, else "value");
    ``when="sparse"`` (default) leaves tables where every row has every group (:func:`is_sparse`)
    in the paper's wide layout; ``"always"`` stacks anyway. Returns a new :class:`ReportTable`.
    """
    if when not in ("sparse", "always"):
        raise ValueError(f"when must be 'sparse' or 'always', got {when!r}")
    cols = table.values.columns
    if level not in list(cols.names) or (when == "sparse" and not is_sparse(table, level)):
        return table
    groups = cols.get_level_values(level)
    present = _present(table)
    single = cols.nlevels == 1
    rest = pd.Index([label or "value"]) if single else cols.droplevel(level)
    if isinstance(rest, pd.MultiIndex):
        rest = pd.MultiIndex.from_tuples(list(dict.fromkeys(rest)), names=rest.names)
    else:
        rest = pd.Index(list(dict.fromkeys(rest)), name=rest.name)
    pieces = {name: [] for name in _CELL_FRAMES}
    tuples, unranked = [], []
    row_names = list(table.values.index.names)
    for g in dict.fromkeys(groups):
        sel = groups == g
        keep = present.loc[:, sel].any(axis=1).to_numpy()
        if not keep.any():
            continue
        for name in _CELL_FRAMES:
            frame = getattr(table, name)
            if frame is None:
                continue
            sub = frame.loc[keep, sel].copy()
            sub.columns = pd.Index([label or "value"]) if single else sub.columns.droplevel(level)
            pieces[name].append(sub.reindex(columns=rest))
        for t in table.values.index[keep]:
            tuples.append((g, *(t if isinstance(t, tuple) else (t,))))
        unranked += list(table.unranked.to_numpy()[keep])
    index = pd.MultiIndex.from_tuples(tuples, names=[level, *row_names]) if tuples else \
        pd.MultiIndex.from_arrays([[] for _ in range(len(row_names) + 1)], names=[level, *row_names])
    kw = {}
    for name in _CELL_FRAMES:
        if getattr(table, name) is None:
            kw[name] = None
            continue
        frame = pd.concat(pieces[name]) if pieces[name] else pd.DataFrame(columns=rest, dtype=object)
        frame.index = index
        if name not in ("values", "std", "count"):
            frame = frame.fillna(False).astype(bool)
        kw[name] = frame
    out = replace(table, **kw, unranked=pd.Series(unranked, index=index, dtype=bool),
                  compare_by=[level, *[c for c in table.compare_by if c != level]], notes=list(table.notes))
    return out
