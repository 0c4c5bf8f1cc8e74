"""results/config.effective.yaml records the last *complete* run: a failed run of another
config leaves it alone, so `snakemake --report` still describes results that exist."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _run(wd, *args):
    cmd = [SNAKEMAKE, "--cores", "1", "--directory", str(wd), "-s", str(wd / "workflow" / "Snakefile"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=wd)


@pytest.mark.slow  # three Snakemake processes, two of them running a job (~30 s)
def test_failed_run_of_another_config_keeps_the_last_complete_record(tmp_path):
    for name in ("workflow", "config", "resources", "profiles", "envs"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("cache", "__pycache__"))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    labels = np.repeat([0, 1], 20)
    np.savez(tmp_path / "good.npz", features=X, labels=labels, class_names=np.array(["a", "b"]))
    X[3, 1] = np.nan  # invalid at job time: only the import job reads the values
    np.savez(tmp_path / "bad.npz", features=X, labels=labels, class_names=np.array(["a", "b"]))
    for name in ("good", "bad"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(
            {"datasets": {name: {"type": "features", "path": f"{name}.npz", "encoder_name": "enc"}}}))
    record = tmp_path / "results" / "config.effective.yaml"

    ok = _run(tmp_path, "results/good/enc/embeddings.npz", "--configfile", "good.yaml")
    assert ok.returncode == 0, ok.stderr[-3000:]
    text = record.read_text()
    assert "good.npz" in text and "bad.npz" not in text

    failed = _run(tmp_path, "results/bad/enc/embeddings.npz", "--configfile", "bad.yaml")
    assert failed.returncode != 0
    assert record.read_text() == text  # the failed run recorded nothing

    dry = _run(tmp_path, "-n", "results/good/enc/embeddings.npz", "--configfile", "good.yaml")
    assert dry.returncode == 0 and record.read_text() == text
