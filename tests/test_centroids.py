"""Class centroids (embtree.centroids)."""

import numpy as np
import pytest

from embtree.centroids import class_centroids


def test_class_centroids():
    X = np.array([[0.0, 0], [2, 0], [10, 10], [12, 10]])
    y = np.array([0, 0, 1, 1])
    G = class_centroids(X, y)
    np.testing.assert_allclose(G, [[1, 0], [11, 10]])
    with pytest.raises(ValueError, match="no samples"):
        class_centroids(X, y, n_classes=3)
