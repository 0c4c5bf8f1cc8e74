"""embtree.caec.arrays: clusters.npz / growth.npz arrays round-trip through io.save_npz."""

import numpy as np

from embtree import caec
from embtree.caec import grow_clusters


def _blobs(seed, C=5, n=30, d=6, spread=2.5):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, spread, size=(C, d))
    sizes = rng.integers(n // 2, n, size=C)
    X = np.concatenate([c + rng.normal(size=(s, d)) for c, s in zip(centres, sizes)])
    y = np.repeat(np.arange(C), sizes)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def test_saved_arrays_round_trip(tmp_path):
    from embtree import io

    X, y = _blobs(1)
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
