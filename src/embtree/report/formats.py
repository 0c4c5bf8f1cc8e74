"""Writing a :class:`ReportTable` as CSV, Markdown and LaTeX (the only file writing of the tables).

One formatter, :func:`format_cells`, turns the cells into strings for all three formats.
Hand-written, not pandas ``to_markdown`` / ``Styler.to_latex``: tabulate pads every cell to
its column width and prints the index as tuples; ``Styler.to_latex`` adds a separate row of
index names, ``\\multirow`` labels and no ``\\cmidrule`` under grouped headers, and its
``highlight_max`` ignores the printed rounding that :func:`~embtree.report.tables.base.best_mask`
applies; its LaTeX escaping leaves the header symbols (θ, ±, χ², ≥) to unicode.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from embtree.io import write_table, write_text
from embtree.report.common import (
    BOLD_RULE,
    CHANCE_MARK,
    INCOMPLETE,
    MISSING,
    NOT_APPLICABLE,
    PERCENT_RULE,
    PVALUE_FLOOR,
    SIGNIFICANT_MARK,
    SMALL_CLUSTER_MARK,
)


def _fmt_number(x, decimals, number_format):
    """One number as printed: see :data:`~embtree.report.common.FORMATS` for the formats."""
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if number_format == "count" or isinstance(x, (int, np.integer)) and number_format != "percent":
        x = float(x)
        return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.1f}"
    x = float(x)
    if number_format == "pvalue":
        return f"< {PVALUE_FLOOR:g}" if x < PVALUE_FLOOR else f"{x:#.3g}".rstrip(".")
    if number_format == "percent":
        return f"{100 * x:.{decimals}f}"
    if number_format != "fixed":
        raise ValueError(f"number_format must be 'fixed', 'percent', 'count' or 'pvalue', got {number_format!r}")
    return f"{x:.{decimals}f}"


def _fmt_std(sd, decimals, number_format):
    """The ``± std`` part of a cell, in the unit of its mean (a count's std one decimal)."""
    if number_format == "percent":
        return f"{100 * sd:.{decimals}f}"
    if number_format == "count":
        return f"{sd:.1f}"
    return f"{sd:.{decimals}f}"


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
        "≤": r"$\leq$",
        "χ": r"$\chi$",
        "²": r"$^2$",
        "<": r"$<$",
        ">": r"$>$",
        "|": r"$|$",
        # Marks and arrows of the cells and notes.
        "†": r"\dag{}",
        "‡": r"\ddag{}",
        "°": r"$^{\circ}$",
        "→": r"$\rightarrow$",
        "·": r"$\cdot$",
        "×": r"$\times$",
        "−": r"$-$",
        "…": r"\ldots{}",
        "≈": r"$\approx$",
    }
    return "".join(repl.get(ch, ch) for ch in str(s))



def format_cells(table, style="plain"):
    """Cell strings of ``table``: numbers formatted, ``mean ± std`` (``(n=k)`` where a cell averages
    another number of runs than ``table.expected_count``), bold, gaps.

    Parameters
    ----------
    table : ReportTable
    style : "plain" | "markdown" | "latex" | "html"
        How bold and ``±`` are written (``**x**`` / ``\\textbf{x}`` / ``<b>x</b>``; ``$\\pm$`` in
        LaTeX); HTML cells are escaped.

    Returns
    -------
    DataFrame of str, same shape as ``table.values``.
    """
    if style not in ("plain", "markdown", "latex", "html"):
        raise ValueError(f"style must be 'plain', 'markdown', 'latex' or 'html', got {style!r}")
    pm = r" $\pm$ " if style == "latex" else " ± "
    out = pd.DataFrame("", index=table.values.index, columns=table.values.columns, dtype=object)
    for j in range(table.values.shape[1]):
        fmt, decimals = table.column_format(table.values.columns[j])
        for i in range(table.values.shape[0]):
            v = table.values.iat[i, j]
            if table.missing.iat[i, j]:
                out.iat[i, j] = MISSING
                continue
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out.iat[i, j] = NOT_APPLICABLE
                continue
            sd = table.std.iat[i, j] if table.std is not None else None
            has_sd = sd is not None and not pd.isna(sd)
            # a mean count over seeds keeps one decimal, as its std
            s = f"{float(v):.1f}" if fmt == "count" and has_sd else _fmt_number(v, decimals, fmt)
            if style == "latex":
                s = _escape_latex(s)
            if has_sd:
                s = f"{s}{pm}{_fmt_std(float(sd), decimals, fmt)}"
            if table.count is not None and table.expected_count is not None:
                n = table.count.iat[i, j]
                if not pd.isna(n) and int(n) != table.expected_count:
                    s = f"{s} (n={int(n)})"
            if table.incomplete.iat[i, j]:
                s = f"{s} ({INCOMPLETE})"
            if table.flagged.iat[i, j]:
                s = f"{s} {SMALL_CLUSTER_MARK}"
            if table.chance.iat[i, j]:
                s = f"{s}{CHANCE_MARK}"
            if table.significant is not None and table.significant.iat[i, j]:
                s += ("\\" if style == "markdown" else "") + SIGNIFICANT_MARK
            if style == "html":
                s = html.escape(s)
            if table.bold.iat[i, j]:
                s = {"markdown": f"**{s}**", "latex": rf"\textbf{{{s}}}", "html": f"<b>{s}</b>"}.get(style, s)
            out.iat[i, j] = s
    return out



