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
