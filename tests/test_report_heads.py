"""Heads report section on hand-made per-run tables."""

import numpy as np
import pandas as pd

from embtree import report as R


def _metrics():
    rows = []
    for m, acc, ece in (("kmeans", 0.80, np.nan), ("temi", 0.60, 0.2), ("scanv2", 0.82, 0.05)):
        for g, shift in (("classes", 0.0), ("depth1", 0.1), ("depth2", 0.05)):
            rows.append({"dataset": "d", "encoder": "e", "method": m, "granularity": g, "acc": acc + shift,
                         "nmi": 0.5, "ari": 0.4, "top5_acc": 0.9, "msp_mean": 0.7, "ece": ece, "n_targets": 3})
    return pd.DataFrame(rows)


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
    fig = R.plot_coarse_depths(_metrics())
    assert len(fig.axes) == 1


def test_calibration_grid_draws_every_run():
    soft = np.eye(3)[[0, 1, 2, 2]] * 0.7 + 0.1
    fig = R.plot_calibration_grid([{"title": "a", "soft": soft, "targets": np.array([0, 1, 2, 1])}] * 2)
    assert len(fig.axes) == 4
    assert "ECE" in fig.axes[0].get_title()


def test_multilabel_table_only_rows_with_label_sets():
    from embtree.report.tables.heads import build_heads_tables, heads_multilabel_table

    m = _metrics()
    m["top1_l"] = np.where(m["method"] == "kmeans", np.nan, m["acc"] + 0.1)
    m["top5_l"] = 0.95
    t = heads_multilabel_table(m)
    assert list(t.values.columns) == ["top-1→1", "top-1→L", "top-5→1", "top-5→L"]
    assert [i[2] for i in t.values.index] == ["TEMI", "SCANv2"]  # k-means row had no label sets
    np.testing.assert_allclose(t.values.loc[("d", "e", "SCANv2")].to_numpy(dtype=float), [82, 92, 90, 95])
    assert [x.name for x in build_heads_tables(m, m.iloc[:0], multilabel=True)][-1] == "heads_multilabel"
    assert "heads_multilabel" not in [x.name for x in build_heads_tables(m, m.iloc[:0])]


def test_per_run_reliability_diagram_and_msp_histogram():
    from embtree import metrics
    from embtree.report.figures.heads import plot_msp_histogram, plot_reliability

    conf = np.array([0.95, 0.9, 0.55, 0.6, 0.3, 0.35])
    correct = np.array([True, True, False, True, False, False])
    fig = plot_reliability(conf, correct, n_bins=10, title="t")
    ax = fig.axes[0]
    ece = metrics.expected_calibration_error(conf, correct, 10)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"accuracy (ECE {100 * ece:.2f} %)", "gap to confidence"]
    assert len(ax.patches) == 2 * 10 and ax.get_title() == "t"  # accuracy and gap bar per bin
    fig = plot_msp_histogram(conf, bins=20)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"mean MSP {100 * conf.mean():.1f} %"]
    assert len(ax.patches) == 20 and sum(p.get_height() for p in ax.patches) == len(conf)