def _header_rows(columns):
    """Column labels as a list of header rows (one per MultiIndex level)."""
    if isinstance(columns, pd.MultiIndex):
        return [[str(c[k]) for c in columns] for k in range(columns.nlevels)]
    return [[str(c) for c in columns]]



def _header_spans(headers, level):
    """``(first, last)`` column of each header cell of row ``level`` of ``_header_rows``.

    Equal labels that also share every higher level are grouped (so groups nest); the last
    row has one cell per column.
    """
    ncol, last = len(headers[level]), level == len(headers) - 1
    spans, j = [], 0
    while j < ncol:
        k = j
        while k + 1 < ncol and not last and all(headers[u][k + 1] == headers[u][j] for u in range(level + 1)):
            k += 1
        spans.append((j, k))
        j = k + 1
    return spans


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



def _formats_used(table):
    return {table.column_format(c)[0] for c in table.values.columns}


def caption(table):
    """The caption of ``table``: its title, then what the printing rules of this table are (scores in %,
    p-values, what bold means, ``-``), each said once; the notes follow it in every format."""
    parts = [table.title.rstrip(".") + "."]
    used = _formats_used(table) if len(table.values) else set()
    if "percent" in used:
        d = max(table.column_format(c)[1] for c in table.values.columns if table.column_format(c)[0] == "percent")
        parts.append(PERCENT_RULE.format(d=d, s="" if d == 1 else "s"))
    if "pvalue" in used:
        parts.append(f"p-values below {PVALUE_FLOOR:g} print as < {PVALUE_FLOOR:g}, others with three "
                     "significant digits.")
    ranked = table.directions is not None and any(table.direction_of(c) for c in table.values.columns)
    if ranked and len(table.values):
        scope = f" (same {' and '.join(str(c).replace('_', ' ') for c in table.compare_by)})" \
            if table.compare_by else ""
        unranked = ", nor to baseline rows" if table.unranked.any() else ""
        parts.append(BOLD_RULE.format(scope=scope, unranked=unranked))
    elif len(table.values) and table.bold.to_numpy().any():
        pass  # a builder's own bold: its title or notes say what it marks
    elif len(table.values):
        parts.append("No bold: the columns describe, they do not compete.")
    if len(table.values) and (table.values.isna() & ~table.missing).to_numpy().any():
        parts.append(f"{NOT_APPLICABLE}: not applicable.")
    return " ".join(parts)


def _empty_text(table):
    note = table.empty_note or "none"
    return note[0].upper() + note[1:] + ("" if note.endswith(".") else ".")


def to_markdown(table):
    """GitHub-flavoured Markdown: the pipe table, then its caption (``Table: ...``, pandoc's table
    caption) and the notes under it; bold as ``**x**``.

    Multi-level column labels are joined with `` / `` (Markdown has a single header row). A table
    without rows prints its :attr:`~ReportTable.empty_note` (default "none") instead of a header.
    """
    cap = f"Table: {caption(table)}"
    if not len(table.values):
        lines = [f"**{table.title}**", "", _empty_text(table)]
        return "\n".join(lines + [f"\n{note}" for note in table.notes]) + "\n"
    cells = format_cells(table, "markdown")
    header = _index_names(table.values.index) + [" / ".join(h) for h in zip(*_header_rows(cells.columns))]
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for labels, (_, row) in zip(_index_rows(cells.index), cells.iterrows()):
        vals = [s.replace("|", "\\|") for s in labels + list(row)]
        lines.append("| " + " | ".join(vals) + " |")
    lines += ["", cap]
    for note in table.notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def latex_label(table):
    """The ``\\label`` of ``table``: ``tab:<name>``."""
    return f"tab:{table.name}"


