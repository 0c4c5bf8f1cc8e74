"""embtree.report.figures.l2h: the linkage dendrogram with purity-labelled leaves."""

import matplotlib.pyplot as plt
import numpy as np

from embtree.report.figures.l2h import plot_dendrogram


def test_leaves_are_named_with_their_purity():
    Z = np.array([[0, 1, 1, 2], [2, 3, 2, 3]], dtype=float)
    fig = plot_dendrogram(Z, ["cat", "dog", "eel"], leaf_purity=[0.5, np.nan, 1.0], title="t", ylabel="step")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"cat (50%)", "dog (empty)", "eel (100%)"}
    assert ax.get_xlabel() == "step" and ax.get_title() == "t"
    plt.close(fig)
