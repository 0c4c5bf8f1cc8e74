"""Shared fixtures: the repository root and small data sets built in memory or in tmp_path."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    """The repository root (holds workflow/Snakefile, config/, resources/)."""
    return ROOT


@pytest.fixture(scope="session")
def planted():
    """A small planted-tree data set (depth 2, branching 2: 4 classes x 30 samples, dim 8)."""
    from embtree.data.datasets import load_dataset

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


def run_parallel(commands, workers=None):
    """Run independent subprocesses side by side; ``{key: CompletedProcess}`` in the input's order.

    ``commands`` maps a key to ``subprocess.run`` keyword arguments (``args`` included). Tests
    of the workflow spend most of their time in new processes that import Snakemake, scikit-learn
    or torch one core at a time; started together they use every core of the machine.
    """
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    commands = dict(commands)
    if not commands:
        return {}
    workers = workers or min(len(commands), os.cpu_count() or 2)
    with ThreadPoolExecutor(workers) as pool:
        futures = {key: pool.submit(subprocess.run, capture_output=True, text=True, **kw)
                   for key, kw in commands.items()}
        return {key: f.result() for key, f in futures.items()}


def selected(request, *names):
    """Which of the test functions ``names`` of the requesting module this session runs.

    A module fixture that starts one subprocess per test starts only those (``-k``, ``-m``)."""
    module = request.node.path if hasattr(request.node, "path") else None
    chosen = {item.originalname for item in request.session.items
              if getattr(item, "path", None) == module and hasattr(item, "originalname")}
    return {name for name in names if name in chosen}


def dry_run(tmp_path, config):
    """``snakemake -n`` of the checkout's workflow on ``config`` (written to tmp_path/c.yaml, run
    there): ``(CompletedProcess, stdout + stderr)``. The config and data checks at DAG build."""
    import subprocess
    import sys

    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-s", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "1", "-n", "--configfile", str(tmp_path / "c.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    return proc, proc.stdout + proc.stderr


@pytest.fixture
def caec_summary():
    """CAEC per-run summaries for the report tests: paper table 5 (purity), columns CIFAR10 and
    CIFAR100(20), two models x metrics euclidean, manhattan, canberra."""
    purity = {
        ("ViT", "c10"): [0.80, 0.86, 0.95],
        ("EffNet", "c10"): [0.96, 0.97, 0.98],
        ("ViT", "c20"): [0.35, 0.66, 0.83],
        ("EffNet", "c20"): [0.90, 0.94, 0.86],
    }
    rows = [
        dict(dataset=ds, encoder=enc, metric=m, purity_mean=p, ri=0.5, nmi=0.4)
        for (enc, ds), ps in purity.items()
        for m, p in zip(["euclidean", "manhattan", "canberra"], ps)
    ]
    return pd.DataFrame(rows)