#: Columns (index included) above which :func:`to_latex` shrinks a table to the line width.
LATEX_MAX_COLUMNS = 9


def to_latex(table):
    """A ``table`` float for ``\\input``: ``\\caption`` (:func:`caption`), ``\\label`` (:func:`latex_label`),
    a booktabs ``tabular`` (``\\toprule`` / ``\\midrule`` / ``\\bottomrule``, ``\\multicolumn`` headers
    with ``\\cmidrule`` under grouped columns) and the notes in small type under it. Needs
    ``\\usepackage{booktabs}`` and, for a table wider than :data:`LATEX_MAX_COLUMNS` columns (shrunk to
    the line width by ``\\resizebox``), ``\\usepackage{graphicx}``; a table without rows prints its
    empty note instead of a tabular."""
    head = [f"% {table.name}: {table.title}", r"\begin{table}[htbp]", r"\centering", r"\small",
            rf"\caption{{{_escape_latex(caption(table))}}}", rf"\label{{{latex_label(table)}}}"]
    notes = [_escape_latex(n) for n in table.notes]
    if not len(table.values):
        body = [_escape_latex(_empty_text(table))]
    else:
        body = _latex_tabular(table)
        if table.values.shape[1] + len(_index_names(table.values.index)) > LATEX_MAX_COLUMNS:
            # A wide table (Merge & Expand, the spread over heads) overflows a page's text width:
            # shrink it to the line width, as papers do, rather than let it run into the margin.
            body = [r"\resizebox{\linewidth}{!}{%"] + body + ["}"]
    tail = []
    if notes:
        tail = [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize",
                "\n\n".join(notes), r"\end{minipage}"]
    return "\n".join(head + body + tail + [r"\end{table}"]) + "\n"


def _latex_tabular(table):
    cells = format_cells(table, "latex")
    n_idx = len(_index_names(table.values.index))
    headers = _header_rows(cells.columns)
    ncol = cells.shape[1]
    lines = [
        r"\begin{tabular}{" + "l" * n_idx + "r" * ncol + "}",
        r"\toprule",
    ]
    for level, labels in enumerate(headers):
        last = level == len(headers) - 1
        lead = [_escape_latex(n) for n in _index_names(table.values.index)] if last else [""] * n_idx
        parts, rules = [], []
        for j, k in _header_spans(headers, level):
            span = k - j + 1
            text = _escape_latex(labels[j])
            parts.append(rf"\multicolumn{{{span}}}{{c}}{{{text}}}" if span > 1 else text)
            if span > 1:
                rules.append(rf"\cmidrule(lr){{{n_idx + j + 1}-{n_idx + k + 1}}}")
        lines.append(" & ".join(lead + parts) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    lines.append(r"\midrule")
    prev = None
    for labels, (key, row) in zip(_index_rows(cells.index), cells.iterrows()):
        first = key[0] if isinstance(key, tuple) and len(key) > 1 else None
        if prev is not None and first is not None and first != prev and table.compare_by:
            lines.append(r"\addlinespace")  # a new group of comparable rows (a data set of a long table)
        prev = first
        lines.append(" & ".join([_escape_latex(s) for s in labels] + list(row)) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return lines


_HTML_STYLE = (
    "body{font-family:system-ui,sans-serif;font-size:13px;margin:8px}"
    "table{border-collapse:collapse}p.title{font-weight:600;margin:4px 0 8px}"
    "th,td{padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#f4f4f4}"
    "tbody th{font-weight:normal;text-align:left;color:#333}td b{font-weight:700}"
    "tr:hover td{background:#fafae0}p.note{color:#555;max-width:60em}"
)


def to_html(table):
    """A standalone HTML page holding the table as the Markdown shows it (title above, caption rules and
    notes under it).

    The HTML report embeds this page (Snakemake's own rendering of a CSV would show raw,
    unrounded numbers without the bold marks). Same cells as :func:`to_markdown`; grouped
    columns get spanning header cells, as in :func:`to_latex`.
    """
    cells = format_cells(table, "html")
    esc = html.escape
    idx_names = _index_names(table.values.index)
    headers = _header_rows(cells.columns)
    rows = []
    for level, labels in enumerate(headers):
        last = level == len(headers) - 1
        lead = "".join(f"<th>{esc(n) if last else ''}</th>" for n in idx_names)
        parts = []
        for j, k in _header_spans(headers, level):
            span = f' colspan="{k - j + 1}"' if k > j else ""
            parts.append(f"<th{span}>{esc(labels[j])}</th>")
        rows.append("<tr>" + lead + "".join(parts) + "</tr>")
    body = []
    for labels, (_, row) in zip(_index_rows(cells.index), cells.iterrows()):
        body.append("<tr>" + "".join(f"<th>{esc(s)}</th>" for s in labels)
                    + "".join(f'<td class="num">{s}</td>' for s in row) + "</tr>")  # fmt: skip
    rules = caption(table)[len(table.title.rstrip(".")) + 1:].strip()  # the caption less the title above
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in ([rules] if rules else []) + list(table.notes))
    grid = ("<table>\n<thead>" + "\n".join(rows) + "</thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table>\n"
            if len(table.values) else f'<p class="note">{esc(_empty_text(table))}</p>\n')
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{esc(table.title)}</title>'
        f'<style>{_HTML_STYLE}</style></head><body>\n<p class="title">{esc(table.title)}</p>\n'
        f"{grid}{notes}\n</body></html>\n"
    )


