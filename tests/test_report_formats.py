"""embtree.report.formats: one table as CSV, Markdown, LaTeX and HTML."""

import pandas as pd
import pytest

from embtree import report as R


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
    assert "0.50 (n=1)" in (tmp_path / "t.md").read_text()
