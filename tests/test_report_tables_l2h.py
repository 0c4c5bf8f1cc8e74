"""embtree.report.tables.l2h: the L2H table (paper 001 table 1), bold by each metric's direction."""

import pandas as pd
import pytest

from embtree import report as R


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


def test_l2h_table_mean_std_over_seeds_with_n_where_fewer():
    # kmeans: 3 seeds configured, all found; temi: 2 configured (the seeds heads.seeds also trains),
    # 1 found; agglomerative: deterministic, one tree.
    base = dict(dataset="c10", encoder="r20", ari=0.5, acc=0.5, lp=0.5, dp=0.5, lhd=0.5)
    rows = ([{**base, "source": "kmeans", "seed": s, "nmi": v} for s, v in zip((0, 1, 2), (0.6, 0.7, 0.8))]
            + [{**base, "source": "temi", "seed": 0, "nmi": 0.95}]
            + [{**base, "source": "agglomerative", "seed": 0, "nmi": 0.5}])
    df = pd.DataFrame(rows)
    t = R.l2h_table(df, order={"source": ["kmeans", "temi", "agglomerative"]}, n_seeds={"kmeans": 3, "temi": 2})
    cell = ("r20", "L2H (kmeans)"), ("c10", "NMI")
    kmeans = df.loc[df["source"] == "kmeans", "nmi"]
    assert t.values.loc[cell] == pytest.approx(kmeans.mean())
    assert t.std.loc[cell] == pytest.approx(kmeans.std(ddof=1))  # sample std, as the heads tables
    assert pd.isna(t.std.loc[("r20", "agglomerative"), ("c10", "NMI")])  # one tree: no std
    cells = R.format_cells(t, "markdown")[("c10", "NMI")]
    assert cells.tolist() == ["**70.0 ± 10.0**", "95.0 (n=1)", "50.0"]
    # temi's mean is the highest, but over fewer seeds than configured: never bold; kmeans is
    assert not t.bold.loc[("r20", "L2H (temi)"), ("c10", "NMI")] and t.bold.loc[cell]
    assert any("l2h.seeds" in n for n in t.notes) and any("kmeans 3, temi 2" in n for n in t.notes)
    assert any(n.startswith("agglomerative: deterministic, one tree") for n in t.notes)
    csv = R.to_csv_frame(t)  # the (n=k) of the text formats: only where short of the configured number
    assert csv["c10/NMI/n"].isna().tolist() == [True, False, True] and csv["c10/NMI/n"].iloc[1] == 1
    assert csv["c10/NMI/std"].iloc[0] == pytest.approx(0.1)


def test_held_out_rows_get_their_own_column_group_and_the_cross_table_keeps_the_fit_tree():
    base = dict(dataset="c10", encoder="r20", source="classifier", ari=0.5, acc=0.5, lp=0.5, dp=0.5, lhd=0.5,
                rf=2.0, clade_recall=0.8, clade_precision=0.8, di=1.0, di_norm=0.1)
    df = pd.DataFrame([{**base, "split": "fit", "nmi": 0.9}, {**base, "split": "eval", "nmi": 0.7}])
    t = R.l2h_table(df, order={"dataset": ["c10"], "source": ["classifier"]})
    assert t.values.loc[("r20", "L2H (classifier)"), ("c10 · fit", "NMI")] == pytest.approx(0.9)
    assert t.values.loc[("r20", "L2H (classifier)"), ("c10 · eval", "NMI")] == pytest.approx(0.7)
    assert any(n.startswith("split: fit") for n in t.notes)
    cross = R.cross_method_table(pd.DataFrame(), df)
    assert cross.values.shape[0] == 1  # one row for the tree, not one per split
    # Fit rows alone: the table as before.
    assert ("c10", "NMI") in R.l2h_table(df[df["split"] == "fit"]).values.columns
