"""embtree.report.tables.caec: the CAEC paper's tables from hand-made per-run tables; small clusters marked."""

import numpy as np
import pandas as pd
import pytest

from embtree import report as R
from embtree.report.tables.caec import build_caec_tables, flag_tree_tables

METRICS = ["euclidean", "manhattan", "canberra"]  # the metrics of the caec_summary fixture (conftest)
ORDER = {"encoder": ["ViT", "EffNet"], "metric": METRICS, "dataset": ["c10", "c20"]}


def test_metric_table_layout_and_bold(caec_summary):
    t = R.caec_metric_table(caec_summary, "purity_mean", order=ORDER)
    assert list(t.values.columns) == ["c10", "c20"]
    assert list(t.values.index) == [(e, m) for e in ["ViT", "EffNet"] for m in METRICS]
    assert t.values.loc[("ViT", "canberra"), "c10"] == pytest.approx(0.95)
    # Best per column: EffNet/canberra (0.98) for c10, EffNet/manhattan (0.94) for c20.
    assert t.bold.sum().tolist() == [1, 1]
    assert t.bold.loc[("EffNet", "canberra"), "c10"]
    assert t.bold.loc[("EffNet", "manhattan"), "c20"]
    md = R.to_markdown(t)
    assert "| EffNet | euclidean | 96.0 | 90.0 |" in md
    assert "|  | canberra | **98.0** | 86.0 |" in md
    tex = R.to_latex(t)
    assert r"\textbf{98.0}" in tex and r"\textbf{94.0}" in tex
    assert tex.count(r"\textbf") == 2


def test_purity_mean_std_reproduces_paper_table6(caec_summary):
    t = R.purity_mean_std_table(caec_summary, order=ORDER)
    md = R.to_markdown(t)
    # Paper table 6: ViT 0.87±0.06 / 0.61±0.19, EfficientNetV2 0.97±0.01 / 0.90±0.03 (the paper
    # averaged unrounded purities: from table 5's rounded ones the ViT c20 std is 0.1986 -> 0.20).
    assert "| ViT | 87.0 ± 6.2 | 61.3 ± 19.9 |" in md  # in % (the paper: 0.87 ± 0.06, 0.61 ± 0.19)
    assert "| EffNet | **97.0 ± 0.8** | **90.0 ± 3.3** |" in md
    csv = R.to_csv_frame(t)
    assert list(csv.columns) == ["encoder", "c10", "c10/std", "c20", "c20/std"]
    assert csv.loc[0, "c10/std"] == pytest.approx(np.std([0.80, 0.86, 0.95]))
    assert r"87.0 $\pm$ 6.2" in R.to_latex(t)


def test_ttest_table_marks_significant_and_formats_p():
    rows = [
        dict(dataset="c10", encoder="ViT", metric_a="euclidean", metric_b="manhattan", t=5.0, p=0.000041, significant=True),
        dict(dataset="c10", encoder="ViT", metric_a="euclidean", metric_b="canberra", t=1.0, p=0.017404, significant=False),
        dict(dataset="in", encoder="ViT", metric_a="euclidean", metric_b="manhattan", t=9.0, p=7.3e-58, significant=True),
    ]
    t = R.ttest_table(pd.DataFrame(rows))
    md = R.to_markdown(t)
    assert "| ViT | euclidean, manhattan | < 0.001\\* | < 0.001\\* |" in md  # significant: *, not bold
    assert "|  | euclidean, canberra | 0.0174 | - |" in md
    assert "**" not in md.split("Table:")[0] and "p <= 0.01" in md
    assert R.to_csv_frame(t)["c10/significant"].tolist() == [True, False]


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


