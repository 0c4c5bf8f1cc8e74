"""embtree.report.papers: a paper's items matched against a run's report outputs."""

from embtree.report.papers import Paper, PaperItem, paper_html, paper_markdown, paper_status, report_stem

PAPER = Paper("p", "A paper", "p.txt", "two data sets", "config/papers/p.yaml", (
    PaperItem("Table 1", "purity", ("caec_purity",)),
    PaperItem("Table 2", "radius per class", ("caec_r_max_*",), needs="a data set"),
    PaperItem("Fig. 1", "growth", ("figures/growth/growth_*",), needs="any run"),
    PaperItem("Fig. 2", "the algorithm", gap="an illustration"),
    PaperItem("Table 9", "t-tests", ("caec_ttest",), needs="two `caec.metrics`", when="two_caec_metrics"),
))


def test_status_of_each_item():
    produced = ["caec_r_max_b", "caec_purity", "caec_r_max_a", "flat_ami", "caec_purity"]
    s = paper_status(PAPER, produced).set_index("label")
    assert s.loc["Table 1", "status"] == "produced" and s.loc["Table 1", "outputs"] == ["caec_purity"]
    assert s.loc["Table 2", "outputs"] == ["caec_r_max_a", "caec_r_max_b"]  # sorted, each once
    assert s.loc["Fig. 1", "status"] == "not in this run" and s.loc["Fig. 1", "note"] == "any run"
    assert s.loc["Fig. 2", "status"] == "not built" and s.loc["Fig. 2", "note"] == "an illustration"


def test_an_always_written_output_counts_only_when_its_condition_holds():
    produced = ["caec_ttest"]
    one, two = {"caec": {"metrics": ["euclidean"]}}, {"caec": {"metrics": ["euclidean", "canberra"]}}
    assert paper_status(PAPER, produced, one).set_index("label").loc["Table 9", "status"] == "not in this run"
    assert paper_status(PAPER, produced, two).set_index("label").loc["Table 9", "status"] == "produced"
    assert paper_status(PAPER, produced).set_index("label").loc["Table 9", "status"] == "produced"  # no config


def test_pages_name_every_item_and_link_produced_outputs():
    produced = ["caec_purity", "figures/growth/growth_a_b"]
    md, page = paper_markdown(PAPER, produced, ["a"]), paper_html(PAPER, produced, ["a"])
    for label in ("Table 1", "Table 2", "Fig. 1", "Fig. 2"):
        assert f"| {label} |" in md and f"<td>{label}</td>" in page
    assert "2 produced, 2 not in this run, 1 not built" in md
    assert 'href="../caec_purity.html"' in page and 'href="../figures/growth/growth_a_b.png"' in page
    assert "growth_a_b (figure)</a>" in page
    # Markdown code spans stay in the .md and become <code> in the HTML
    assert "two `caec.metrics`" in md and "two <code>caec.metrics</code>" in page and "`" not in page


def test_report_stem():
    assert report_stem("results/report/figures/l2h/l2h_a_b_kmeans.png") == "figures/l2h/l2h_a_b_kmeans"
    assert report_stem("results/report/caec_purity.html") == "caec_purity"
