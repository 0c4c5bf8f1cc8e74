"""embtree.report.figures.l2h: the linkage dendrogram with purity-labelled leaves."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from embtree.report.figures.l2h import plot_dendrogram


def test_leaves_are_named_with_their_purity():
    Z = np.array([[0, 1, 1, 2], [2, 3, 2, 3]], dtype=float)
    fig = plot_dendrogram(Z, ["cat", "dog", "eel"], leaf_purity=[0.5, np.nan, 1.0], title="t", ylabel="step")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"cat (50%)", "dog (empty)", "eel (100%)"}
    assert ax.get_xlabel() == "step" and ax.get_title() == "t"
    plt.close(fig)


def test_dendrogram_draws_support_at_each_internal_node():
    import matplotlib.pyplot as plt
    from scipy.cluster import hierarchy

    from embtree.report.figures.l2h import plot_dendrogram

    # ((0,1),(2,(3,4))): rows (0,1) h1, (3,4) h2, (2,node6) h3, root h4
    Z = hierarchy.linkage([[0.0], [1.0], [10.0], [20.0], [21.0]], "single")
    support = np.array([0.5, 0.77, 0.999, 1.0])
    fig = plot_dendrogram(Z, list("abcde"), support=support)
    texts = {t.get_text(): t.get_position() for t in fig.axes[0].texts}
    assert set(texts) == {"50", "77", "99"}  # root left out, rounded down
    R = hierarchy.dendrogram(Z, no_plot=True)
    pos = {leaf: 5 + 10 * i for i, leaf in enumerate(R["leaves"])}
    for k, label in enumerate(["50", "77", "99"]):
        a, b = (int(c) for c in Z[k, :2])
        pos[5 + k] = (pos[a] + pos[b]) / 2
        assert texts[label] == (Z[k, 2], pos[5 + k])
    # ... which is where scipy draws the top of each U-link (height, centre).
    tops = {(d[1], (i[1] + i[2]) / 2) for i, d in zip(R["icoord"], R["dcoord"])}
    assert set(texts.values()) <= tops
    plt.close(fig)
    with pytest.raises(ValueError, match="support has 2 values"):
        plot_dendrogram(Z, list("abcde"), support=[1.0, 1.0])


def test_dendrogram_axis_always_named_and_a_single_leaf_says_no_data():
    Z = np.array([[0, 1, 1, 2]], dtype=float)
    assert plot_dendrogram(Z, ["a", "b"], ylabel="").axes[0].get_xlabel() == "merge height"
    fig = plot_dendrogram(np.zeros((0, 4)), ["a"])
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)
    plt.close("all")
