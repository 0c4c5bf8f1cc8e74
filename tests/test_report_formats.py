"""embtree.report.formats: one table as CSV, Markdown, LaTeX and HTML."""

import pandas as pd
import pytest

from embtree import report as R
from embtree.report.formats import caption


def test_write_report_table(tmp_path, caec_summary):
    t = R.caec_metric_table(caec_summary, "nmi")
    paths = R.write_report_table(t, tmp_path)
    assert [p.suffix for p in paths] == [".csv", ".md", ".tex", ".html"]
    back = pd.read_csv(paths[0])
    assert back.shape == (6, 4) and back["c10"].tolist() == [0.4] * 6
    assert all(p.stat().st_size > 0 for p in paths)
    assert not list(tmp_path.glob(".*tmp*"))


def test_html_table_shows_the_markdown_cells(caec_summary):
    import re

    t = R.caec_metric_table(caec_summary, "nmi")
    t.bold.iat[0, 0] = True
    page = R.to_html(t)
    md_cells = R.format_cells(t, "markdown")
    html_cells = re.findall(r'<td class="num">(.*?)</td>', page)
    as_md = [re.sub(r"^<b>(.*)</b>$", r"**\1**", c) for c in html_cells]
    assert as_md == [md_cells.iat[i, j] for i in range(md_cells.shape[0]) for j in range(md_cells.shape[1])]
    assert html_cells[0].startswith("<b>") and t.title in page


def test_latex_escapes_specials_and_header_symbols():
    df = pd.DataFrame(dict(dataset="d_1", encoder="e&f", metric="m", angle="θmin/2", v=[0.5]))
    t = R.wide_table(df, ["encoder", "metric"], ["dataset", "angle"], "v", name="t", title="t")
    tex = R.to_latex(t)
    assert r"e\&f" in tex and r"d\_1" in tex and r"$\theta$min/2" in tex
    assert "θ" not in tex.split("\n", 1)[1]  # only the title comment keeps unicode


def test_format_cells_names_a_bad_style():
    with pytest.raises(ValueError, match="style must be"):
        R.format_cells(R.ReportTable("t", "t", pd.DataFrame({"a": [1.0]})), style="rtf")


def test_csv_gets_the_runs_of_cells_short_of_the_configured_number(tmp_path):
    df = pd.DataFrame(dict(dataset="d", encoder=["a", "a", "b"], seed=[0, 1, 0], ami=[0.1, 0.3, 0.5]))
    t = R.wide_table(df, ["encoder"], ["dataset"], "ami", name="t", title="t", aggregate="mean_std", ddof=1,
                     expected_count=2)
    back = pd.read_csv(R.write_report_table(t, tmp_path)[0])
    assert back["d/n"].tolist() == [2, 1] and back["d"].tolist() == pytest.approx([0.2, 0.5])
    assert "50.0 (n=1)" in (tmp_path / "t.md").read_text()  # AMI in %, the CSV keeps the fraction


def _scores_table():
    """Two encoders x two metrics on one data set: a score, a count and p-values to print."""
    df = pd.DataFrame(dict(dataset="d_1", encoder=["e&1", "e&1", "rnd", "rnd"], metric=["a", "b", "a", "b"],
                           nmi=[0.8734, 0.5, 0.9, 0.2], rf=[4, 7, 2, 9], p=[0.0206, 2.68e-94, 0.5, 1.0]))
    return df


@pytest.mark.parametrize("fmt, value, text", [
    ("percent", 0.8734, "87.3"), ("percent", 1.0, "100.0"), ("count", 10.0, "10"), ("count", 10.5, "10.5"),
    ("pvalue", 0.0206, "0.0206"), ("pvalue", 2.68e-94, "< 0.001"), ("pvalue", 0.5, "0.500"),
    ("pvalue", 0.001, "0.00100"), ("fixed", 0.12345, "0.12"),
])
def test_one_number_format_per_quantity(fmt, value, text):
    t = R.ReportTable("t", "t", pd.DataFrame({"c": [value]}), number_format=fmt, decimals=1 if fmt == "percent" else 2)
    assert R.format_cells(t).iat[0, 0] == text


def test_quantities_get_their_format_and_the_csv_keeps_raw_numbers(tmp_path):
    df = _scores_table()
    nmi = R.wide_table(df, ["encoder", "metric"], ["dataset"], "nmi", name="nmi", title="NMI")
    rf = R.wide_table(df, ["encoder", "metric"], ["dataset"], "rf", name="rf", title="RF")
    p = R.wide_table(df, ["encoder", "metric"], ["dataset"], "p", name="p", title="p")
    assert R.format_cells(nmi)["d_1"].tolist() == ["87.3", "50.0", "90.0", "20.0"]
    assert R.format_cells(rf)["d_1"].tolist() == ["4", "7", "2", "9"]
    assert R.format_cells(p)["d_1"].tolist() == ["0.0206", "< 0.001", "0.500", "1.00"]
    back = pd.read_csv(R.write_report_table(nmi, tmp_path)[0])
    assert back["d_1"].tolist() == pytest.approx([0.8734, 0.5, 0.9, 0.2])  # fractions, no % and no bold
    assert "Scores in [0, 1] are printed in %" in caption(nmi) and "%" not in caption(rf)
    assert "< 0.001" in caption(p) and r"$<$ 0.001" in R.to_latex(p)


