"""embtree.report.tables.trees: relation-tree distances to the reference (CAEC paper tables 17-18)."""

import pandas as pd

from embtree import report as R


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


def test_scores_not_better_than_chance_are_marked_never_bold_and_noted():
    rows = [dict(dataset="c10", encoder="ViT", cluster_metric=cm, tree_metric="euclidean", point="G",
                 rf=rf, rf_chance=13.4, rf_p=p, di=di, di_norm=di / 10, di_norm_chance=0.4, di_norm_p=p)
            for cm, rf, di, p in [("euclidean", 6, 2.0, 0.002), ("canberra", 3, 1.0, 0.3)]]  # fmt: skip
    t = R.tree_distance_table(pd.DataFrame(rows), "c10", "rf")
    assert t.chance[("euclidean", "G")].tolist() == [False, True]  # p = 0.3 >= 0.05
    assert t.bold[("euclidean", "G")].tolist() == [False, False]  # the lowest RF is at chance: not bold
    assert R.format_cells(t, "markdown")[("euclidean", "G")].tolist() == ["6", "3°"]
    assert any("Chance level of Robinson-Foulds distance" in n and "13.4" in n for n in t.notes)
    assert any(n.startswith("° not better than chance") for n in t.notes)
    assert R.to_csv_frame(t)["euclidean/G/not_above_chance"].tolist() == [False, True]
    di = R.tree_distance_table(pd.DataFrame(rows), "c10", "di")  # raw DI is judged by DI/DI_max's null
    assert di.chance[("euclidean", "G")].tolist() == [False, True] and any("DI/DI_max" in n for n in di.notes)
    good = R.tree_distance_table(pd.DataFrame(rows).assign(rf_p=0.001), "c10", "rf")
    assert not good.chance.to_numpy().any() and any("better than chance (p < 0.05)" in n for n in good.notes)
    plain = R.tree_distance_table(pd.DataFrame(rows).drop(columns=["rf_p", "rf_chance"]), "c10", "rf")
    assert not plain.chance.to_numpy().any() and not any("hance" in n for n in plain.notes)
