"""embtree.caec.result: CAECResult's derived views (CSR membership, increments, 2n+4 parameters)."""

import numpy as np

from embtree.caec import CAECResult, grow_clusters


def test_views_agree_with_the_stored_fields():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (30, 3)), rng.normal(2, 1, (25, 3))])
    y = np.repeat([0, 1], [30, 25])
    res = grow_clusters(X, y, step="auto")
    assert isinstance(res, CAECResult) and res.n_classes == 2
    indptr, indices = res.member_csr()
    assert indptr.dtype == indices.dtype == np.int64
    for k in range(res.n_classes):
        np.testing.assert_array_equal(indices[indptr[k]:indptr[k + 1]], res.members[k])
        inc_y, inc_z = res.increments(k)
        n = res.n_steps[k]
        assert len(inc_y) == len(inc_z) == n
        assert inc_y.sum() == res.growth_Y[k, n - 1] and inc_z.sum() == res.growth_Z[k, n - 1]
    P = res.parameters()
    assert P.shape == (2, 2 * 3 + 4)
    np.testing.assert_array_equal(P[:, :3], res.centroids)
    np.testing.assert_array_equal(P[:, 3:6], res.mmp)
    np.testing.assert_array_equal(P[:, 6:], np.column_stack(
        [res.r_min, res.r_max, res.theta_min_half, res.theta_max_half]))
    np.testing.assert_allclose(res.coverage, res.n_target / (res.n_target + res.n_other))
    np.testing.assert_allclose(res.recall, res.n_target / res.class_sizes)
