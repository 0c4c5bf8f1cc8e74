"""embtree.report.figures.heads: coarse depths, calibration grid, per-run reliability and MSP."""

import numpy as np
import pandas as pd

from conftest import heads_metrics as _metrics
from embtree import metrics
from embtree.heads import coefficient_of_determination
from embtree import report as R
from embtree.report.figures.heads import plot_msp_histogram, plot_reliability


def test_coarse_depths_figure():
    fig = R.plot_coarse_depths(_metrics())
    assert len(fig.axes) == 1


def test_calibration_grid_draws_every_run():
    soft = np.eye(3)[[0, 1, 2, 2]] * 0.7 + 0.1
    fig = R.plot_calibration_grid([{"title": "a", "soft": soft, "targets": np.array([0, 1, 2, 1])}] * 2)
    assert len(fig.axes) == 4
    assert "ECE" in fig.axes[0].get_title()


def test_per_run_reliability_diagram_and_msp_histogram():
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


def test_coarse_depths_show_the_full_class_point_on_a_fixed_range():
    m = _metrics()
    m["n_targets"] = m["granularity"].map({"depth1": 2, "depth2": 4, "classes": 8})
    m.loc[m["granularity"] == "depth1", "acc"] = 0.998  # tiny differences must not fill the axis
    fig = R.plot_coarse_depths(m)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["d = 1\nk = 2", "d = 2\nk = 4", "all classes\nk = 8"]
    xs = {x for line in ax.lines for x in line.get_xdata()}
    assert 2 in xs  # the full-class point is drawn
    lo, hi = ax.get_ylim()
    assert (lo, hi) == (0, 100) and hi - lo >= 10
    assert ax.get_xlabel() and ax.get_ylabel() == "ACC (%)"


def test_empty_heads_figures_say_no_data():
    empty = _metrics().iloc[:0]
    for fig in (R.plot_coarse_depths(empty), R.plot_calibration_grid([]),
                plot_reliability(np.array([]), np.array([], dtype=bool)), plot_msp_histogram(np.array([]))):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("no data:") for t in texts), texts


def test_hzr_moves_figure_draws_the_shares_per_original_class():
    import pandas as pd

    moves = pd.DataFrame({"dataset": "d", "encoder": "e", "split": "fit",
                          "variant": ["leaf_hzr", "leaf_hzr", "p_hzr", "p_hzr"],
                          "original": "furniture", "reassessed": ["chair", "desk", "furniture", "desk"],
                          "n": [3, 1, 2, 2]})
    fig = R.plot_hzr_moves(moves)
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)
    assert widths == [0.25, 0.5, 0.5, 0.75]  # leaf HZR 3:1, p-HZR 2:2 (kept half)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("furniture (4)") and labels[1] == "p-HZR"
    texts = [t.get_text() for t in R.plot_hzr_moves(moves.iloc[:0]).axes[0].texts]
    assert texts and texts[0].startswith("no data:")


def _sweep_rows():
    from test_report_tables_heads import _sweep_rows as rows

    return rows()


def test_sweep_curves_draw_the_means_over_seeds():
    fig = R.plot_heads_sweep(_sweep_rows(), "knn")
    top, bottom = fig.axes[0], fig.axes[1]
    assert top.get_ylabel() == "ACC (%)" and bottom.get_ylabel() == "NMI (%)"  # the paper's fig. 5 metric on top
    xy = [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)) for line in top.lines
          if line.get_marker() == "o"]  # the curves, not the error bars' caps
    curves = sorted(tuple(np.round(y, 6)) for x, y in xy if len(x) == 2 and x[0] == 10 and x[1] == 50)
    assert curves == [(60.5, 70.5), (70.5, 80.5)]  # TEMI, SCANv2: mean of seeds 0 and 1 at k = 10, 50
    assert any(line.get_linestyle() == "--" and float(line.get_ydata()[0]) == 65.0 for line in top.lines)  # k-means
    fig = R.plot_heads_sweep(_sweep_rows(), "n_clusters")
    assert fig.axes[0].get_ylabel() == "NMI (%)" and "one-to-one" in fig.axes[1].get_ylabel()
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["1x", "2x"]


def test_gap_figure_pairs_seeds():
    m = pd.DataFrame({"dataset": "d", "encoder": ["a", "a", "a", "a", "b", "b"], "granularity": "classes",
                      "method": ["temi", "scanv2"] * 3, "seed": [0, 0, 1, 1, 0, 0],
                      "acc": [0.70, 0.60, 0.74, 0.60, 0.50, 0.55]})
    ax = R.plot_method_gap(m).axes[0]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [12.0, -5.0]  # a: mean of +10 and +14 points; b: -5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a\n(n=2)", "b\n(n=1)"]
    lo, hi = ax.get_ylim()
    assert lo == -hi  # symmetric about 0


def test_separability_figure_titles_carry_r2():
    sep = pd.DataFrame({"dataset": "d", "encoder": ["a", "b", "c"], "l_align": [0.1, 0.3, 0.2],
                        "davies_bouldin": [1.0, 3.0, 2.0], "silhouette": [0.4, 0.1, 0.3], "knn_precision": 0.5})
    probe = pd.DataFrame({"dataset": "d", "encoder": ["a", "b", "c"], "split": "fit", "acc": [0.9, 0.5, 0.7]})
    fig = R.plot_separability(sep, probe)
    assert [ax.get_title() for ax in fig.axes][:2] == ["L_align: R² = 1.000 (n=3)", "Davies-Bouldin: R² = 1.000 (n=3)"]
    r2 = coefficient_of_determination([0.9, 0.5, 0.7], [0.4, 0.1, 0.3])
    assert 0 < r2 < 1 and fig.axes[2].get_title() == f"silhouette: R² = {r2:.3f} (n=3)"
    fig = R.plot_separability(sep.iloc[:1], probe)
    assert "R² n/a" in fig.axes[0].get_title()


def test_empty_analysis_figures_say_no_data():
    empty = pd.DataFrame()
    for fig in (R.plot_heads_sweep(empty, "knn"), R.plot_method_gap(empty), R.plot_separability(empty)):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("no data:") for t in texts), texts
