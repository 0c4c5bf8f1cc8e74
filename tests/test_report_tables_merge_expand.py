"""embtree.report.tables.merge_expand: the Merge & Expand table (paper 003, table I)."""

import pandas as pd
import pytest

from embtree import report as R


def test_merge_expand_table():
    row = dict(dataset="d", encoder="e", n_classes=10, n_clusters=12, clean_fraction=0.5, acc_all=0.7,
               acc_clean=0.8, acc_unclean=0.4, nmi_all=0.6, ami_all=0.6, consistent_clean=9.0,
               consistent_unclean=5.0)
    t = R.merge_expand_table(pd.DataFrame([row]))
    assert t.values.shape == (1, len(R.tables.merge_expand.ME_COLUMNS))
    assert float(t.values.loc[("d", "e"), "ACC clean"]) == pytest.approx(0.8)
    assert not t.bold.to_numpy().any()


def _seed_rows(seeds=(0, 1, 2)):
    """metrics.tsv rows of one run, one per seed (as the merge_expand rule writes them: one file per seed)."""
    return pd.DataFrame([dict(dataset="d", encoder="e", seed=s, n_classes=10, n_clusters=10 + s,
                              clean_fraction=0.5 + 0.1 * s, acc_all=0.6 + 0.05 * s, acc_clean=0.8, acc_unclean=0.4,
                              nmi_all=0.6, ami_all=0.6, consistent_clean=9.0, consistent_unclean=5.0 + s)
                         for s in seeds])


def test_repeated_runs_show_mean_and_std_of_the_seed_rows():
    rows = _seed_rows()
    t = R.merge_expand_table(rows, n_seeds=3)
    for col, header in (("acc_all", "ACC all"), ("clean_fraction", "clean fraction"), ("n_clusters", "clusters found"),
                        ("consistent_unclean", "consistent nbrs unclean")):
        assert float(t.values.loc[("d", "e"), header]) == pytest.approx(rows[col].mean())
        assert float(t.std.loc[("d", "e"), header]) == pytest.approx(rows[col].std(ddof=1))
    cells = R.format_cells(t).loc[("d", "e")]
    assert cells["ACC all"] == "65.0 ± 5.0" and cells["clusters found"] == "11.0 ± 1.0"  # a mean count
    assert cells["classes"] == "10"  # the data set's class count: no std
    assert cells["consistent nbrs unclean"] == "6.00 ± 1.00"  # a mean number of neighbours
    assert "(n=" not in "".join(cells) and not t.bold.to_numpy().any()
    assert any("mean ± std" in n.lower() and "3 seeds of merge_expand.seeds" in n for n in t.notes)


def test_a_cell_short_of_seeds_prints_its_n_and_one_seed_its_value():
    t = R.merge_expand_table(_seed_rows((0, 2)), n_seeds=3)  # a partial report: seed 1 missing
    assert R.format_cells(t).loc[("d", "e"), "ACC all"] == "65.0 ± 7.1 (n=2)"
    one = R.merge_expand_table(_seed_rows((0,)), n_seeds=1)
    cells = R.format_cells(one).loc[("d", "e")]
    assert cells["ACC all"] == "60.0" and cells["clean fraction"] == "50.0"


def test_partial_report_marks_missing_runs_and_counts_the_seeds_of_the_others():
    rows = pd.concat([_seed_rows((0, 2)), _seed_rows((0,)).assign(encoder="f")], ignore_index=True)
    gaps = [("e", 1), ("f", 1), ("f", 2), ("g", 0), ("g", 1), ("g", 2)]  # as load_run_tables lists them
    missing = pd.DataFrame([dict(dataset="d", encoder=enc, seed=s, reason="file not found") for enc, s in gaps])
    cells = R.format_cells(R.merge_expand_table(rows, missing=missing, n_seeds=3))
    assert cells.loc[("d", "e"), "ACC all"] == "65.0 ± 7.1 (n=2)"
    assert cells.loc[("d", "f"), "ACC all"] == "60.0 (n=1)"
    assert set(cells.loc[("d", "g")]) == {"missing"}  # no seed found


def test_held_out_rows_have_the_all_sample_scores_only():
    fit = pd.DataFrame([{"dataset": "d", "encoder": "e", "seed": 0, "split": "fit", "n_classes": 3, "n_clusters": 3,
                         "clean_fraction": 0.8, "acc_all": 0.9, "acc_clean": 0.95, "acc_unclean": 0.7,
                         "nmi_all": 0.8, "ami_all": 0.8, "consistent_clean": 9.0, "consistent_unclean": 6.0}])
    held = pd.DataFrame([{"dataset": "d", "encoder": "e", "seed": 0, "split": "eval", "n_classes": 3,
                          "n_clusters": 3, "acc_all": 0.85, "nmi_all": 0.7, "ami_all": 0.7}])
    t = R.merge_expand_table(pd.concat([fit, held], ignore_index=True), n_seeds=1)
    assert list(t.values.index) == [("d", "e", "fit"), ("d", "e", "eval")]
    assert float(t.values.loc[("d", "e", "eval"), "ACC all"]) == 0.85
    assert pd.isna(t.values.loc[("d", "e", "eval"), "ACC clean"])
    assert any("regions" in n for n in t.notes)


def test_table_i_baselines_from_the_flat_stage_come_first():
    me = pd.DataFrame([dict(dataset="d", encoder="e", seed=0, n_classes=10, n_clusters=10, clean_fraction=0.5,
                            acc_all=0.7, acc_clean=0.8, acc_unclean=0.4, nmi_all=0.6, ami_all=0.6,
                            consistent_clean=9.0, consistent_unclean=5.0)])
    flat = pd.DataFrame([dict(dataset="d", encoder="e", reducer=r, clusterer=c, seed=s, acc=a)
                         for r, c, s, a in (("none", "kmeans", 0, 0.5), ("none", "kmeans", 1, 0.7),
                                            ("none", "spectral", 0, 0.6), ("pca", "spectral", 0, 0.1),
                                            ("none", "hdbscan", 0, 0.9))])
    t = R.merge_expand_table(me, n_seeds=1, flat=flat)
    assert list(t.values.columns[:3]) == ["k-means ACC", "spectral ACC", "classes"]
    assert float(t.values.loc[("d", "e"), "k-means ACC"]) == pytest.approx(0.6)  # mean of the flat seeds
    assert float(t.values.loc[("d", "e"), "spectral ACC"]) == pytest.approx(0.6)  # reducer none only
    assert pd.isna(t.count.loc[("d", "e"), "k-means ACC"])  # flat seeds: never an (n=k) mark
    assert "k-means ACC" not in R.merge_expand_table(me, n_seeds=1).values.columns
