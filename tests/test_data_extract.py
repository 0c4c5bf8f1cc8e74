"""embtree.data.extract: the chunked, resumable embedding loop (tiny random-init model, CPU)."""

import numpy as np
import pytest

from embtree.data.datasets import load_dataset
from embtree.data.extract import encode

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"type": "digits", "max_per_class": 2})  # 20 images


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


# timm's tiny test_* architectures: the same code paths as resnet / vit, at a fraction of the cost.
RESNET = {"type": "timm", "model": "test_resnet", "pretrained": False, "image_size": 32, "seed": 0}


def _run(data, spec, cache, batch_size=8, with_stats=False, **kw):
    out = encode(data, spec, cache_dir=cache, num_workers=0, batch_size=batch_size, progress=False, **kw)
    return out if with_stats else out[:2]


def test_killed_job_resumes_from_its_last_chunk_with_identical_bytes(digits, cache, tmp_path, monkeypatch):
    """A job killed after some chunks restarts after the last finished chunk; same features."""
    import embtree.data.extract as E

    full, _ = _run(digits, RESNET, cache, batch_size=4)
    store = tmp_path / "store"
    calls = {"n": 0}
    original = E.ChunkStore.write

    def write_then_die(self, start, f, lg):
        original(self, start, f, lg)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the job is killed after its second chunk
    monkeypatch.setattr(E.ChunkStore, "write", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(digits, RESNET, cache, batch_size=4, resume_dir=store, chunk_images=8)
    assert len(list(store.glob("chunk_*.npz"))) == 2
    monkeypatch.setattr(E.ChunkStore, "write", original)
    resumed, meta, stats = _run(digits, RESNET, cache, batch_size=4, resume_dir=store, chunk_images=8,
                                with_stats=True)
    assert stats["resumed_from"] == 16
    np.testing.assert_array_equal(resumed.features, full.features)
    np.testing.assert_array_equal(resumed.logits, full.logits)
    # Another encoder (fingerprint) never reuses those chunks.
    other, _, st = _run(digits, {**RESNET, "seed": 3}, cache, batch_size=4, resume_dir=store, chunk_images=8,
                        with_stats=True)
    assert st["resumed_from"] == 0 and not np.allclose(other.features, full.features)
