"""embtree.report.figures.merge_expand: M1-M3 heat maps and consistent-neighbour histograms."""

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

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


def test_me_tsne_panels_show_classes_seed_regions_and_clusters():
    rng = np.random.default_rng(0)
    n = 60
    xy = rng.standard_normal((n, 2))
    regions = np.arange(n) % 6
    clean = np.arange(n) % 3 > 0
    moved = np.arange(n) >= 50
    fig = R.plot_me_tsne(xy, np.arange(n) % 3, ["a", "b", "c"], regions, np.array([1, 4]), np.arange(n) % 2, clean,
                         translated=moved, title="t")
    a, b, c = fig.axes
    # (a) one collection per (class, moved) pair present; a legend of the three classes
    assert [t.get_text() for t in a.get_legend().get_texts()] == ["a", "b", "c"] and "translated" in a.get_title()
    # (b) grey rest + one collection per seed region, each labelled with its region id
    assert len(b.collections) == 3 and sorted(t.get_text() for t in b.texts) == ["1", "4"]
    assert len(b.collections[0].get_offsets()) == n - 20  # samples outside regions 1 and 4
    # (c) clean dots and unclean crosses per cluster; the counts in the title
    assert len(c.collections) == 4 and f"clean ({clean.sum()})" in c.get_title()
    empty = R.plot_me_tsne(xy, np.zeros(n, int), ["a"], regions, np.array([], int), np.zeros(n, int), clean)
    assert any(t.get_text().startswith("no data:") for t in empty.axes[1].texts)


def test_me_examples_mosaics_frame_neighbours_by_class():
    thumbs = np.zeros((2, 9, 8, 8, 3), np.uint8)
    clean_labels = np.zeros((2, 9), int)
    unclean_labels = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 0]])
    fig = R.plot_me_examples(thumbs, clean_labels, thumbs[:1], unclean_labels, [str(i) for i in range(8)])
    tiles = [ax for ax in fig.axes if ax.images]
    assert len(tiles) == 3 * 9
    colours = [ax.spines["top"].get_edgecolor() for ax in tiles]
    green, red, blue = to_rgba("tab:green"), to_rgba("tab:red"), to_rgba("tab:blue")
    unclean = colours[18:]  # the clean column is drawn first (two mosaics), then the unclean one
    assert unclean.count(blue) == 1 and unclean.count(green) == 1 and unclean.count(red) == 7
    assert colours[:18].count(green) == 16 and colours[:18].count(blue) == 2
    # the second row of the unclean column has no example: a no-data note
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)