def to_csv_frame(table):
    """Machine-readable flat frame: row keys as columns, one column per wide column.

    Column names of grouped columns are joined with ``/``; a ``±`` table adds a
    ``<column>/std`` column after each value column; a table with flagged cells (†) adds a boolean
    ``<column>/small_clusters`` column, a table with cells over another number of runs than configured an
    ``<column>/n`` column (runs averaged), one with cells not better than chance (°) a boolean
    ``<column>/not_above_chance`` column; missing cells hold the text ``missing``, not-applicable
    cells are empty; a table with baseline rows (never bold: random weights) adds a boolean ``baseline``
    column after the row keys. Numbers are the raw ones of the per-run tables (scores as fractions, no %).
    """
    vals = table.values.astype(object).where(~table.missing, MISSING)
    flat = [
        "/".join(str(x) for x in c) if isinstance(c, tuple) else str(c) for c in table.values.columns
    ]
    # Columns gathered in a dict of arrays and framed once: a per-class table has thousands (issue 28).
    out = {}
    idx = table.values.index.to_frame(index=False)
    for c in idx.columns:
        out[str(c)] = idx[c].to_numpy()
    if table.unranked.any():
        out["baseline"] = table.unranked.to_numpy()
    flagged = table.flagged.to_numpy().any()
    short = (table.count is not None and table.expected_count is not None
             and bool((table.count.notna() & table.count.ne(table.expected_count)).to_numpy().any()))
    chance = table.chance.to_numpy().any()
    cells = vals.to_numpy()
    frames = {k: None if getattr(table, k) is None else getattr(table, k).to_numpy()
              for k in ("std", "count", "flagged", "chance", "significant")}
    for j, name in enumerate(flat):
        out[name] = cells[:, j]
        if table.std is not None:
            out[f"{name}/std"] = frames["std"][:, j]
        if short:  # the (n=k) of the text formats: runs averaged where not the configured number
            out[f"{name}/n"] = frames["count"][:, j]
        if flagged:  # the † of the text formats: built from clusters below caec.min_cluster_size
            out[f"{name}/small_clusters"] = frames["flagged"][:, j]
        if chance:  # the ° of the text formats: p >= CHANCE_ALPHA against random trees
            out[f"{name}/not_above_chance"] = frames["chance"][:, j]
        if table.significant is not None:  # the * of the text formats
            out[f"{name}/significant"] = frames["significant"][:, j]
    return pd.DataFrame(out, index=range(len(vals)))



TABLE_FORMATS = ("csv", "md", "tex", "html")


def write_report_table(table, directory):
    """Write ``<directory>/<name>.csv``, ``.md``, ``.tex`` and ``.html`` atomically; return the paths.

    A table with a ``full`` table (aggregated by superclass) writes the full one to the CSV.
    """
    directory = Path(directory)
    paths = [directory / f"{table.name}.{ext}" for ext in TABLE_FORMATS]
    write_table(paths[0], to_csv_frame(table if table.full is None else table.full))
    write_text(paths[1], to_markdown(table))
    write_text(paths[2], to_latex(table))
    write_text(paths[3], to_html(table))
    return paths
