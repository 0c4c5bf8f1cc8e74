"""embtree.report: wide tables from hand-made per-run tables, bolding, mean ± std, gaps, figures."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from embtree import report as R
from embtree.report.figures.trees import _layout, _rotate_to

METRICS = ["euclidean", "manhattan", "canberra"]


def _write_tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return str(path)


@pytest.fixture
def summary():
    # CAEC paper table 5 (purity), columns CIFAR10 and CIFAR100(20), for two models.
    purity = {
        ("ViT", "c10"): [0.80, 0.86, 0.95],
        ("EffNet", "c10"): [0.96, 0.97, 0.98],
        ("ViT", "c20"): [0.35, 0.66, 0.83],
        ("EffNet", "c20"): [0.90, 0.94, 0.86],
    }
    rows = [
        dict(dataset=ds, encoder=enc, metric=m, purity_mean=p, ri=0.5, nmi=0.4)
        for (enc, ds), ps in purity.items()
        for m, p in zip(METRICS, ps)
    ]
    return pd.DataFrame(rows)


ORDER = {"encoder": ["ViT", "EffNet"], "metric": METRICS, "dataset": ["c10", "c20"]}


def test_metric_table_layout_and_bold(summary):
    t = R.caec_metric_table(summary, "purity_mean", order=ORDER)
    assert list(t.values.columns) == ["c10", "c20"]
    assert list(t.values.index) == [(e, m) for e in ["ViT", "EffNet"] for m in METRICS]
    assert t.values.loc[("ViT", "canberra"), "c10"] == pytest.approx(0.95)
    # Best per column: EffNet/canberra (0.98) for c10, EffNet/manhattan (0.94) for c20.
    assert t.bold.sum().tolist() == [1, 1]
    assert t.bold.loc[("EffNet", "canberra"), "c10"]
    assert t.bold.loc[("EffNet", "manhattan"), "c20"]
    md = R.to_markdown(t)
    assert "| EffNet | euclidean | 0.96 | 0.90 |" in md
    assert "|  | canberra | **0.98** | 0.86 |" in md
    tex = R.to_latex(t)
    assert r"\textbf{0.98}" in tex and r"\textbf{0.94}" in tex
    assert tex.count(r"\textbf") == 2


def test_lower_is_better_bolds_minimum():
    df = pd.DataFrame(
        dict(dataset="d", encoder=["a", "a", "b"], method=["x", "y", "x"], rf=[4.0, 2.0, 2.0])
    )
    t = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t")
    # Ties share the bold; RF is lower-is-better.
    assert t.bold["d"].tolist() == [False, True, True]
    t2 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction="max")
    assert t2.bold["d"].tolist() == [True, False, False]
    t3 = R.wide_table(df, ["encoder", "method"], ["dataset"], "rf", name="t", title="t", direction=None)
    t3 = R.wide_table(df.rename(columns={"rf": "radius"}), ["encoder", "method"], ["dataset"], "radius",
                      name="t", title="t")
    assert not t3.bold.to_numpy().any()  # descriptive quantity: never bold


def test_purity_mean_std_reproduces_paper_table6(summary):
    t = R.purity_mean_std_table(summary, order=ORDER)
    md = R.to_markdown(t)
    # Paper table 6: ViT 0.87±0.06 / 0.61±0.19, EfficientNetV2 0.97±0.01 / 0.90±0.03 (the paper
    # averaged unrounded purities: from table 5's rounded ones the ViT c20 std is 0.1986 -> 0.20).
    assert "| ViT | 0.87 ± 0.06 | 0.61 ± 0.20 |" in md
    assert "| EffNet | **0.97 ± 0.01** | **0.90 ± 0.03** |" in md
    csv = R.to_csv_frame(t)
    assert list(csv.columns) == ["encoder", "c10", "c10/std", "c20", "c20/std"]
    assert csv.loc[0, "c10/std"] == pytest.approx(np.std([0.80, 0.86, 0.95]))
    assert r"0.87 $\pm$ 0.06" in R.to_latex(t)


def test_flat_table_mean_std_over_seeds():
    rows = [
        dict(dataset=ds, encoder="enc", reducer="pca", clusterer=c, seed=s, ami=a)
        for ds, c, s, a in [
            ("d1", "kmeans", 0, 0.5), ("d1", "kmeans", 1, 0.7),
            ("d1", "hdbscan", 0, 0.2), ("d1", "hdbscan", 1, 0.2),
            ("d2", "kmeans", 0, 0.1), ("d2", "kmeans", 1, 0.3),
            ("d2", "hdbscan", 0, 0.4), ("d2", "hdbscan", 1, 0.6),
        ]
    ]
    t = R.flat_table(pd.DataFrame(rows), order={"clusterer": ["kmeans", "hdbscan"]})
    md = R.to_markdown(t)
    sd = np.std([0.5, 0.7], ddof=1)
    assert f"| enc | kmeans | pca | **0.60 ± {sd:.2f}** | 0.20 ± {sd:.2f} |" in md
    assert f"|  | hdbscan | pca | 0.20 ± 0.00 | **0.50 ± {sd:.2f}** |" in md


def test_missing_file_raises_naming_it(tmp_path):
    ok = _write_tsv(tmp_path / "a" / "summary.tsv", [dict(dataset="d", encoder="a", metric="euclidean", nmi=0.5)])
    specs = [
        dict(path=ok, keys=dict(dataset="d", encoder="a", metric="euclidean")),
        dict(path=str(tmp_path / "b" / "summary.tsv"), keys=dict(dataset="d", encoder="b", metric="euclidean")),
    ]
    with pytest.raises(R.MissingResultsError, match=r"b/summary.tsv"):
        R.load_run_tables(specs)
    data, missing = R.load_run_tables(specs, partial=True)
    assert len(data) == 1 and missing["encoder"].tolist() == ["b"]
    t = R.caec_metric_table(data, "nmi", missing=missing)
    cells = R.format_cells(t)
    assert cells.loc[("b", "euclidean"), "d"] == R.MISSING
    assert cells.loc[("a", "euclidean"), "d"] == "0.50"
    assert "| b | euclidean | missing |" in R.to_markdown(t)


def test_missing_seed_is_incomplete_not_silently_shorter(tmp_path):
    path = _write_tsv(
        tmp_path / "metrics.tsv",
        [dict(dataset="d", encoder="e", reducer="none", clusterer="kmeans", seed=0, ami=0.4)],
    )
    spec = dict(path=path, keys=dict(dataset="d", encoder="e", reducer="none", clusterer="kmeans"),
                expect={"seed": [0, 1]})
    with pytest.raises(R.MissingResultsError, match="seed=1"):
        R.load_run_tables([spec])
    data, missing = R.load_run_tables([spec], partial=True)
    t = R.flat_table(data, missing=missing)
    assert R.format_cells(t).iloc[0, 0] == "0.40 (incomplete)"
    assert not t.bold.to_numpy().any()


def test_key_mismatch_in_table_raises(tmp_path):
    path = _write_tsv(tmp_path / "s.tsv", [dict(dataset="other", encoder="a", metric="euclidean", nmi=1.0)])
    with pytest.raises(ValueError, match="column 'dataset' should be 'd'"):
        R.load_run_tables([dict(path=path, keys=dict(dataset="d", encoder="a", metric="euclidean"))])


def test_duplicate_cells_raise(summary):
    with pytest.raises(ValueError, match="share the same"):
        R.caec_metric_table(pd.concat([summary, summary.iloc[:1]]), "nmi")


def test_ttest_table_marks_significant_and_formats_p():
    rows = [
        dict(dataset="c10", encoder="ViT", metric_a="euclidean", metric_b="manhattan", t=5.0, p=0.000041, significant=True),
        dict(dataset="c10", encoder="ViT", metric_a="euclidean", metric_b="canberra", t=1.0, p=0.017404, significant=False),
        dict(dataset="in", encoder="ViT", metric_a="euclidean", metric_b="manhattan", t=9.0, p=7.3e-58, significant=True),
    ]
    t = R.ttest_table(pd.DataFrame(rows))
    md = R.to_markdown(t)
    assert "| ViT | euclidean, manhattan | **0.000041** | **7.30e-58** |" in md
    assert "|  | euclidean, canberra | 0.017404 | - |" in md


def test_infiltration_top3_with_ties_and_min_count():
    rows = [
        ("airplane", "ship", 67), ("airplane", "bird", 34), ("airplane", "truck", 22), ("airplane", "cat", 5),
        ("cat", "dog", 14), ("cat", "deer", 3), ("cat", "bird", 2), ("cat", "frog", 2), ("cat", "horse", 1),
    ]
    df = pd.DataFrame(
        [dict(dataset="c10", encoder="ViT", metric="euclidean", class_name=c, rank=0, other_class=o, count=n)
         for c, o, n in rows]
    )
    t = R.infiltration_table(df, "c10", classes=["airplane", "cat"])
    cells = R.format_cells(t)
    col = ("euclidean", "ViT")
    assert cells.loc[("airplane", 1), col] == "ship (67)"
    assert cells.loc[("airplane", 3), col] == "truck (22)"
    assert cells.loc[("cat", 3), col] == "bird (2), frog (2)"  # tie on one line, horse (1) < 2 dropped


def test_intrusion_table_lists_overlaps():
    df = pd.DataFrame(
        [dict(dataset="c10", encoder="ViT", metric="euclidean", class_a="cat", class_b=b, count=n)
         for b, n in [("dog", 28), ("deer", 9), ("frog", 7), ("bird", 1)]]
    )
    t = R.intrusion_table(df, "c10")
    assert R.format_cells(t).iloc[0, 0] == "dog (28), deer (9), frog (7)"


def test_tree_table_groups_G_P_and_before_row():
    rows = []
    for cm in ["euclidean", "canberra"]:
        for tm in ["euclidean", "canberra"]:
            for pt, rf in [("G", 6), ("P", 3)]:
                rows.append(dict(dataset="c10", encoder="ViT", cluster_metric=cm, tree_metric=tm, point=pt,
                                 rf=rf + (cm == "canberra") * -5, di=1.0))
    for tm in ["euclidean", "canberra"]:
        rows.append(dict(dataset="c10", encoder="ViT", cluster_metric="before", tree_metric=tm, point="-", rf=7, di=2.0))
    t = R.tree_distance_table(pd.DataFrame(rows), "c10", "rf", order={"metric": ["euclidean", "canberra"]})
    assert list(t.values.columns) == [(tm, p) for tm in ["euclidean", "canberra"] for p in ["G", "P"]]
    assert t.values.index.tolist()[-1] == ("ViT", "before")
    assert t.values.loc[("ViT", "before"), ("canberra", "P")] == 7
    assert t.bold.loc[("ViT", "canberra")].all() and not t.bold.loc[("ViT", "euclidean")].any()
    tex = R.to_latex(t)
    assert r"\multicolumn{2}{c}{euclidean}" in tex and r"\cmidrule(lr){3-4}" in tex
    assert "| encoder | cluster_metric | euclidean / G |" in R.to_markdown(t)


def test_tree_tables_recall_precision_point_up_and_say_so():
    rows = [dict(dataset="c10", encoder="ViT", cluster_metric=cm, tree_metric="euclidean", point="G",
                 rf=rf, clade_recall=rec, clade_precision=1.0, di=di, di_norm=di / 10, dp=0.5)
            for cm, rf, rec, di in [("euclidean", 6, 0.5, 2.0), ("canberra", 3, 0.8, 1.0)]]  # fmt: skip
    df = pd.DataFrame(rows)
    rec = R.tree_distance_table(df, "c10", "clade_recall")
    assert rec.bold[("euclidean", "G")].tolist() == [False, True]  # higher is better
    assert "higher is better" in rec.title and "clade recall" in rec.title
    di = R.tree_distance_table(df, "c10", "di_norm")
    assert di.bold[("euclidean", "G")].tolist() == [False, True] and "lower is better" in di.title
    assert R.format_cells(di, "markdown")[("euclidean", "G")].tolist() == ["0.200", "**0.100**"]
    names = [t.name for t in R.build_tree_tables(df, datasets=["c10"])]
    assert names == [f"trees_{v}_c10" for v in ("rf", "clade_recall", "clade_precision", "di", "di_norm")]


def test_tree_figure_caption_carries_the_scores(tmp_path):
    from embtree.report.figures.trees import comparison_caption

    line = comparison_caption("((((a,b),c),d),e);", "((a,b,c),(d,e));")
    assert line.startswith("RF ") and "clade recall 0.50" in line and "DI/DI_max" in line
    assert comparison_caption("((a,b),c);", "((a,b),d);") == ""  # different leaves: no scores, still a figure


def test_l2h_table_directions_per_metric():
    base = dict(dataset="c10", encoder="r20")
    rows = [
        {**base, "source": "classifier", "nmi": 0.9, "ari": 0.8, "acc": 0.9, "lp": 0.9, "dp": 0.7, "lhd": 0.3},
        {**base, "source": "agglomerative", "nmi": 0.5, "ari": 0.4, "acc": 0.6, "lp": 0.6, "dp": 0.8, "lhd": 0.1},
    ]
    t = R.l2h_table(pd.DataFrame(rows), order={"source": ["classifier", "agglomerative"]})
    b = t.bold
    assert b.loc[("r20", "L2H (classifier)"), ("c10", "NMI")]
    assert b.loc[("r20", "agglomerative"), ("c10", "DP")]
    assert b.loc[("r20", "agglomerative"), ("c10", "LHD")]  # lower is better
    assert not b.loc[("r20", "L2H (classifier)"), ("c10", "LHD")]


def test_cross_method_table():
    trees = pd.DataFrame(
        [dict(dataset="c10", encoder="r20", cluster_metric=cm, tree_metric=tm, point=pt, rf=rf, di=di, dp=dp)
         for cm, tm, pt, rf, di, dp in [
             ("euclidean", "euclidean", "G", 4, 1.0, 0.5),
             ("euclidean", "euclidean", "P", 2, 0.5, 0.6),
             ("euclidean", "canberra", "G", 0, 0.0, 0.9),  # off-diagonal: not in the cross table
             ("before", "euclidean", "-", 6, 2.0, 0.4),
         ]]
    )
    l2h = pd.DataFrame([dict(dataset="c10", encoder="r20", source="classifier", rf=2, di=0.7, dp=0.8,
                             nmi=1, ari=1, acc=1, lp=1, lhd=0)])
    t = R.cross_method_table(trees, l2h, order={"metric": ["euclidean"], "source": ["classifier"]})
    methods = [m for _, m in t.values.index]
    assert methods == ["CAEC euclidean (G)", "CAEC euclidean (P)", "UPGMA before (euclidean)", "L2H (classifier)"]
    assert t.bold[("c10", "RF")].tolist() == [False, True, False, True]
    assert t.bold[("c10", "DP")].tolist() == [False, False, False, True]
    assert [c for c in t.values.columns.get_level_values(1)] == ["RF", "Recall", "Precision", "DI", "DI/DI_max", "DP"]
    cells = R.format_cells(t, "markdown")
    assert cells[("c10", "RF")].tolist() == ["4", "**2**", "6", "**2**"]  # RF counts splits: no decimals


def test_write_report_table(tmp_path, summary):
    t = R.caec_metric_table(summary, "nmi")
    paths = R.write_report_table(t, tmp_path)
    assert [p.suffix for p in paths] == [".csv", ".md", ".tex", ".html"]
    back = pd.read_csv(paths[0])
    assert back.shape == (6, 4) and back["c10"].tolist() == [0.4] * 6
    assert all(p.stat().st_size > 0 for p in paths)
    assert not list(tmp_path.glob(".*tmp*"))


def test_html_table_shows_the_markdown_cells(summary):
    import re

    t = R.caec_metric_table(summary, "nmi")
    t.bold.iat[0, 0] = True
    page = R.to_html(t)
    md_cells = R.format_cells(t, "markdown")
    html_cells = re.findall(r'<td class="num">(.*?)</td>', page)
    as_md = [re.sub(r"^<b>(.*)</b>$", r"**\1**", c) for c in html_cells]
    assert as_md == [md_cells.iat[i, j] for i in range(md_cells.shape[0]) for j in range(md_cells.shape[1])]
    assert html_cells[0].startswith("<b>") and t.title in page


def test_parse_newick_and_layout():
    tree = R.parse_newick("((a:1,b:2)x:1,(c:1,'d e':1,f:0.5):2);")
    assert [c[0] for c in tree[2]] == ["x", ""]
    segs, leaves = _layout(tree)
    pos = {n: (x, y) for n, x, y in leaves}
    assert pos["b"] == (3.0, 1.0) and pos["d e"] == (3.0, 3.0) and pos["f"][0] == 2.5
    _, clado = _layout(R.parse_newick("((a,b),c);"))
    assert {n: x for n, x, _ in clado} == {"a": 2.0, "b": 2.0, "c": 2.0}
    with pytest.raises(ValueError, match="end with"):
        R.parse_newick("(a,b)")


def test_project_pca_matches_sklearn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) @ np.diag([5, 3, 1, 1, 1, 1])
    idx, mean, comps = R.project_pca(X, n_max=1000)
    assert len(idx) == 300
    ref = PCA(2).fit(X)
    np.testing.assert_allclose(np.abs(comps @ ref.components_.T), np.eye(2), atol=1e-8)
    # Linear: the projected mean of a class equals the mean of its projected points.
    P = (X - mean) @ comps.T
    np.testing.assert_allclose(((X[:50].mean(0) - mean) @ comps.T), P[:50].mean(0), atol=1e-10)
    idx2, _, _ = R.project_pca(X, n_max=100, seed=1)
    assert len(idx2) == 100 and np.all(np.diff(idx2) > 0)


def test_figures_written_and_non_empty(tmp_path, summary):
    rng = np.random.default_rng(0)
    figs = {
        "growth": R.plot_growth(rng.poisson(3, (3, 12)), rng.poisson(1, (3, 12)), ["a", "b", "c"]),
        "pair": R.plot_tree_pair("((a:1,b:1):1,c:2);", "((a,c),b);"),
        "tree": R.plot_tree("((a:1,b:1):1,c:2);")[0].figure,
        "scatter": R.plot_projection(rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20), ["a", "b", "c"],
                                     centroids={"G": rng.normal(size=(3, 2))}),
        "heat": R.plot_heatmap(R.caec_metric_table(summary, "purity_mean")),
        "caec_heat": R.plot_caec_heatmaps(summary),
        "flat_heat": R.plot_flat_heatmap(pd.DataFrame(
            [dict(dataset="d", encoder="e", clusterer="kmeans", reducer="none", seed=s, ami=0.5) for s in (0, 1)])),
        "placeholder": R.placeholder_figure("missing: x"),
    }
    for name, fig in figs.items():
        paths = R.save_figure(fig, tmp_path / f"{name}.png")
        for p in paths:
            assert p.exists() and p.stat().st_size > 1000, p
        assert paths[0].read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in paths[1].read_bytes()[:500]


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="style must be"):
        R.format_cells(R.ReportTable("t", "t", pd.DataFrame({"a": [1.0]})), style="rtf")
    with pytest.raises(ValueError, match="direction for column"):
        R.best_mask(pd.DataFrame({"a": [1.0]}), "up")
    with pytest.raises(ValueError, match="target shape"):
        R.plot_growth(np.ones((2, 3)), np.ones((2, 4)), ["a", "b"])
    with pytest.raises(ValueError, match="n_max=1"):
        R.project_pca(np.ones((5, 2)), n_max=1)


def test_growth_curves_from_caec_arrays():
    # Layout of caec growth.npz: increments `target` / `other` padded with NaN, radii per class.
    target = np.array([[1, 3, 2, np.nan], [0, 5, 1, 1]], dtype=float)
    arrays = dict(target=target, other=np.zeros_like(target), radii=np.arange(8.0).reshape(2, 4),
                  Y=np.cumsum(np.nan_to_num(target), axis=1), Z=np.zeros_like(target),
                  class_names=np.array(["a", "b"]))
    c = R.growth_curves(arrays, n_classes=1)
    assert c["class_names"] == ["a"]
    np.testing.assert_array_equal(c["target"], target[:1])
    np.testing.assert_array_equal(c["radii"], [[0, 1, 2, 3]])
    # Only cumulative counts: differenced (Y_{r+1} - Y_r), radii shifted to the step's end.
    cum = R.growth_curves({k: arrays[k] for k in ("Y", "Z", "radii", "class_names")}, n_classes=0)
    np.testing.assert_array_equal(cum["target"], [[3, 2, 0], [5, 1, 1]])
    np.testing.assert_array_equal(cum["radii"][1], [5, 6, 7])
    with pytest.raises(ValueError, match="known count keys"):
        R.growth_curves({"foo": target})
    fig = R.plot_growth_grid([("euclidean", c), ("manhattan", c)], title="t")
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)  # 1 class x 2 runs: target + other
    # As the caption says: target blue, other red, r_b dashed and r_f dotted when known.
    marked = R.growth_curves({**arrays, "r_b": np.array([2.5, 6.0]), "r_f": np.array([1.0, 5.0])}, n_classes=2)
    fig = R.plot_growth_grid([("euclidean", marked)])
    ax = fig.axes[0]
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in ax.lines[:2]]
    assert colours == [matplotlib.colors.to_hex("tab:blue"), matplotlib.colors.to_hex("tab:red")]
    assert [(line.get_linestyle(), line.get_xdata()[0]) for line in ax.lines[2:]] == [("--", 2.5), (":", 1.0)]


def test_empty_infiltration_table_is_valid_result(tmp_path):
    path = tmp_path / "infiltration.tsv"
    path.write_text("dataset\tencoder\tmetric\tclass_name\trank\tother_class\tcount\n")
    spec = dict(path=str(path), keys=dict(dataset="d", encoder="e", metric="euclidean"))
    with pytest.raises(R.MissingResultsError, match="no rows"):
        R.load_run_tables([spec])
    data, missing = R.load_run_tables([{**spec, "may_be_empty": True}])
    assert len(missing) == 0 and len(data) == 0
    t = R.infiltration_table(data, "d")
    assert t.values.shape[0] == 0 and "top-3 infiltrated" in R.to_markdown(t)


def test_infiltration_table_shows_runs_and_clusters_without_infiltration():
    df = pd.DataFrame([dict(dataset="d", encoder="e", metric="euclidean", class_name="a", rank=1,
                            other_class="b", count=4)])
    runs = pd.DataFrame([dict(dataset="d", encoder="e", metric=m) for m in ("euclidean", "canberra")])
    t = R.infiltration_table(df, "d", classes=["a", "b"], runs=runs, top=2)
    cells = R.format_cells(t)
    assert cells.shape == (4, 2)
    assert cells.loc[("a", 1), ("euclidean", "e")] == "b (4)"
    assert (cells[("canberra", "e")] == R.NOT_APPLICABLE).all()
    assert (cells.loc[("b", 1)] == R.NOT_APPLICABLE).all()


def test_rotate_reference_removes_spurious_crossings():
    tree = R.parse_newick("(((a,b),c),(d,e));")
    ref = R.parse_newick("((e,d),(c,(b,a)));")  # same topology, children in another order
    ys = {n: y for n, _, y in _layout(tree)[1]}
    rotated = _rotate_to(ref, ys)
    assert [n for n, _, _ in _layout(rotated)[1]] == ["a", "b", "c", "d", "e"]


def test_bold_compares_values_as_printed():
    df = pd.DataFrame(dict(dataset="d", encoder="e", metric=["a", "b", "c"], nmi=[0.99996, 1.0, 0.5]))
    t = R.caec_metric_table(df, "nmi")
    assert t.bold["d"].tolist() == [True, True, False]  # both print "1.00"
    assert R.best_mask(t.values, "max")["d"].tolist() == [False, True, False]  # exact comparison


def test_latex_escapes_specials_and_header_symbols():
    df = pd.DataFrame(dict(dataset="d_1", encoder="e&f", metric="m", angle="θmin/2", v=[0.5]))
    t = R.wide_table(df, ["encoder", "metric"], ["dataset", "angle"], "v", name="t", title="t")
    tex = R.to_latex(t)
    assert r"e\&f" in tex and r"d\_1" in tex and r"$\theta$min/2" in tex
    assert "θ" not in tex.split("\n", 1)[1]  # only the title comment keeps unicode


def test_tree_figure_prints_rf_di_and_leaf_purity(tmp_path):
    from embtree.trees import compare_trees

    tree, ref = "((a:1,b:1):1,(c:1,d:1):1);", "((a,c),(b,d));"
    (tmp_path / "t.nwk").write_text(tree)
    (tmp_path / "r.nwk").write_text(ref)
    (tmp_path / "leaves.tsv").write_text("leaf\tpurity\tn_samples\na\t0.5\t4\nb\t1.0\t2\nc\t0.75\t4\nd\t1.0\t1\n")
    run = {"tree": str(tmp_path / "t.nwk"), "reference": str(tmp_path / "r.nwk"), "title": "x", "left": "hierarchy",
           "leaves": str(tmp_path / "leaves.tsv")}  # fmt: skip
    fig = R.tree_figure(run)
    s = compare_trees(tree, ref)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts} | {t.get_text() for t in fig.texts}
    assert any(f"RF {s['rf']}/{s['rf_max']}" in t and f"DI {s['di']:.3g}" in t for t in texts)
    assert {"a (50%)", "b (100%)", "c (75%)", "d (100%)"} <= texts
    run["reference"] = None
    texts = {t.get_text().strip() for ax in R.tree_figure(run).axes for t in ax.texts}
    assert "a (50%)" in texts
