"""Fixed seeds give byte-identical result files: a config run twice, every file under results/ compared.

Timings live in logs/ and benchmarks/ only; figures are written by embtree.io.savefig (fixed
SVG hash salt, no dates). The fast test runs the CAEC and flat jobs on a planted tree (5 jobs
twice; SVG determinism across processes is tests/test_io.py's); the slow one runs every
stage including the report.
"""

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

PLANTED = {"type": "planted-tree", "encoder_name": "planted", "depth": 2, "branching": 2, "dim": 8,
           "samples_per_class": 30, "seed": 0}  # fmt: skip


def _workdir(tmp_path, config):
    tmp_path.mkdir(exist_ok=True)
    for name in ("Snakefile", "workflow", "config", "resources", "profiles", "envs"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("cache", "__pycache__"))
        elif src.exists():
            shutil.copy(src, tmp_path / name)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def _run(wd, targets=(), timeout=1200):
    cmd = [SNAKEMAKE, *targets, "-s", str(wd / "Snakefile"), "--directory", str(wd), "--cores", "2",
           "--configfile", str(wd / "c.yaml")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=wd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _run_twice_and_compare(tmp_path, config, targets=()):
    wd = _workdir(tmp_path / "wd", config)
    _run(wd, targets)
    first = tmp_path / "first"
    shutil.copytree(wd / "results", first)
    for name in ("results", "logs", "benchmarks", ".snakemake"):
        shutil.rmtree(wd / name, ignore_errors=True)
    _run(wd, targets)
    a, b = _files(first), _files(wd / "results")
    assert a == b
    differ = [str(p) for p in a if not filecmp.cmp(first / p, wd / "results" / p, shallow=False)]
    assert not differ, f"{len(differ)} of {len(a)} result files differ between two runs: {differ[:20]}"
    return a


def test_rerun_is_byte_identical_fast(tmp_path):
    config = {"datasets": {"planted": PLANTED}, "caec": {"metrics": ["euclidean"]},
              "flat": {"reducers": ["pca"], "clusterers": ["kmeans"], "seeds": [0]}}  # fmt: skip
    base = "results/planted/planted"
    targets = [f"{base}/caec/euclidean/growth.png", f"{base}/flat/pca/kmeans/metrics.tsv"]
    files = _run_twice_and_compare(tmp_path, config, targets)
    assert {Path(t).relative_to("results") for t in targets} <= set(files)
    assert any(p.suffix == ".npz" for p in files)


@pytest.mark.slow
def test_rerun_of_every_stage_and_the_report_is_byte_identical(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "wd").mkdir()
    centres = rng.normal(0, 3, size=(3, 6))
    y = np.repeat(np.arange(3), 20)
    np.savez(tmp_path / "wd" / "feats.npz", features=centres[y] + rng.normal(size=(60, 6)), labels=y,
             class_names=np.array(["cat", "dog", "ship"]), logits=rng.normal(size=(60, 3)))  # fmt: skip
    config = {
        "datasets": {"planted": PLANTED, "feats": {"type": "features", "path": "feats.npz", "encoder_name": "given"}},
        "caec": {"metrics": ["euclidean", "manhattan"]},
        "trees": {"metrics": ["euclidean"], "points": ["G", "P"]},
        "flat": {"reducers": ["none", "pca"], "clusterers": ["kmeans", "hdbscan", "affinity-propagation"],
                 "seeds": [0, 1]},
    }  # fmt: skip
    files = _run_twice_and_compare(tmp_path, config)
    assert any(p.suffix == ".svg" for p in files) and any(p.parts[0] == "report" for p in files)
