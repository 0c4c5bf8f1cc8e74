"""embtree.report.tables.heads: the heads tables on hand-made per-run tables."""

import numpy as np
import pandas as pd

from conftest import heads_metrics as _metrics
from embtree import report as R
from embtree.report.formats import format_cells
from embtree.report.tables.heads import build_heads_tables, heads_multilabel_table


def test_heads_table_layout_and_bold():
    t = R.heads_table(_metrics())
    assert list(t.values.index) == [("d", "e")]
    acc = t.values[[c for c in t.values.columns if c[0] == "ACC"]]
    assert [c[1] for c in acc.columns] == ["k-means (cosine)", "TEMI", "SCANv2"]
    np.testing.assert_allclose(acc.to_numpy(dtype=float), [[80, 60, 82]])
    assert t.bold[("ACC", "SCANv2")].iloc[0] and not t.bold[("ACC", "TEMI")].iloc[0]
    assert t.bold[("ECE", "SCANv2")].iloc[0]  # lower is better


def test_spread_and_depth_tables():
    per_head = pd.DataFrame({"dataset": "d", "encoder": "e", "method": "temi", "granularity": "classes",
                             "head": [0, 1, 2], "acc": [0.5, 0.7, 0.6], "selected": ["False", "False", "True"]})
    s = R.heads_spread_table(per_head)
    row = s.values.iloc[0]
    assert row["selected head"] == 2 and row["ACC selected"] == 60 and row["ACC max"] == 70
    assert row["rank of selected"] == 2
    d = R.heads_depth_table(_metrics())
    assert list(d.values.columns) == ["d = 1", "d = 2", "classes"]
    assert d.values.loc[("d", "e", "SCANv2"), "d = 1"] == 92


def test_multilabel_table_only_rows_with_label_sets():
    m = _metrics()
    m["top1_l"] = np.where(m["method"] == "kmeans", np.nan, m["acc"] + 0.1)
    m["top5_l"] = 0.95
    t = heads_multilabel_table(m)
    assert list(t.values.columns) == ["top-1→1", "top-1→L", "top-5→1", "top-5→L"]
    assert [i[2] for i in t.values.index] == ["TEMI", "SCANv2"]  # k-means row had no label sets
    np.testing.assert_allclose(t.values.loc[("d", "e", "SCANv2")].to_numpy(dtype=float), [82, 92, 90, 95])
    assert [x.name for x in build_heads_tables(m, m.iloc[:0], multilabel=True)][-1] == "heads_multilabel"
    assert "heads_multilabel" not in [x.name for x in build_heads_tables(m, m.iloc[:0])]


def test_probe_is_the_ceiling_column_and_never_bold():
    probe = pd.DataFrame([{"dataset": "d", "encoder": "e", "split": "fit", "protocol": "5-fold CV", "n_samples": 9,
                           "n_classes": 3, "C": 0.1, "acc": 0.95, "top5_acc": 1.0}])
    t = R.heads_table(_metrics(), probe=probe)
    acc = [c for c in t.values.columns if c[0] == "ACC"]
    assert [c[1] for c in acc] == ["linear probe", "k-means (cosine)", "TEMI", "SCANv2"]
    assert float(t.values[("ACC", "linear probe")].iloc[0]) == 95.0
    assert not t.bold[("ACC", "linear probe")].iloc[0] and t.bold[("ACC", "SCANv2")].iloc[0]
    assert ("NMI", "linear probe") not in t.values.columns
    assert any("5-fold CV" in n and "never bold" in n for n in t.notes)
    assert [c[1] for c in R.heads_table(_metrics()).values.columns if c[0] == "ACC"][0] == "k-means (cosine)"


def _seed_runs(seeds=(0, 1, 2)):
    """Per-run metrics.tsv rows of three seeds (as the heads rules write them: one file per seed)."""
    m = _metrics()
    return pd.concat([m.assign(seed=s, acc=m["acc"] + 0.01 * s * (m["method"] != "kmeans"))
                      for s in seeds], ignore_index=True)