def test_small_clusters_and_degenerate_runs_are_marked_never_bold(caec_summary):
    s = caec_summary.assign(purity=caec_summary["purity_mean"], ri_all=0.3, nmi_all=0.2, n_small_clusters=0, degenerate=False)
    # EffNet/canberra on c10 is the best purity (0.98) but comes from a degenerate run.
    bad = (s.encoder == "EffNet") & (s.metric == "canberra") & (s.dataset == "c10")
    s.loc[bad, ["n_small_clusters", "degenerate"]] = [3, True]
    pc = pd.DataFrame([dict(dataset="c10", encoder=e, metric=m, **{"class": k}, class_name=f"k{k}",
                            r_max=1.0 + k, coverage=0.9, theta_min_half=0.1, theta_max_half=0.2, chi2_p=0.5,
                            small_cluster=(e, m, k) == ("ViT", "euclidean", 1))
                       for e in ("ViT", "EffNet") for m in METRICS for k in range(2)])  # fmt: skip
    keys = ["dataset", "encoder", "metric"]
    infil = pd.DataFrame(columns=[*keys, "class_name", "rank", "other_class", "count"])
    intr = pd.DataFrame(columns=[*keys, "class_a", "class_b", "count"])
    tt = pd.DataFrame(columns=["dataset", "encoder", "metric_a", "metric_b", "t", "p", "significant"])
    tables = {t.name: t for t in build_caec_tables(s, pc, infil, intr, tt, datasets=["c10"], order=ORDER)}
    pur = tables["caec_purity"]
    assert pur.flagged.loc[("EffNet", "canberra"), "c10"] and pur.flagged.to_numpy().sum() == 1
    assert not pur.bold.loc[("EffNet", "canberra"), "c10"] and pur.bold.loc[("EffNet", "manhattan"), "c10"]
    md = R.to_markdown(pur)
    assert "98.0 †" in md and "DEGENERATE runs" in md and "c10/EffNet/canberra" in md
    assert "over the embeddings inside clusters" in pur.title
    assert "caec_ri_all" in tables and "all embeddings" in tables["caec_nmi_all"].title
    assert tables["caec_purity_mean_std"].flagged.loc["EffNet", "c10"]
    cov = tables["caec_coverage_c10"]
    assert cov.flagged.loc[("ViT", "euclidean"), "k1"] and cov.flagged.to_numpy().sum() == 1
    assert "fewer members than caec.min_cluster_size" in R.to_markdown(cov)


def test_tree_tables_mark_trees_built_on_small_clusters():
    rows = [dict(dataset="c10", encoder="ViT", cluster_metric=cm, tree_metric="euclidean", point=pt,
                 rf={"euclidean": 2, "canberra": 4}[cm], di=1.0)
            for cm in ["euclidean", "canberra"] for pt in ["G", "P"]]  # fmt: skip
    rows.append(dict(dataset="c10", encoder="ViT", cluster_metric="before", tree_metric="euclidean", point="-",
                     rf=6, di=2.0))
    trees = pd.DataFrame(rows)
    summary = pd.DataFrame([dict(dataset="c10", encoder="ViT", metric="euclidean", n_small_clusters=2),
                            dict(dataset="c10", encoder="ViT", metric="canberra", n_small_clusters=0)])
    t = R.tree_distance_table(trees, "c10", "rf", order={"metric": ["euclidean", "canberra"]})
    assert t.bold.loc[("ViT", "euclidean")].all()
    flag_tree_tables([t], trees, summary, ["c10"])
    assert t.flagged.loc[("ViT", "euclidean")].all() and not t.flagged.loc[("ViT", "canberra")].any()
    assert not t.flagged.loc[("ViT", "before")].any()
    # The lowest RF came from small clusters: marked, not bold; the best unflagged row is bold.
    assert not t.bold.loc[("ViT", "euclidean")].any() and t.bold.loc[("ViT", "canberra")].all()
    assert "2 †" in R.to_markdown(t)
    csv = R.to_csv_frame(t)
    assert csv["euclidean/G/small_clusters"].tolist() == [True, False, False]


def test_assumptions_table_prints_the_lambda_test_and_annular_share():
    from embtree.report.formats import format_cells
    from embtree.report.tables.caec import assumptions_table

    summary = pd.DataFrame([
        {"dataset": "d", "encoder": "e", "metric": "euclidean", "lambda_target_mean": 3.5, "lambda_other_mean": 0.25,
         "lambda_t": 6.1, "lambda_p": 0.00008, "lambda_n": 10, "annular_fraction": 0.2},
        {"dataset": "d", "encoder": "e", "metric": "manhattan", "lambda_target_mean": 1.0, "lambda_other_mean": 0.9,
         "lambda_t": 0.4, "lambda_p": 0.7, "lambda_n": 10, "annular_fraction": 0.0},
    ])
    t = assumptions_table(summary)
    cells = format_cells(t)
    assert cells.loc[("d", "e", "euclidean"), "p"].startswith("< 0.001")
    assert cells.loc[("d", "e", "euclidean"), "annular clusters"].startswith("20.0")
    assert cells.loc[("d", "e", "euclidean"), "clusters"] == "10"
    assert t.significant.loc[("d", "e", "euclidean"), "p"] and not t.significant.loc[("d", "e", "manhattan"), "p"]
    assert not t.bold.to_numpy().any()


