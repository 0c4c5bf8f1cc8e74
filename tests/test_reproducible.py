"""Fixed seeds give byte-identical result files: a config run twice, every file under results/ compared.

Timings live in logs/ only (rules' benchmark files: logs/benchmarks/); figures are written by
embtree.io.savefig (fixed SVG hash salt, no dates). The fast test runs the CAEC and flat jobs on
a planted tree (5 jobs twice; SVG determinism across processes is tests/test_io.py's); the slow
one runs every stage including the report. The two runs are independent processes in two copies
of the working directory, run side by side (conftest.run_parallel): a result must not depend on
the directory it was made in either.
"""

import filecmp
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import run_parallel

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


def _cmd(wd, targets=(), timeout=1200):
    cmd = [SNAKEMAKE, *targets, "-s", str(wd / "Snakefile"), "--directory", str(wd), "--cores", "2",
           "--configfile", str(wd / "c.yaml")]  # fmt: skip
    return {"args": cmd, "timeout": timeout, "cwd": wd}


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _run_twice_and_compare(tmp_path, config, targets=()):
    wds = [_workdir(tmp_path / "wd", config), tmp_path / "wd2"]
    shutil.copytree(wds[0], wds[1])  # with any input file the test put there
    for name, proc in run_parallel({wd: _cmd(wd, targets) for wd in wds}).items():
        assert proc.returncode == 0, f"{name}: " + proc.stdout[-3000:] + proc.stderr[-3000:]
    first, second = (wd / "results" for wd in wds)
    a, b = _files(first), _files(second)
    assert a == b
    differ = [str(p) for p in a if not filecmp.cmp(first / p, second / p, shallow=False)]
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
