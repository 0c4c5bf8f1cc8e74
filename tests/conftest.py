"""Shared fixtures and helpers: the repository root, small data sets built in memory or in tmp_path,
encoder runs, Snakemake runs and WordNet. Test modules import the plain helpers and constants
(``from conftest import ROOT, uneven_blobs``); the fixtures pytest finds by name."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
HIERARCHIES = ROOT / "resources" / "hierarchies"  # the shipped reference trees and synset tables

# A WordNet-shaped tree: "dog" hangs as a leaf below its own synset node, the ancestor of
# poodle and terrier; "feline" is named by class name; "animal.n.01" is no class. For the
# ancestor label sets (embtree.hierarchy.granularity) and the heads' top-1 -> L score.
ANCESTOR_TREE = "((poodle,terrier,dog)dog.n.01,(cat,(lion,tiger)feline)animal.n.01,feline)root;"
ANCESTOR_NAMES = ["poodle", "terrier", "dog", "cat", "lion", "tiger", "feline"]

# timm's tiny test_resnet, random init: the code path of resnet at a fraction of the cost.
RESNET = {"type": "timm", "model": "test_resnet", "pretrained": False, "image_size": 32, "seed": 0}


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


# ---------------------------------------------------------------- data in memory


@pytest.fixture(scope="module")
def blobs():
    """8 equal, well-separated blobs (480 x 12): each holds 12.5 % of the samples, under HDBSCAN's 20 % cap."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=480, centers=8, n_features=12, cluster_std=0.6, center_box=(-20, 20), random_state=3)
    return X, y


def kmeans_blobs(n=1500, d=12, k=8, seed=0, dtype=np.float64, std=2.5):
    """scikit-learn's ``make_blobs`` (n x d, k centres) as ``dtype``: the k-means tests' data."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return X.astype(dtype), y


def uneven_blobs(seed, C=5, n=30, d=6, spread=2.5):
    """C Gaussian classes of n // 2 .. n - 1 samples each around random centres, shuffled: the CAEC tests' data."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, spread, size=(C, d))
    sizes = rng.integers(n // 2, n, size=C)
    X = np.concatenate([c + rng.normal(size=(s, d)) for c, s in zip(centres, sizes)])
    y = np.repeat(np.arange(C), sizes)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def even_blobs(n_per=40, k=4, d=8, seed=0):
    """k far-apart Gaussian classes of n_per samples each, float32, in class order: the heads' tests' data."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 10
    X = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres]).astype(np.float32)
    y = np.repeat(np.arange(k), n_per)
    return X, y


def blobs_around(centres, n_per, std, seed=0):
    """n_per samples of spread ``std`` around each of the given centres, float32, in class order:
    the Merge & Expand tests' data."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + std * rng.standard_normal((n_per, len(c))) for c in centres])
    y = np.repeat(np.arange(len(centres)), n_per)
    return X.astype(np.float32), y


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


# ---------------------------------------------------------------- images and encoders


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's digits, 2 images per class (20 images)."""
    from embtree.data.datasets import load_dataset

    return load_dataset({"type": "digits", "max_per_class": 2})


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A model cache folder shared by the tests of one module."""
    return tmp_path_factory.mktemp("cache")


def encode_run(data, spec, cache, batch_size=8, with_stats=False, **kw):
    """:func:`embtree.data.extract.encode` on CPU without workers or progress bar:
    ``(embeddings, meta)``, or ``(embeddings, meta, stats)`` with ``with_stats``."""
    from embtree.data.extract import encode

    out = encode(data, spec, cache_dir=cache, num_workers=0, batch_size=batch_size, progress=False, **kw)
    return out if with_stats else out[:2]


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


# ---------------------------------------------------------------- subprocesses and the workflow


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


# ---------------------------------------------------------------- WordNet


def wordnet_or_skip():
    """:func:`embtree.hierarchy.wordnet.load_wordnet`, or skip the test where no WordNet 3.0 is found."""
    from embtree.hierarchy.wordnet import WordNetNotFoundError, load_wordnet

    try:
        return load_wordnet()
    except WordNetNotFoundError as exc:
        pytest.skip(f"no WordNet 3.0 data found: {str(exc).splitlines()[0]}")


def no_installed_wordnet(mp):
    """Hide resources/nltk_data and nltk's search path from find_wordnet (``mp``: a MonkeyPatch):
    only the shipped copy is left."""
    from embtree.hierarchy import wordnet

    mp.setattr(wordnet, "_repo_nltk_data", lambda: [])
    mp.setattr(wordnet, "_nltk_wordnet", lambda: None)


def heads_metrics():
    """Hand-made per-run heads metrics: three methods x three granularities of one run."""
    rows = []
    for m, acc, ece in (("kmeans", 0.80, np.nan), ("temi", 0.60, 0.2), ("scanv2", 0.82, 0.05)):
        for g, shift in (("classes", 0.0), ("depth1", 0.1), ("depth2", 0.05)):
            rows.append({"dataset": "d", "encoder": "e", "method": m, "granularity": g, "acc": acc + shift,
                         "nmi": 0.5, "ari": 0.4, "top5_acc": 0.9, "msp_mean": 0.7, "ece": ece, "n_targets": 3})
    return pd.DataFrame(rows)
