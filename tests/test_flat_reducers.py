"""Tests of embtree.flat.reducers: PCA, and UMAP with its exact kNN graph (exact_knn) and numba cache."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from embtree import flat
from embtree.flat import reducers


@pytest.mark.parametrize("method", ["none", "pca"])
def test_linear_reducers_keep_blobs_clusterable(blobs, method):
    X, y = blobs
    Z = flat.reduce(X, method, seed=0)
    assert Z.dtype == np.float32 and len(Z) == len(X)
    assert adjusted_mutual_info_score(y, flat.cluster(Z, "kmeans", n_clusters=8)) > 0.95


def test_pca_zscores_then_keeps_variance_fraction():
    rng = np.random.default_rng(0)
    # Column 1 has a huge scale: without the z-score PCA would keep only it.
    X = rng.normal(size=(200, 5)) * np.array([1, 1000, 1, 1, 1])
    X[:, 4] = 3.0  # constant column: must not produce NaN
    Z = flat.reduce(X, "pca", n_components=0.7)
    # 4 informative unit-variance dims after z-scoring: 70 % needs 3 of them.
    assert Z.shape == (200, 3) and np.isfinite(Z).all()
    # Against the naive route: z-score by hand, then sklearn's PCA (deterministic up to sign).
    from sklearn.decomposition import PCA

    ref = X[:, :4]
    ref = (ref - ref.mean(0)) / ref.std(0)
    expected = PCA(n_components=3).fit_transform(ref)
    np.testing.assert_allclose(np.abs(Z), np.abs(expected), atol=1e-4)
    assert flat.reduce(X, "pca", n_components=2).shape == (200, 2)
    assert flat.reduce(X, "pca", n_components=50).shape == (200, 5)  # clamped to min(N, d)


def test_bad_input_raises_clear_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="unknown reducer 'tsne'"):
        flat.reduce(X, "tsne")
    with pytest.raises(ValueError, match=r"\['n_neighbours'\] for reducer 'umap'"):
        flat.reduce(X, "umap", n_neighbours=5)
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        flat.reduce(bad, "pca")
    with pytest.raises(ValueError, match="n_components=1.5"):
        flat.reduce(X, "pca", n_components=1.5)


def _data(n=300, d=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_exact_knn_matches_a_full_distance_matrix(metric):
    from scipy.spatial.distance import cdist

    X = _data()
    idx, dist, index = reducers.exact_knn(X, 15, metric)
    D = cdist(X.astype(np.float64), X.astype(np.float64), {"manhattan": "cityblock"}.get(metric, metric))
    ref_idx = np.argsort(D, axis=1, kind="stable")[:, :15]  # continuous data: no ties
    assert index is None and idx.dtype == np.int32 and dist.dtype == np.float32
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, np.take_along_axis(D, ref_idx, axis=1), atol=1e-4)


def test_exact_knn_puts_every_sample_first_even_among_duplicates():
    X = _data(40, 4)
    X = np.concatenate([X, X, X])  # each row three times: any copy may come first
    idx, dist, _ = reducers.exact_knn(X, 5, "euclidean")
    rows = np.arange(len(X))
    np.testing.assert_array_equal(idx[:, 0], rows)
    assert (dist[:, 0] == 0).all()
    # the other two copies are still among the neighbours, and no row lists itself twice
    for i in rows:
        assert {i % 40, i % 40 + 40, i % 40 + 80} <= set(idx[i].tolist())
        assert len(set(idx[i].tolist())) == 5
    assert (np.diff(dist, axis=1) >= 0).all()


@pytest.mark.slow  # UMAP's numba kernels compile for ~15 s in a new process
def test_reduce_umap_exact_path_is_seeded(monkeypatch):
    calls = []
    real = reducers.exact_knn
    monkeypatch.setattr(reducers, "exact_knn", lambda *a: calls.append(a[1:]) or real(*a))
    X = _data(120, 8)
    a = flat.reduce(X, "umap", n_components=2, seed=0, n_epochs=20, n_neighbors=10)
    b = flat.reduce(X, "umap", n_components=2, seed=0, n_epochs=20, n_neighbors=10)
    assert calls == [(10, "euclidean")] * 2
    np.testing.assert_array_equal(a, b)
    assert a.shape == (120, 2) and np.isfinite(a).all()
    # above the threshold (or for a metric scikit-learn does not search) UMAP searches itself
    flat.reduce(X, "umap", n_components=2, seed=0, n_epochs=5, n_neighbors=10, exact_knn_max_samples=100)
    flat.reduce(X, "umap", n_components=2, seed=0, n_epochs=5, n_neighbors=10, metric="correlation")
    assert len(calls) == 2


_UMAP_SCRIPT = """
import sys, numpy as np
from embtree import flat
X = np.random.default_rng(0).normal(size=(150, 6)).astype(np.float32)
np.save(sys.argv[1], flat.reduce(X, "umap", n_components=2, seed=0, n_epochs=30, n_neighbors=10))
"""


@pytest.mark.slow  # two new processes that compile UMAP's kernels (~15 s each on 2 cores)
def test_umap_is_bit_identical_with_a_cold_and_a_warm_numba_cache(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    outs = []
    for i in range(2):  # the first run compiles and fills the cache, the second loads from it
        out = tmp_path / f"y{i}.npy"
        subprocess.run([sys.executable, "-c", _UMAP_SCRIPT, str(out)], env=env, check=True)
        outs.append(out.read_bytes())
    assert any((tmp_path / "numba").rglob("*.nbi")), "no numba cache index written"
    assert outs[0] == outs[1]


def test_pacmap_is_seeded_and_keeps_blobs_clusterable(blobs):
    # PaCMAP (paper 004 E.2): the authors' package without its PCA step; 300 short iterations.
    X, y = blobs
    kw = {"n_components": 5, "num_iters": [50, 50, 100]}
    Z = flat.reduce(X, "pacmap", seed=3, **kw)
    assert Z.shape == (len(X), 5) and Z.dtype == np.float32
    assert adjusted_mutual_info_score(y, flat.cluster(Z, "kmeans", n_clusters=8, seed=0)) > 0.95
    assert Z.tobytes() == flat.reduce(X, "pacmap", seed=3, **kw).tobytes()  # byte-identical again
    assert not np.array_equal(Z, flat.reduce(X, "pacmap", seed=4, **kw))  # the seed matters
    wide = flat.reduce(X, "pacmap", seed=3, n_components=50, num_iters=[10, 10, 10])
    assert wide.shape == (len(X), X.shape[1])  # 50 dims of 12-d data: clamped to 12


_PACMAP_SCRIPT = """
import sys
import numpy as np
from sklearn.datasets import make_blobs
from embtree import flat
X, _ = make_blobs(n_samples=600, centers=6, n_features=16, random_state=0)
np.save(sys.argv[1], flat.reduce(X, "pacmap", seed=0, n_components=10))
"""


@pytest.mark.slow  # three new processes that import pacmap / faiss and load its kernels
def test_pacmap_is_byte_identical_across_processes_and_numba_thread_counts(tmp_path):
    import os
    import subprocess
    import sys

    outs = []
    for i, threads in enumerate(("1", "2", "2")):
        out = tmp_path / f"y{i}.npy"
        subprocess.run([sys.executable, "-c", _PACMAP_SCRIPT, str(out)], check=True,
                       env={**os.environ, "NUMBA_NUM_THREADS": threads})
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
