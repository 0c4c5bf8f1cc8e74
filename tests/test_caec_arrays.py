"""embtree.caec.arrays: clusters.npz / growth.npz arrays round-trip through io.save_npz."""

import numpy as np

from conftest import uneven_blobs
from embtree import caec
from embtree.caec import grow_clusters


def test_saved_arrays_round_trip(tmp_path):
    from embtree import io

    X, y = uneven_blobs(1)
    res = grow_clusters(X, y, step="auto")
    names = np.array([f"c{k}" for k in range(res.n_classes)])
    io.save_npz(tmp_path / "clusters.npz", **caec.cluster_arrays(res, names))
    io.save_npz(tmp_path / "growth.npz", **caec.growth_arrays(res, names))
    with np.load(tmp_path / "clusters.npz") as c:
        ptr, idx = c["member_indptr"], c["member_indices"]
        for k in range(res.n_classes):
            np.testing.assert_array_equal(idx[ptr[k]:ptr[k + 1]], res.members[k])
        assert c["final_centroids"].shape == c["mmp"].shape == (res.n_classes, X.shape[1])
        assert float(c["step"]) == res.step
    with np.load(tmp_path / "growth.npz") as g:
        k = 0
        inc = g["target"][k][: g["n_steps"][k]]
        assert inc.sum() == res.growth_Y[k, res.n_steps[k] - 1]
        assert np.isnan(g["target"][k][g["n_steps"][k]:]).all()
