"""The workflow end to end: a dry run of the default config, a real run of the embedding stage.

Each Snakemake process spends seconds importing (scikit-learn at parse time, torch in the
jobs) on one core: the module fixture ``runs`` starts every test's process at once, side by
side (conftest.run_parallel), and each test then checks its own.
"""

import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, run_parallel, selected
from embtree.data.store import load_embeddings

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _copy_workflow(dest):
    for name in ("workflow", "config", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    for sub in ("examples", "hierarchies"):
        shutil.copytree(ROOT / "resources" / sub, dest / "resources" / sub)
    return dest


def _cmd(workdir, *args, timeout=300, env=None):
    """subprocess.run keywords of one Snakemake run in ``workdir``."""
    cmd = [SNAKEMAKE, "-s", str(workdir / "workflow" / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]
    return {"args": cmd, "timeout": timeout, "cwd": workdir, "env": env}


def _snakemake(workdir, *args, timeout=300, env=None):
    return subprocess.run(capture_output=True, text=True, **_cmd(workdir, *args, timeout=timeout, env=env))


def _edit_config(work, edit):
    cfg = yaml.safe_load((work / "config/config.yaml").read_text())
    edit(cfg)
    (work / "config/config.yaml").write_text(yaml.safe_dump(cfg))


TINY = {
    "cache_dir": "cache",
    "datasets": {
        "digits": {"type": "digits", "encoders": ["tiny-cnn"], "max_per_class": 4},
        "feats": {"type": "features", "path": "feats.npz", "encoder_name": "given"},
        "planted": {"type": "planted-tree", "encoder_name": "planted", "depth": 2, "branching": 2,
                    "dim": 4, "samples_per_class": 5},
    },
    "encoders": {
        "tiny-cnn": {"type": "timm", "model": "test_resnet", "pretrained": False, "image_size": 32,
                     "batch_size": 16, "num_workers": 1},
    },
    "heads": {"knn": 5},  # the planted set has 20 samples
}  # fmt: skip
# One job per rule of the embedding stage (each job pays a torch import, so the list is short),
# and the heads' kNN job, whose params a later process must find unchanged.
TINY_TARGETS = ["results/digits/tiny-cnn/embeddings.npz", "results/feats/given/embeddings.npz",
                "results/planted/reference.nwk"]  # fmt: skip
KNN_TARGET = "results/planted/planted/heads/knn.npy"

HEADS_EDITS = [
    (lambda c: c["heads"]["overrides"]["planted-tree"].update(gamma=1), "heads.overrides.planted-tree"),
    (lambda c: c["heads"]["overrides"]["planted-tree"].update(lr=-1), "heads.overrides.planted-tree.lr"),
    (lambda c: c["heads"].update(coarse_depths=[9]), "heads.coarse_depths"),
    (lambda c: c["heads"].update(seeds=[0, 1, 0]), "['heads']['seeds']: [0, 1, 0] repeats 0"),
    (lambda c: c["heads"].update(n_clusters=["1x", "0x"]), "config error at 'heads.n_clusters': n_clusters='0x'"),
]


def _bad_encoder(cfg):
    cfg["encoders"]["pixels"]["type"] = "vgg"


def _tiny_checkout(work):
    """A second checkout with an edited package and the tiny config: its jobs must run that edit,
    not the embtree the venv's editable install points at (common.smk puts <checkout>/src first)."""
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    runtime = work / "src" / "embtree" / "runtime.py"
    runtime.write_text(runtime.read_text().replace(
        '    return logging.getLogger("embtree")',
        '    logging.getLogger("embtree").info("second-clone marker")\n    return logging.getLogger("embtree")'))
    rng = np.random.default_rng(0)
    np.savez(work / "feats.npz", features=rng.normal(size=(12, 3)), labels=np.arange(12) % 3,
             class_names=np.array(["cat", "dog", "ship"]))  # fmt: skip
    (work / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    return work


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """``{name: (workdir, CompletedProcess)}``: the Snakemake runs of the selected tests, run side by side."""
    wanted = selected(request, "test_default_config_dry_run", "test_flat_skip_leaves_pairs_out_and_names_a_bad_entry",
                      "test_bad_config_stops_before_any_job", "test_bad_heads_config_stops_before_any_job",
                      "test_embedding_stage_runs_on_a_tiny_config", "test_jobs_import_the_checkouts_own_embtree",
                      "test_rerun_in_a_new_process_keeps_finished_heads_outputs",
                      "test_heads_train_once_per_seed_and_share_the_knn",
                      "test_hierarchy_variants_add_a_relabelling_and_a_probe_job_per_run",
                      "test_l2h_builds_one_tree_per_seed_of_the_sources_that_train",
                      "test_merge_expand_runs_once_per_seed", "test_heads_sweeps_run_one_variant_per_value")  # fmt: skip
    plan = {}  # name -> (workdir, Snakemake arguments, environment)

    def workdir(name, edit=None):
        work = _copy_workflow(tmp_path_factory.mktemp(name))
        if edit:
            _edit_config(work, edit)
        return work

    tiny_users = {"test_embedding_stage_runs_on_a_tiny_config", "test_jobs_import_the_checkouts_own_embtree",
                  "test_rerun_in_a_new_process_keeps_finished_heads_outputs"}  # fmt: skip
    if wanted & tiny_users:  # first: the longest run
        work = _tiny_checkout(workdir("tiny"))
        plan["tiny"] = (work, [*TINY_TARGETS, KNN_TARGET, "--configfile", "tiny.yaml"],
                        {**os.environ, "PYTHONHASHSEED": "1"})  # fmt: skip
    # The seeds tests compare their job counts with the default config's.
    if wanted & {"test_default_config_dry_run", "test_flat_skip_leaves_pairs_out_and_names_a_bad_entry",
                 "test_heads_train_once_per_seed_and_share_the_knn",
                 "test_hierarchy_variants_add_a_relabelling_and_a_probe_job_per_run",
                 "test_l2h_builds_one_tree_per_seed_of_the_sources_that_train", "test_merge_expand_runs_once_per_seed",
                 "test_heads_sweeps_run_one_variant_per_value"}:
        plan["default"] = (workdir("default"), ["-n"], None)
    if "test_flat_skip_leaves_pairs_out_and_names_a_bad_entry" in wanted:
        plan["flat_skip"] = (workdir("flat_skip", lambda c: c.setdefault("flat", {}).update(skip=["none/hdbscam"])),
                             ["-n"], None)  # fmt: skip
    if "test_heads_train_once_per_seed_and_share_the_knn" in wanted:
        plan["heads_seeds"] = (workdir("heads_seeds", lambda c: c["heads"].update(seeds=[0, 2])), ["-n"], None)
    if "test_hierarchy_variants_add_a_relabelling_and_a_probe_job_per_run" in wanted:
        plan["heads_hzr"] = (workdir("heads_hzr", lambda c: c["heads"].update(hierarchy_variants=True)), ["-n"], None)
    if "test_l2h_builds_one_tree_per_seed_of_the_sources_that_train" in wanted:
        plan["l2h_seeds"] = (workdir("l2h_seeds", lambda c: (c["l2h"].update(seeds=[0, 2]),
                                                             c["heads"].update(seeds=[2]))), ["-n"], None)
    if "test_heads_sweeps_run_one_variant_per_value" in wanted:
        plan["heads_sweeps"] = (workdir("heads_sweeps", lambda c: c["heads"].update(knn=[50, 10], n_clusters=["1x", "2x"])),
                                ["-n"], None)  # fmt: skip
    if "test_merge_expand_runs_once_per_seed" in wanted:
        plan["me_seeds"] = (workdir("me_seeds", lambda c: c["merge_expand"].update(seeds=[0, 2])), ["-n"], None)
    if "test_bad_config_stops_before_any_job" in wanted:
        plan["bad_encoder"] = (workdir("bad_encoder", _bad_encoder), ["-n"], None)
    if "test_bad_heads_config_stops_before_any_job" in wanted:
        for i, (edit, _) in enumerate(HEADS_EDITS):
            plan[f"heads{i}"] = (workdir(f"heads{i}", edit), ["-n"], None)
    procs = run_parallel({name: _cmd(work, *args, env=env, timeout=600) for name, (work, args, env) in plan.items()})
    return {name: (plan[name][0], proc) for name, proc in procs.items()}


def _dry_run_output(runs, name):
    """stdout + stderr of the shared dry run ``name``, which must have succeeded."""
    proc = runs[name][1]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_default_config_dry_run(runs):
    out = _dry_run_output(runs, "default")
    for target in ("results/digits/resnet18-random/embeddings.npz", "results/planted-tree/planted/embeddings.npz",
                   "results/cifar10-resnet20/resnet20/embeddings.npz"):  # fmt: skip
        assert target in out


def _job_counts(out):
    """{rule: jobs} of a dry run's "Job stats" table."""
    stats = out[out.index("Job stats"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_heads_train_once_per_seed_and_share_the_knn(runs):
    # The tour (config/config.yaml) runs one seed; heads.seeds [0, 2] doubles every training and
    # k-means job (2 data sets x 2 heads x {classes, depth1} x 2 seeds), not the kNN or the probe.
    out = _dry_run_output(runs, "heads_seeds")
    one, two = _job_counts(_dry_run_output(runs, "default")), _job_counts(out)
    for rule, per_seed in (("heads_train", 4), ("heads_train_coarse", 4), ("heads_kmeans", 2),
                           ("heads_kmeans_coarse", 2)):  # fmt: skip
        assert (one[rule], two[rule]) == (per_seed, 2 * per_seed), rule
    assert one["heads_knn"] == two["heads_knn"] == 2 and one["heads_probe"] == two["heads_probe"] == 2
    for path in ("heads/temi/seed0/metrics.tsv", "heads/scanv2/seed2/depth1/heads.tsv",
                 "heads/kmeans/seed2/metrics.tsv", "heads/knn.npy"):  # fmt: skip
        assert f"results/cifar10-resnet20/resnet20/{path}" in out, path
    assert "heads/temi/seed1/" not in out and "heads/temi/metrics.tsv" not in out
    # L2H's temi tree of seed 0 (the tour's l2h.seeds) reads the heads run of seed 0.
    assert re.search(r"input: \S+/embeddings.npz, results/cifar10-resnet20/resnet20/heads/temi/seed0/labels.npz", out)


def test_hierarchy_variants_add_a_relabelling_and_a_probe_job_per_run(runs):
    # heads.hierarchy_variants (paper 002 table 2): one heads_hzr and one heads_probe_variants job per
    # heads run (2 in the tour); the training jobs are the same, those of the classes read the labels.
    out = _dry_run_output(runs, "heads_hzr")
    one, hz = _job_counts(_dry_run_output(runs, "default")), _job_counts(out)
    assert hz["heads_hzr"] == hz["heads_probe_variants"] == 2 and "heads_hzr" not in one
    for rule in ("heads_train", "heads_train_coarse", "heads_kmeans", "heads_kmeans_coarse", "heads_probe"):
        assert one[rule] == hz[rule], rule
    train = re.findall(r"rule heads_(?:train|kmeans):\s+input: ([^\n]+)", out)
    coarse = re.findall(r"rule heads_(?:train|kmeans)_coarse:\s+input: ([^\n]+)", out)
    assert len(train) == 6 and all("heads/hzr/labels.npz" in j for j in train)
    assert len(coarse) == 6 and not any("heads/hzr/labels.npz" in j for j in coarse)
    assert "results/report/heads_benchmarks.csv" in out and "heads_hzr_moves.png" in out
    assert "results/report/heads_benchmarks.csv" not in _dry_run_output(runs, "default")


def test_heads_sweeps_run_one_variant_per_value(runs):
    # heads.knn [50, 10] and heads.n_clusters ["1x", "2x"] on the tour: the first values are the main
    # runs (same paths, same jobs as the tour); knn10 trains TEMI / SCANv2 on the classes and at
    # depth 1 of cifar10-resnet20 (planted-tree overrides knn with a scalar: no knn sweep there),
    # clusters2x trains TEMI / SCANv2 and k-means on the classes of both data sets.
    out = _dry_run_output(runs, "heads_sweeps")
    one, swept = _job_counts(_dry_run_output(runs, "default")), _job_counts(out)
    for rule in ("heads_knn", "heads_train", "heads_train_coarse", "heads_kmeans", "heads_kmeans_coarse",
                 "heads_probe", "heads_separability"):  # fmt: skip
        assert swept[rule] == one[rule], rule
    assert (swept["heads_train_sweep"], swept["heads_train_sweep_coarse"], swept["heads_kmeans_sweep"]) == (6, 2, 2)
    run = "results/cifar10-resnet20/resnet20/heads"
    for path in ("temi/knn10/seed0/metrics.tsv", "scanv2/knn10/seed0/depth1/metrics.tsv",
                 "kmeans/clusters2x/seed0/metrics.tsv", "temi/clusters2x/seed0/labels.npz"):  # fmt: skip
        assert f"{run}/{path}" in out, path
    assert "kmeans/knn10" not in out and "clusters1x" not in out and "knn50" not in out
    assert "planted/heads/temi/clusters2x/seed0/metrics.tsv" in out and "planted/heads/temi/knn10" not in out
    for name in ("heads_knn_sweep", "heads_overclustering"):
        assert f"results/report/{name}.csv" in out and f"results/report/figures/{name}.png" in out


def test_l2h_builds_one_tree_per_seed_of_the_sources_that_train(runs):
    # The tour runs one L2H seed. l2h.seeds [0, 2] with heads.seeds [2]: kmeans builds a tree per
    # seed (4 runs: 4 -> 8 jobs); temi / scanv2 (2 runs each) one per seed that heads.seeds also
    # trains, here 2, on that seed's heads run (seed 0 has none: no tree); classifier and
    # agglomerative (5 in all) are deterministic: one tree each, no seed in the path.
    out = _dry_run_output(runs, "l2h_seeds")
    default = _dry_run_output(runs, "default")
    one, two = _job_counts(default), _job_counts(out)
    assert (one["l2h"], one["l2h_seeded"]) == (5, 4 + 4)
    assert (two["l2h"], two["l2h_seeded"]) == (5, 8 + 4) and two["total"] == one["total"] + 4
    base = "results/cifar10-resnet20/resnet20/l2h"
    for path in ("kmeans/seed0/metrics.tsv", "kmeans/seed2/tree.nwk", "temi/seed2/metrics.tsv",
                 "scanv2/seed2/leaves.tsv", "classifier/metrics.tsv", "agglomerative/linkage.npy"):  # fmt: skip
        assert f"{base}/{path}" in out, path
    assert "logs/cifar10-resnet20/resnet20/l2h/kmeans/seed2.log" in out
    for absent in ("temi/seed0/", "scanv2/seed0/", "kmeans/seed1/", "kmeans/metrics.tsv", "agglomerative/seed",
                   "classifier/seed"):  # fmt: skip
        assert f"{base}/{absent}" not in out, absent
    assert f"{base}/temi/seed0/metrics.tsv" in default and f"{base}/agglomerative/metrics.tsv" in default
    # L2H seed s of a head reads the heads run of seed s.
    assert re.search(r"input: \S+/embeddings.npz, results/cifar10-resnet20/resnet20/heads/temi/seed2/labels.npz", out)
    # The report's dendrograms draw the first seed's tree of each source.
    tables = out[out.index("rule report_tables:"):].splitlines()[1]  # its input: line
    assert tables.lstrip().startswith("input:")
    assert f"{base}/kmeans/seed0/tree.nwk" in tables and f"{base}/kmeans/seed2/tree.nwk" not in tables
    assert f"{base}/kmeans/seed2/metrics.tsv" in tables  # the tables read every seed


def test_merge_expand_runs_once_per_seed(runs):
    # The tour runs one seed; merge_expand.seeds [0, 2] gives two jobs per run (4 runs), each in
    # merge_expand/seed{seed}/, and the report figures read the first seed's files only.
    out = _dry_run_output(runs, "me_seeds")
    default = _dry_run_output(runs, "default")
    one, two = _job_counts(default), _job_counts(out)
    assert (one["merge_expand"], two["merge_expand"]) == (4, 8)
    assert one["total"] + 4 == two["total"]  # nothing else changes
    base = "results/cifar10-resnet20/resnet20/merge_expand"
    for seed in (0, 2):
        for name in ("labels.npz", "scores.npz", "metrics.tsv", "neighbours.tsv", "heatmaps.png", "neighbours.png"):
            assert f"{base}/seed{seed}/{name}" in out, (seed, name)
        assert f"logs/cifar10-resnet20/resnet20/merge_expand/seed{seed}.log" in out
    assert f"{base}/seed1/" not in out and f"{base}/metrics.tsv" not in out
    assert f"{base}/seed0/metrics.tsv" in default and f"{base}/seed2/" not in default
    figures = out[out.index("rule report_merge_expand_figures:"):].splitlines()[1]  # its input: line
    assert figures.lstrip().startswith("input:")
    assert f"{base}/seed0/scores.npz" in figures and f"{base}/seed2/" not in figures


def test_bad_config_stops_before_any_job(runs):
    work, proc = runs["bad_encoder"]
    assert proc.returncode != 0
    assert "['encoders']['pixels']['type']" in proc.stdout + proc.stderr
    assert not (work / "results").exists()


def test_flat_skip_leaves_pairs_out_and_names_a_bad_entry(runs):
    _, proc = runs["default"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "flat/pca/hdbscan/metrics.tsv" in out and "flat/none/hdbscan/metrics.tsv" not in out  # default skip
    work, proc = runs["flat_skip"]  # the default config with flat.skip: [none/hdbscam]
    assert yaml.safe_load((work / "config/config.yaml").read_text())["flat"]["skip"] == ["none/hdbscam"]
    assert proc.returncode != 0 and "flat.skip" in proc.stdout + proc.stderr


def test_embedding_stage_runs_on_a_tiny_config(runs):
    work, proc = runs["tiny"]
    targets = TINY_TARGETS
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cnn = load_embeddings(work / targets[0])
    assert cnn.features.shape == (40, 96) and cnn.logits.shape == (40, 1000)
    meta = yaml.safe_load((work / "results/digits/tiny-cnn/embeddings.json").read_text())
    assert meta["encoder"]["preprocessing"]["image_size"] == 32 and meta["pretrained"] is False
    assert "planted_tree" not in str(meta) and not {"device", "seconds", "timestamp"} & set(str(meta).split("'"))
    prov = yaml.safe_load((work / "logs/digits/tiny-cnn/embed.provenance.json").read_text())
    assert prov["device"] == "cpu" and prov["images_per_second"] > 0 and prov["timestamp"]
    assert not (work / "cache/embed-partial/digits/tiny-cnn").exists()  # resume store removed on success
    feats = load_embeddings(work / targets[1])
    fmeta = yaml.safe_load((work / "results/feats/given/embeddings.json").read_text())
    assert "depth" not in fmeta["dataset_spec"] and fmeta["embtree"]  # planted keys for planted data only
    assert list(feats.wnids) == ["n02121620", "n02084071", "n04194289"]  # cat, dog, ship: built-in table
    assert (work / targets[2]).read_text().strip() == "((c0_0,c0_1),(c1_0,c1_1));"
    assert (work / "logs/benchmarks/digits/tiny-cnn/embed.tsv").exists()
    assert not (work / "benchmarks").exists()  # benchmark files of rules: under logs/, not beside the scripts
    assert "images/s" in (work / "logs/digits/tiny-cnn/embed.log").read_text()


def test_jobs_import_the_checkouts_own_embtree(runs):
    # The tiny run's checkout has its own src/ with an edited embtree.runtime (_tiny_checkout).
    work, proc = runs["tiny"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "second-clone marker" in (work / "logs/planted/reference_tree.log").read_text()


@pytest.mark.slow
def test_lint_reports_nothing_for_the_embedding_rules(tmp_path):
    work = _copy_workflow(tmp_path)
    proc = _snakemake(work, "--lint")
    rules = ("embed", "import_features", "reference_tree")
    flagged = [line for line in proc.stdout.splitlines() + proc.stderr.splitlines()
               if any(f"rule {r} " in line for r in rules)]  # fmt: skip
    assert not flagged, "\n".join(flagged)


@pytest.mark.parametrize("case", range(len(HEADS_EDITS)), ids=[named for _, named in HEADS_EDITS])
def test_bad_heads_config_stops_before_any_job(runs, case):
    work, proc = runs[f"heads{case}"]
    named = HEADS_EDITS[case][1]
    assert proc.returncode != 0
    assert named in proc.stdout + proc.stderr
    assert not (work / "results").exists()


HEADS_TINY = {
    "datasets": {"planted": {"type": "planted-tree", "encoder_name": "planted", "depth": 2, "branching": 2,
                             "dim": 8, "samples_per_class": 30}},
    "caec": {"metrics": ["euclidean"]},
    "trees": {"metrics": ["euclidean"], "points": ["G"]},
    "flat": {"reducers": ["none"], "clusterers": ["kmeans"]},
    "heads": {"methods": ["scanv2"], "coarse_depths": [1], "num_heads": 2, "epochs": 3, "warmup_epochs": 1,
              "knn": 5, "hidden_dim": 16, "bottleneck_dim": 8, "batch_size": 32, "seeds": [0, 1]},
}  # fmt: skip


@pytest.mark.slow
def test_heads_stage_reruns_byte_identical(tmp_path):
    work = _copy_workflow(tmp_path)
    (work / "tiny.yaml").write_text(yaml.safe_dump(HEADS_TINY))
    out = "results/planted/planted/heads"
    proc = _snakemake(work, "heads_all", "--configfile", "tiny.yaml", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(p for p in (work / out).rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {"metrics.tsv", "labels.npz", "loss.tsv", "heads.tsv", "reliability.png", "msp.png"} <= names
    assert {p.relative_to(work / out).parts[:2] for p in files if p.name == "metrics.tsv"} == {
        (m, f"seed{s}") for m in ("scanv2", "kmeans") for s in (0, 1)}
    first = {p: p.read_bytes() for p in files}
    shutil.rmtree(work / out)
    proc = _snakemake(work, "heads_all", "--configfile", "tiny.yaml", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    changed = [str(p) for p, b in first.items() if p.read_bytes() != b]
    assert not changed, changed


def test_rerun_in_a_new_process_keeps_finished_heads_outputs(runs):
    # Snakemake compares params by repr: params built from a set (whose order follows the
    # process's hash seed) made every new process rerun finished jobs ("params changed").
    # The tiny run made the heads' kNN (all heads training keys, schema defaults) under hash seed 1.
    work, first = runs["tiny"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (work / KNN_TARGET).is_file()
    again = _snakemake(work, "-n", KNN_TARGET, "--configfile", "tiny.yaml",
                       env={**os.environ, "PYTHONHASHSEED": "2"})  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr, (again.stdout + again.stderr)[-3000:]


# --- the rule files' `# Uses:` headers ---------------------------------------------------
# Snakemake's include: runs every file in one shared namespace (no import statement), and
# runs a file included twice twice; so workflow/Snakefile includes each helper file once,
# before the rule files, and every file names in its `# Uses:` header what it takes from
# which other file. These tests keep those headers true.

RULES = ROOT / "workflow" / "rules"
SNAKEFILE = ROOT / "workflow" / "Snakefile"


def _smk_files():
    return sorted(RULES.glob("*.smk")) + [SNAKEFILE]


def _top_level_names(text):
    """Names a file binds at column 0: functions, assignments, imports (not loop variables)."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"^def (\w+)|^(\w+)\s*=(?!=)", line)
        if m:
            names.add(m.group(1) or m.group(2))
        m = re.match(r"^(?:from \S+ )?import (.+)$", line)
        if m:
            for part in m.group(1).split("#")[0].split(","):
                names.add(part.split(" as ")[-1].strip().split(".")[0])
    return names


def _names_read(text):
    """Names a file reads: NAME tokens (not attributes) and the names inside f-string fields."""
    names, prev = set(), None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and not (prev and prev.string == "."):
            names.add(tok.string)
        elif tok.type == tokenize.STRING and re.match(r"^[rR]?[fF]", tok.string):
            for field in re.findall(r"(?<!{){([^{}]+)}", tok.string):
                names.update(re.findall(r"(?<![.\w])([A-Za-z_]\w*)", field))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            prev = tok
    return names


def _uses_header(text):
    """``{file: [names]}`` of a file's `# Uses:` header (one `#   <file>: a, b` line per file,
    continued on deeper-indented comment lines)."""
    uses, current, inside = {}, None, False
    for line in text.splitlines():
        if re.match(r"^# Uses\b", line):
            inside = True
            continue
        if not inside:
            continue
        m = re.match(r"^#\s+(\S+\.smk):\s*(.*)$", line)
        if m:
            current = m.group(1)
            uses[current] = [n.strip() for n in m.group(2).split(",") if n.strip()]
        elif current and re.match(r"^#\s{4,}[\w, ]+$", line):
            uses[current] += [n.strip() for n in line[1:].split(",") if n.strip()]
        else:
            break
    return uses


def _includes(text):
    return re.findall(r'^include:\s*"([^"]+)"', text, re.M)


def test_every_rule_file_declares_what_it_uses_from_the_others():
    texts = {f.name: f.read_text() for f in _smk_files()}
    defined = {name: _top_level_names(text) for name, text in texts.items()}
    wrong = []
    for name, text in texts.items():
        declared = _uses_header(text)
        needed = {}
        for used in _names_read(text) - defined[name]:
            sources = [other for other in texts if other != name and used in defined[other]]
            if sources:
                needed[used] = sources
        flat = {n: src for src, names in declared.items() for n in names}
        for used, sources in sorted(needed.items()):
            if used not in flat:
                wrong.append(f"{name}: uses {used} ({' or '.join(sources)}) without declaring it")
            elif flat[used] not in sources:
                wrong.append(f"{name}: declares {used} from {flat[used]}, which does not define it")
        for n, src in sorted(flat.items()):
            if n not in needed:
                wrong.append(f"{name}: declares {n} from {src} but does not use it")
            if n.startswith("_"):
                wrong.append(f"{name}: uses the private name {n} of {src}")
    assert not wrong, "\n".join(wrong)


def test_helper_files_are_included_once_before_the_files_that_use_them():
    order = [Path(p).name for p in _includes(SNAKEFILE.read_text())]
    assert len(order) == len(set(order)) == len(list(RULES.glob("*.smk"))), order
    for f in RULES.glob("*.smk"):
        text = f.read_text()
        assert not _includes(text), f"{f.name} includes a file: only workflow/Snakefile includes"
        for src in _uses_header(text):
            assert order.index(src) < order.index(f.name), f"{f.name} uses {src}, included after it"
        if "_common" in f.name or f.name in ("common.smk", "preflight.smk"):
            assert not re.search(r"^(rule|checkpoint|use rule) ", text, re.M), f"{f.name}: helpers only"
            first_rules = min(order.index(g.name) for g in RULES.glob("*.smk")
                              if re.search(r"^(rule|use rule) ", g.read_text(), re.M))
            assert order.index(f.name) < first_rules, f"{f.name} is included after a rule file"


def _rule_directives():
    """``{rule: {directive: first line}}`` of the rule files' ``group`` and ``threads``, a ``use rule``
    inheriting what it does not set (one level, as the workflow uses it)."""
    own, base = {}, {}
    for f in RULES.glob("*.smk"):
        lines = f.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(?:rule (\w+)|use rule (\w+) as (\w+) with):", line)
            if not m:
                continue
            name = m.group(1) or m.group(3)
            base[name] = m.group(2)
            own[name] = {}
            for body in lines[i + 1:]:
                if body.strip() and not body[0].isspace():
                    break  # the rule's body ends at the next column-0 line
                d = re.match(r"^    (group|threads):\s*(.*)$", body)
                if d:
                    own[name][d.group(1)] = d.group(2)
    return {name: {**own.get(base[name], {}), **own[name]} if base[name] else own[name] for name in own}


def test_slurm_profile_gives_grouped_one_thread_rules_the_group_jobs_cpus():
    # A group job runs its jobs one at a time (profiles/slurm: plugin issue 469), so a grouped rule
    # that takes one thread below ONE_THREAD_BELOW_MB on a workstation must get the group's CPUs there.
    rules = _rule_directives()
    grouped_one_thread = {name for name, d in rules.items()
                          if "group" in d and "ONE_THREAD_BELOW_MB" in d.get("threads", "")}
    assert {"relation_trees", "compare_trees", "l2h_seeded"} <= grouped_one_thread  # the parser finds them
    assert "group" not in rules["heads_knn"] and "ONE_THREAD_BELOW_MB" in rules["heads_knn"]["threads"]
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert set(profile["set-threads"]) == grouped_one_thread
    assert set(profile["set-threads"].values()) == {profile["cores"]}
