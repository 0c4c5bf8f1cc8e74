"""embtree.heads.scores: the metrics.tsv row of a clustering."""

import numpy as np
import pytest

from embtree.heads import scores


def test_evaluate_and_metrics_row():
    y = np.array([0, 0, 1, 1, 2, 2])
    soft = np.eye(3)[[1, 1, 2, 2, 0, 0]] * 0.8 + 0.2 / 3
    row = scores.metrics_row({"method": "x"}, y, soft, 3)
    assert row["acc"] == 1.0 and row["n_nonempty"] == 3 and not row["degenerate"]
    assert row["msp_mean"] == pytest.approx(0.8 + 0.2 / 3)
    assert np.isnan(row["top5_acc"])  # fewer than 5 clusters
    one = scores.metrics_row({}, y, np.tile([[0.9, 0.05, 0.05]], (6, 1)), 3)
    assert one["degenerate"]