# ---------------------------------------------------------------- by superclass (issue 28)

# 12 classes in 3 superclasses (one unlabelled) of 2 x 2: depth 1 = 3 groups, depth 2 = 6, depth 3 = the classes.
SUPER_TREE = ("(((a0,a1)a_x,(a2,a3)a_y)animal,((b0,b1)b_x,(b2,b3)b_y)plant,((c0,c1),(c2,c3)))root;")
SUPER_CLASSES = [f"{g}{i}" for g in "abc" for i in range(4)]
SUPER_OF = {c: {"a": "animal", "b": "plant", "c": "c0…c3"}[c[0]] for c in SUPER_CLASSES}
KEYS = ["dataset", "encoder", "metric"]


def _super_runs(small=()):
    """Per-class, infiltration and intrusion rows of two runs on the 12 classes, and the empty others."""
    rng = np.random.default_rng(0)
    pc = pd.DataFrame([dict(dataset="d", encoder="e", metric=m, **{"class": k}, class_name=c,
                            r_max=float(rng.uniform(1, 5)), coverage=float(rng.uniform(0.5, 1)),
                            theta_min_half=0.1, theta_max_half=0.2, chi2_p=0.5, small_cluster=(m, c) in small)
                       for m in ("euclidean", "canberra") for k, c in enumerate(SUPER_CLASSES)])  # fmt: skip
    infil = pd.DataFrame([
        # a0's cluster holds a1 (5) and b0 (3); a2's holds a3 (4) and c0 (7); b1's b0 (2), c1 (2).
        dict(dataset="d", encoder="e", metric="euclidean", class_name=c, rank=r, other_class=o, count=n)
        for c, r, o, n in [("a0", 1, "a1", 5), ("a0", 2, "b0", 3), ("a2", 1, "c0", 7), ("a2", 2, "a3", 4),
                           ("b1", 1, "b0", 2), ("b1", 1, "c1", 2)]])
    intr = pd.DataFrame([dict(dataset="d", encoder="e", metric="euclidean", class_a=a, class_b=b, count=n)
                         for a, b, n in [("a0", "a1", 6), ("a0", "b2", 3), ("a3", "c1", 1), ("b0", "c2", 4)]])
    summary = pd.DataFrame([dict(dataset="d", encoder="e", metric=m, purity_mean=0.9, ri=0.5, nmi=0.4)
                            for m in ("euclidean", "canberra")])
    tt = pd.DataFrame(columns=["dataset", "encoder", "metric_a", "metric_b", "t", "p", "significant"])
    return summary, pc, infil, intr, tt


def _caec(max_classes, references={"d": SUPER_TREE}, small=()):
    s, pc, infil, intr, tt = _super_runs(small)
    tables = build_caec_tables(s, pc, infil, intr, tt, datasets=["d"], order={"metric": ["euclidean", "canberra"]},
                               references=references, max_classes=max_classes)
    return {t.name: t for t in tables}, pc


def test_class_groups_take_the_deepest_depth_that_fits():
    from embtree.report.tables.caec import class_groups

    g = class_groups(SUPER_TREE, SUPER_CLASSES, 4)
    assert g.depth == 1 and g.name_of == SUPER_OF
    assert list(g.labels.values()) == ["animal (n=4)", "plant (n=4)", "c0…c3 (n=4)"]
    g = class_groups(SUPER_TREE, SUPER_CLASSES, 6)
    assert g.depth == 2 and len(g.labels) == 6 and g.name_of["c2"] == "c2…c3" and g.name_of["a1"] == "a_x"
    assert class_groups(SUPER_TREE, SUPER_CLASSES, 12) is None  # not more classes than the threshold
    assert class_groups(None, SUPER_CLASSES, 4) is None and class_groups(SUPER_TREE, SUPER_CLASSES, None) is None
    # A star tree has no superclass to group by: per class.
    assert class_groups("(" + ",".join(SUPER_CLASSES) + ");", SUPER_CLASSES, 4) is None
    # Even depth 1 has more ancestors than the threshold: depth 1 still groups (3 <= 2 fails).
    assert class_groups(SUPER_TREE, SUPER_CLASSES, 2).depth == 1


