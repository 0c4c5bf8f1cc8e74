"""embtree.report.tables.heads: the heads tables on hand-made per-run tables."""

import numpy as np
import pandas as pd

from conftest import heads_metrics as _metrics
from embtree import report as R
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
