"""Shared fixtures: the repository root and small data sets built in memory or in tmp_path."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    """The repository root (holds workflow/Snakefile, config/, resources/)."""
    return ROOT


@pytest.fixture(scope="session")
def planted():
    """A small planted-tree data set (depth 2, branching 2: 4 classes x 30 samples, dim 8)."""
    from embtree.datasets import load_dataset

    return load_dataset({"type": "planted-tree", "depth": 2, "branching": 2, "dim": 8,
                         "samples_per_class": 30, "seed": 0})  # fmt: skip


@pytest.fixture
def make_image_folder(tmp_path):
    """``make_image_folder({"cat": 3, "dog": 2}, size=8)`` -> root with random RGB PNGs per class."""

    def make(counts, size=8, seed=0):
        from PIL import Image

        rng = np.random.default_rng(seed)
        root = tmp_path / "images"
        for name, n in counts.items():
            (root / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
        return root

    return make