def test_markdown_has_the_caption_and_notes_under_the_table():
    t = R.wide_table(_scores_table(), ["encoder", "metric"], ["dataset"], "nmi", name="nmi", title="NMI per run")
    t.notes.append("A note.")
    lines = R.to_markdown(t).splitlines()
    assert lines[0].startswith("| encoder | metric | d_1 |")
    cap = lines.index(next(x for x in lines if x.startswith("Table: NMI per run.")))
    assert all(x.startswith("|") for x in lines[:cap - 1]) and lines[cap - 1] == ""
    assert "Bold: the best value of its column" in lines[cap] and lines[-1] == "A note."
    assert "**90.0**" in lines[4]  # rnd / a, the best of four


def test_latex_is_a_captioned_labelled_booktabs_table():
    df = pd.DataFrame(dict(dataset=["d", "d", "e", "e"], encoder="x", metric=["a", "b", "a", "b"],
                           nmi=[0.5, 0.6, 0.7, 0.8]))
    t = R.wide_table(df, ["encoder"], ["dataset", "metric"], "nmi", name="my_table", title="Scores † °")
    t.notes.append("x → y · z, p ≤ 0.05")
    tex = R.to_latex(t)
    for needle in (r"\begin{table}", r"\caption{Scores \dag{} $^{\circ}$.", r"\label{tab:my_table}",
                   r"\toprule", r"\midrule", r"\bottomrule", r"\cmidrule(lr){2-3}", r"\cmidrule(lr){4-5}",
                   r"\multicolumn{2}{c}{d}", r"x $\rightarrow$ y $\cdot$ z, p $\leq$ 0.05"):
        assert needle in tex, needle
    assert tex.index(r"\caption") < tex.index(r"\begin{tabular}") < tex.index(r"\end{table}")


def test_an_empty_table_says_none_instead_of_a_bare_header(tmp_path):
    t = R.wide_table(pd.DataFrame(columns=["dataset", "encoder", "text"]), ["encoder"], ["dataset"], "text",
                     name="empty", title="Intrusive classes", direction=None)
    t.empty_note = "none: no run has intrusive classes"
    md = R.to_markdown(t)
    assert "None: no run has intrusive classes." in md and "|" not in md
    tex = R.to_latex(t)
    assert "None: no run has intrusive classes." in tex and r"\begin{tabular}" not in tex and r"\caption" in tex
    assert "None: no run" in R.to_html(t) and "<table>" not in R.to_html(t)
    assert list(pd.read_csv(R.write_report_table(t, tmp_path)[0]).columns) == ["encoder"]


@pytest.mark.slow
def test_generated_latex_compiles_with_pdflatex(tmp_path, caec_summary):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base texlive-latex-recommended)")
    df = _scores_table()
    tables = [
        R.wide_table(df, ["encoder", "metric"], ["dataset"], "nmi", name="nmi", title="NMI χ² θ ± ≥ → · ° †"),
        R.wide_table(df, ["encoder", "metric"], ["dataset"], "p", name="p_values", title="p-values"),
        R.purity_mean_std_table(caec_summary),
        R.angle_table(pd.DataFrame(columns=["dataset", "encoder", "metric", "class", "theta_min_half",
                                            "theta_max_half"])),  # empty: a "none" note
    ]
    tables[0].notes.append("50 % of § & $ # _ { } ~ ^ \\ | < > × − … ≈ ‡ ≤ χ²")
    wide = pd.DataFrame([{"dataset": "d", "encoder": "encoder-with-a-long-name", "metric": f"metric number {j}",
                          "nmi": 0.123456} for j in range(14)])
    tables.append(R.wide_table(wide, ["dataset", "encoder"], ["metric"], "nmi", name="wide", title="14 columns"))
    for t in tables:
        R.write_report_table(t, tmp_path)
    body = "\n".join(rf"\input{{{t.name}.tex}}" + "\n" + rf"Table~\ref{{tab:{t.name}}}." for t in tables)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                                      "\\usepackage{booktabs}\n\\usepackage{graphicx}\n"
                                      f"\\begin{{document}}\n{body}\n\\end{{document}}\n")
    for _ in range(2):  # the second pass resolves the \ref to the \label
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-3000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "undefined" not in log.lower() and "Missing character" not in log
    assert "Overfull \\hbox" not in log  # the wide table is shrunk to the line width
    assert "\\resizebox" in (tmp_path / "wide.tex").read_text()
    assert "\\resizebox" not in (tmp_path / "nmi.tex").read_text()
