"""Reading the per-run tables the report aggregates (the only file reading of the tables)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from embtree.report.common import MissingResultsError


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


#: Columns of a Snakemake benchmark file the report reads: wall-clock seconds, peak resident memory
#: (MB) and CPU seconds (the file has more: h:m:s, max_vms, io_in, ...).
BENCHMARK_COLUMNS = ("s", "max_rss", "cpu_time")


def load_benchmarks(specs):
    """Read the Snakemake benchmark files (``benchmark:`` of a rule, e.g. logs/benchmarks/...) of ``specs``.

    ``specs``: as for :func:`load_run_tables` (``path``, ``keys``). A benchmark is not a result: a
    missing or unreadable file (results copied from another machine, a job run before benchmarks
    were written) is never an error, only listed in ``missing``. A file of several rows
    (``repeat()``) gives its mean.

    Returns
    -------
    data : DataFrame, one row per file read: the ``keys`` and :data:`BENCHMARK_COLUMNS`
    missing : DataFrame, one row per file not read: its ``keys`` and ``reason``
    """
    rows, missing = [], []
    for spec in specs:
        path, keys = Path(spec["path"]), dict(spec["keys"])
        try:
            df = pd.read_csv(path, sep="\t")
        except FileNotFoundError:
            missing.append({**keys, "reason": f"no benchmark file {path}"})
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError) as exc:
            missing.append({**keys, "reason": f"unreadable benchmark file {path}: {exc}"})
            continue
        if "s" not in df.columns or not len(df):
            missing.append({**keys, "reason": f"benchmark file {path} has no 's' column or no rows"})
            continue
        rows.append({**keys, **{c: float(pd.to_numeric(df[c], errors="coerce").mean())
                                for c in BENCHMARK_COLUMNS if c in df.columns}})
    return pd.DataFrame(rows), pd.DataFrame(missing)