def test_per_class_tables_by_superclass_are_means_over_their_classes():
    small = [("canberra", "b0"), ("canberra", "b1"), ("canberra", "b2"), ("canberra", "a0")]
    tables, pc = _caec(4, small=small)
    for value in ("r_max", "coverage"):
        t = tables[f"caec_{value}_d"]
        assert list(t.values.columns) == ["animal (n=4)", "plant (n=4)", "c0…c3 (n=4)"]
        want = pc.assign(g=pc["class_name"].map(SUPER_OF)).groupby(["metric", "g"])[value].mean()
        for m in ("euclidean", "canberra"):
            for g, label in zip(["animal", "plant", "c0…c3"], t.values.columns):
                assert t.values.loc[("e", m), label] == pytest.approx(want[(m, g)])
        md = R.to_markdown(t)
        assert "Aggregated by superclass" in md and "depth 1" in md and f"caec_{value}_d.csv" in md
        assert "report.max_table_classes = 4" in md
        # The CSV keeps one column per class.
        assert t.full is not None and list(t.full.values.columns) == SUPER_CLASSES
        csv = R.to_csv_frame(t.full)
        assert csv.loc[0, "a2"] == pytest.approx(pc.loc[2, value])
    cov = tables["caec_coverage_d"]
    # 3 of plant's 4 clusters are small: its cell is marked (never bold); 1 of animal's 4 is not enough.
    assert cov.flagged.loc[("e", "canberra"), "plant (n=4)"] and cov.flagged.to_numpy().sum() == 1
    assert cov.full.flagged.loc[("e", "canberra"), "b2"] and cov.full.flagged.loc[("e", "canberra"), "a0"]
    md = R.to_markdown(cov)
    assert "more than half of this superclass's classes" in md and "4 of the 24 clusters" in md
    # Coverage is bold per superclass column: the better run's mean.
    for label in cov.values.columns:
        best = cov.values[label].idxmax()
        assert cov.bold.loc[best, label] != cov.flagged.loc[best, label]


def test_write_report_table_puts_the_full_table_in_the_csv(tmp_path):
    tables, _ = _caec(4)
    paths = R.write_report_table(tables["caec_r_max_d"], tmp_path)
    csv = pd.read_csv(paths[0])
    assert list(csv.columns) == ["encoder", "metric", *SUPER_CLASSES]
    assert "plant (n=4)" in paths[1].read_text() and "b2" not in paths[1].read_text().split("Table:")[0]
    assert "plant (n=4)" in paths[3].read_text()


def test_infiltration_and_intrusion_by_superclass():
    tables, _ = _caec(4)
    inf = R.format_cells(tables["caec_infiltration_d"])
    col = ("euclidean", "e")
    assert list(inf.index.get_level_values(0).unique()) == ["animal (n=4)", "plant (n=4)", "c0…c3 (n=4)"]
    # animal: within a1 (5) + a3 (4) = 9, then c0 (7), then b0 (3).
    assert [inf.loc[("animal (n=4)", r), col] for r in (1, 2, 3)] == ["within (9)", "c0…c3 (7)", "plant (3)"]
    assert inf.loc[("plant (n=4)", 1), col] == "c0…c3 (2), within (2)"  # a tie on one line
    assert (inf.loc["c0…c3 (n=4)"] == R.NOT_APPLICABLE).all().all()
    assert (inf[("canberra", "e")] == R.NOT_APPLICABLE).all()  # a run without infiltration keeps its column
    assert inf.index.names == ["superclass", "rank"]
    assert len(tables["caec_infiltration_d"].full.values) == 12 * 3
    intr = R.format_cells(tables["caec_intrusion_d"])
    col = "overlapping embeddings"
    # Pairs between two superclasses count under both; within = pairs inside one.
    assert intr.loc[("e", "euclidean", "animal (n=4)"), col] == "within (6), plant (3), c0…c3 (1)"
    assert intr.loc[("e", "euclidean", "plant (n=4)"), col] == "c0…c3 (4), animal (3)"
    assert intr.loc[("e", "euclidean", "c0…c3 (n=4)"), col] == "plant (4), animal (1)"
    assert "Aggregated by superclass" in R.to_markdown(tables["caec_intrusion_d"])


def test_tables_under_the_threshold_or_without_reference_are_unchanged(tmp_path):
    before, _ = _caec(None, references=None)
    for kw in (dict(max_classes=12), dict(max_classes=4, references={}), dict(max_classes=None)):
        after, _ = _caec(**kw)
        assert list(after) == list(before)
        for name, t in after.items():
            assert t.full is None
            a, b = tmp_path / "a", tmp_path / "b"
            pa, pb = R.write_report_table(t, a), R.write_report_table(before[name], b)
            assert [p.read_bytes() for p in pa] == [p.read_bytes() for p in pb]
