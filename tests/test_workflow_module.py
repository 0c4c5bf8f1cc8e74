"""The workflow used as a Snakemake module (snakemake-workflows catalog convention)."""

import sys
from pathlib import Path

import numpy as np
import yaml

from conftest import ROOT, run_parallel

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

OUTER = """\
configfile: "config.yaml"


module embtree:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from embtree as embtree_*
"""

CONFIG = {
    "datasets": {
        # 5 of CIFAR-10's classes in the user's own features file: the shipped tree, pruned
        "feats": {"type": "features", "path": "feats.npz", "encoder_name": "given", "reference": "cifar10"},
    },
    "caec": {"metrics": ["euclidean"]},
    "trees": {"metrics": ["euclidean"], "points": ["G"]},
    "l2h": {"sources": ["kmeans"]},
    "flat": {"reducers": ["none"], "clusterers": ["kmeans"], "seeds": [0]},
}


def _outer_workflow(tmp_path):
    # A user's project: their own Snakefile, config and data; nothing of embtree copied.
    tmp_path.mkdir()
    rng = np.random.default_rng(0)
    y = np.arange(60) % 5
    X = rng.normal(size=(60, 4)) + 4 * np.eye(5)[y][:, :4]
    np.savez(tmp_path / "feats.npz", features=X, labels=y,
             class_names=np.array(["airplane", "cat", "dog", "ship", "truck"]))  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "Snakefile").write_text(OUTER.format(snakefile=ROOT / "workflow" / "Snakefile"))
    return tmp_path


def _cmd(work, *args):
    cmd = [SNAKEMAKE, "-s", str(work / "Snakefile"), "-d", str(work), "--cores", "2", *args]
    return {"args": cmd, "timeout": 600, "cwd": work}


def test_module_dry_run_and_small_real_run(tmp_path):
    # The dry run and the real run in two copies of the user's project, side by side.
    dry, work = _outer_workflow(tmp_path / "dry"), _outer_workflow(tmp_path / "work")
    target = "results/feats/given/trees/before/euclidean.tsv"
    procs = run_parallel({"dry": _cmd(dry, "-n"), "real": _cmd(work, target)})
    proc = procs["dry"]
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # the module's `all` is the default target, under the prefixed name
    assert "embtree_all" in out and "embtree_import_features" in out and "embtree_report_tables" in out
    assert not (dry / "results").exists()
    proc = procs["real"]
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    # the shipped reference was found beside the module, not in the user's directory
    assert (work / "results/feats/reference.nwk").read_text().strip() == (
        "(((airplane,ship)craft.n.02,truck)vehicle.n.01,(cat,dog)carnivore.n.01)whole.n.02;"
    )
    table = (work / target).read_text().splitlines()
    assert table[0].split("\t")[:6] == ["dataset", "encoder", "cluster_metric", "tree_metric", "point", "rf"]
    assert not (work / "resources").exists()
    # the benchmark files of the rules go to logs/, beside the logs (never into results/)
    assert (work / "logs/benchmarks/feats/given/trees/before/compare_trees.tsv").is_file()
    assert not (work / "benchmarks").exists()
