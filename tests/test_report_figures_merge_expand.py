"""embtree.report.figures.merge_expand: M1-M3 heat maps and consistent-neighbour histograms."""

import numpy as np
import pandas as pd

from embtree import report as R


def test_merge_expand_figures():
    fig = R.plot_me_scores(np.eye(4), np.ones((4, 4)), np.eye(4), np.array([0, 0, 1, 2]))
    assert len(fig.axes) == 6  # three heat maps and their colour bars
    hist = pd.DataFrame({"consistent": np.arange(11), "clean": np.arange(11), "unclean": np.ones(11),
                         "all": np.arange(11) + 1})
    assert len(R.plot_consistent_neighbours(hist).axes[0].lines) == 3


def test_me_scores_axes_named_and_ticks_legible():
    K = 50
    rng = np.random.default_rng(0)
    fig = R.plot_me_scores(rng.random((K, K)), rng.random((K, K)), rng.random((K, K)), np.arange(K) // 2)
    for ax in [a for a in fig.axes if a.images]:
        assert ax.get_xlabel().startswith("seed region") and ax.get_ylabel().startswith("seed region")
        labels = ax.get_xticklabels()
        assert len(labels) <= 20 and min(t.get_fontsize() for t in labels) >= 8
    assert all(a.get_ylabel() for a in fig.axes if not a.images)  # colour bars say what they show


def test_empty_me_figures_say_no_data():
    fig = R.plot_me_scores(np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0)), np.array([], dtype=int))
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)
    hist = pd.DataFrame({"consistent": np.arange(11), "clean": 0, "unclean": 0, "all": 0})
    fig = R.plot_consistent_neighbours(hist)
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)
