"""embtree.io: atomic writes and the embeddings file format."""

import json
import os

import numpy as np
import pytest

from embtree.io import Embeddings, atomic_path, load_embeddings, save_embeddings, save_npz


def _emb(n=6, d=3, **kw):
    rng = np.random.default_rng(0)
    return Embeddings(
        features=rng.normal(size=(n, d)), labels=np.arange(n) % 2, class_names=np.array(["a", "b"]), **kw
    )


def test_roundtrip_with_optional_arrays_and_sidecar(tmp_path):
    emb = _emb(logits=np.ones((6, 4)), sample_ids=np.array([f"s{i}" for i in range(6)]),
               wnids=np.array(["n00000001", "n00000002"]))  # fmt: skip
    path = tmp_path / "e" / "embeddings.npz"
    save_embeddings(path, emb, metadata={"model": "x", "n": np.int64(3)})
    back = load_embeddings(path)
    assert back.features.dtype == np.float32 and back.labels.dtype == np.int64
    np.testing.assert_allclose(back.features, emb.features.astype(np.float32))
    assert back.logits.shape == (6, 4) and list(back.wnids) == ["n00000001", "n00000002"]
    assert json.loads(path.with_suffix(".json").read_text()) == {"model": "x", "n": 3}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"labels": np.arange(5) % 2}, "'labels' has shape"),
        ({"features": np.full((6, 3), np.nan)}, "NaN or inf"),
        ({"labels": np.zeros(6, dtype=int)}, "at least 2 classes"),
        ({"labels": np.arange(6)}, "labels must lie in 0..1"),
    ],
)
def test_invalid_embeddings_leave_no_file(tmp_path, kwargs, message):
    emb = _emb()
    for key, value in kwargs.items():
        setattr(emb, key, value)
    path = tmp_path / "bad.npz"
    with pytest.raises(ValueError, match=message):
        save_embeddings(path, emb)
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_removes_temporary_on_error(tmp_path):
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_umask_permissions_not_mkstemp_0600(tmp_path):
    save_npz(tmp_path / "a.npz", x=np.zeros(2))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o666 & ~umask


def test_load_names_the_file_when_not_npz(tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        load_embeddings(bad)


def test_npz_shapes_reads_headers_only(tmp_path):
    from embtree.io import npz_shapes, save_npz

    path = tmp_path / "a.npz"
    save_npz(path, features=np.zeros((7, 3), np.float32), class_names=np.array(["a", "b"]))
    assert npz_shapes(path) == {"features": (7, 3), "class_names": (2,)}


def test_savefig_is_byte_identical_across_processes(tmp_path):
    # matplotlib draws SVG clip-path / glyph ids from a per-process random salt and stamps a
    # date; embtree.io.savefig fixes both, so two processes write the same bytes.
    import subprocess
    import sys

    code = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from embtree.io import savefig
fig, ax = plt.subplots()
ax.plot([0, 1, 2], [2, 0, 1]); ax.set_title("clip paths and text"); ax.set_xlim(0.5, 1.5)
for ext in ("svg", "png", "pdf"):
    savefig(fig, sys.argv[1] + "." + ext, dpi=40)
"""
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True, timeout=120)
    for ext in ("svg", "png", "pdf"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes(), ext
    svg = (tmp_path / "a.svg").read_text()
    assert "<dc:date>" not in svg and "clipPath" in svg
