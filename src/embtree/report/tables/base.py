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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embtree.report.common import CHANCE_ALPHA, DIRECTIONS


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
    decimals: int = 2
    number_format: str = "fixed"  # "fixed" (``decimals`` places) or "pvalue" (see _fmt_number)
    notes: list = field(default_factory=list)
    # Per-column override {last level of the column label: (number_format, decimals)}.
    column_formats: dict = field(default_factory=dict)

    def __post_init__(self):
        shape = self.values.shape
        for name in ("std", "count", "bold", "missing", "incomplete", "flagged", "chance"):
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
    decimals=2,
    number_format="fixed",
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
        count=counts,
        expected_count=expected_count,
        decimals=decimals,
        number_format=number_format,
    )


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
    before held-out sets existed) are fit rows.

    Returns
    -------
    (list of str, DataFrame)
    """
    rows = list(rows)
    if not len(df):
        return rows, df
    if "split" not in df.columns:
        df = df.assign(split="fit")
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


def flag_cells(table, df, rows, cols, flag, note, direction=None):
    """Set ``table.flagged`` where any row of tidy ``df`` in that cell has ``df[flag]`` true.

    ``rows`` / ``cols`` are the key columns the table was pivoted on (as for
    :func:`wide_table`); ``note`` is appended to ``table.notes`` when a cell is flagged.
    Flagged cells are never bold; with ``direction`` ("max" / "min") the best of the other
    cells of each column becomes bold instead. Returns ``table``. A ``df`` without the
    ``flag`` column (older per-run tables) flags nothing.
    """
    if not len(df) or flag not in df.columns:
        return table
    truth = df[flag].astype(str).str.lower().isin(["true", "1", "yes"])
    table.flagged = table.flagged | _cell_mask(table, df, rows, cols, truth.to_numpy())
    if direction is not None:
        numeric = table.values.apply(pd.to_numeric, errors="coerce")
        best = best_mask(numeric.where(~table.flagged), direction,
                         table.decimals if table.number_format == "fixed" else None)
        table.bold = best & ~table.missing & ~table.incomplete
    table.bold = table.bold & ~table.flagged
    if table.flagged.to_numpy().any() and note not in table.notes:
        table.notes.append(note)
    return table


def mark_chance(table, df, rows, cols, p_column, note, alpha=CHANCE_ALPHA):
    """Set ``table.chance`` where a row of tidy ``df`` in that cell has ``df[p_column] >= alpha``
    (a tree score not better than chance); such cells are never bold. ``note`` is appended when a
    cell is marked. A ``df`` without ``p_column`` (no null distribution) marks nothing.
    Returns ``table``.
    """
    if not len(df) or p_column not in df.columns:
        return table
    p = pd.to_numeric(df[p_column], errors="coerce").to_numpy(dtype=float)
    table.chance = table.chance | _cell_mask(table, df, rows, cols, p >= alpha)
    table.bold = table.bold & ~table.chance
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
    the best cell (mean) per column is bold.
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
    if column_formats:
        t.column_formats = column_formats
    numeric = t.values.apply(pd.to_numeric, errors="coerce").where(~short_cells(t))
    t.bold = best_mask(numeric, {c: directions.get(c[1]) for c in t.values.columns}, t.decimals) & ~t.missing
    return t