def test_repeated_runs_show_mean_and_std_of_the_seed_rows():
    runs = _seed_runs()
    t = R.heads_table(runs, n_seeds=3)
    for method, label in (("temi", "TEMI"), ("scanv2", "SCANv2"), ("kmeans", "k-means (cosine)")):
        rows = 100 * runs.loc[(runs["method"] == method) & (runs["granularity"] == "classes"), "acc"]
        assert len(rows) == 3
        np.testing.assert_allclose(float(t.values[("ACC", label)].iloc[0]), rows.mean())
        np.testing.assert_allclose(float(t.std[("ACC", label)].iloc[0]), rows.std(ddof=1))
    assert t.bold[("ACC", "SCANv2")].iloc[0]  # bold by the mean: 83 > 80
    cells = format_cells(t)
    assert cells[("ACC", "SCANv2")].iloc[0] == "83.00 ± 1.00"
    assert "(n=" not in "".join(cells.iloc[0])  # every cell has the configured three seeds
    assert any("mean ± std" in n and "3 seeds" in n for n in t.notes)
    d = R.heads_depth_table(runs, n_seeds=3)
    np.testing.assert_allclose(float(d.values.loc[("d", "e", "TEMI"), "d = 1"]), 71.0)


def test_a_cell_short_of_seeds_prints_its_n_and_is_not_bold():
    runs = _seed_runs()
    runs = runs[~((runs["method"] == "scanv2") & (runs["seed"] == 2))]  # a partial report: one run missing
    t = R.heads_table(runs, n_seeds=3)
    cells = format_cells(t)
    assert cells[("ACC", "SCANv2")].iloc[0] == "82.50 ± 0.71 (n=2)"
    assert not t.bold[("ACC", "SCANv2")].iloc[0] and t.bold[("ACC", "k-means (cosine)")].iloc[0]
    assert "(n=" not in cells[("ACC", "TEMI")].iloc[0]
    one = R.heads_table(_seed_runs(seeds=(0,)), n_seeds=1)  # a single seed: the value alone
    assert format_cells(one)[("ACC", "TEMI")].iloc[0] == "60.00"


def test_spread_table_has_one_row_per_seed():
    per_head = pd.concat([pd.DataFrame({"dataset": "d", "encoder": "e", "method": "temi", "granularity": "classes",
                                        "seed": s, "head": [0, 1], "acc": [0.5 + 0.1 * s, 0.7],
                                        "selected": ["True", "False"]}) for s in (0, 1)])
    s = R.heads_spread_table(per_head)
    assert list(s.values.index) == [("d", "e", "TEMI", 0), ("d", "e", "TEMI", 1)]
    assert list(s.values["ACC selected"]) == [50.0, 60.0]


def test_held_out_rows_get_their_own_split_row_with_the_probe_of_that_split():
    fit = _metrics().assign(split="fit")
    held = fit.assign(split="eval", acc=fit["acc"] - 0.05)
    probe = pd.DataFrame([{"dataset": "d", "encoder": "e", "split": s, "protocol": p, "n_samples": 9,
                           "n_classes": 3, "C": 0.1, "acc": a, "top5_acc": 1.0}
                          for s, p, a in (("fit", "training accuracy", 0.99), ("eval", "held-out", 0.9))])
    t = R.heads_table(pd.concat([held, fit]), probe=probe)
    assert list(t.values.index) == [("d", "e", "fit"), ("d", "e", "eval")]
    np.testing.assert_allclose(t.values.loc[("d", "e", "eval"), ("ACC", "SCANv2")], 77)
    np.testing.assert_allclose(t.values.loc[("d", "e", "fit"), ("ACC", "SCANv2")], 82)
    np.testing.assert_allclose(t.values.loc[("d", "e", "eval"), ("ACC", "linear probe")], 90)
    assert any(n.startswith("split: fit") for n in t.notes)
    # Fit rows alone (no held-out set): the table as before, no split level, the fit rows only.
    assert list(R.heads_table(fit).values.index) == [("d", "e")]
    d = R.heads_depth_table(pd.concat([fit, held]))
    assert ("d", "e", "eval", "SCANv2") in d.values.index
