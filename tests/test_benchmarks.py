"""The benchmark scripts still run (at toy sizes): they print ratios, nothing is asserted on time.

Each script is a new process that spends most of its time importing (scikit-learn, torch): the
module fixture starts the selected ones side by side (conftest.run_parallel).
"""

import os
import sys
import time
from pathlib import Path

import pytest

from conftest import run_parallel

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

BENCHES = [
        ("bench_caec.py", ["--n", "300", "--dim", "8", "--classes", "5", "--ref-classes", "2"], "ratio"),
        ("bench_l2h.py", ["--sizes", "400x6"], "identical merges: True"),
        ("bench_heads.py", ["--batch", "16", "--heads", "2", "--dim", "4", "--reps", "1", "--large", "300x8x5",
                            "--large-iters", "1"], "ratio vs loop"),
        ("bench_trees.py", ["--depth", "2", "--branching", "3", "--ref-branching", "3"], "identical rf/di: True"),
        ("bench_null.py", ["--sizes", "10", "--n-trees", "20"], "identical to compare_trees: True"),
        ("bench_support.py", ["--depth", "2", "--branching", "3", "--per-class", "8", "--dim", "6", "--n-boot",
                              "4", "--timed-boot", "2"], "agglomerative"),
        # merge-expand trains its classifier for ~10 s even at toy size: bench_merge_expand.py runs it
        ("bench_flat.py", ["-n", "200", "-d", "32", "-k", "3", "--skip", "hdbscan", "umap", "merge-expand"],
         "kmeans"),
        ("study_caec_step.py", ["--datasets", "blobs200", "--metrics", "euclidean", "--rules", "n25", "fd"],
         "size_ratio"),
        ("bench_merge_expand.py", ["-n", "300", "-d", "8", "-k", "3", "--n-regions", "15"], "ratio wall / budget"),
        ("bench_embed.py", ["--model", "test_resnet", "--per-class", "2", "--sizes", "32", "--batch-size", "8",
                            "--workers", "0"], "forward %"),
        ("bench_knn.py", ["--cifar-rows", "1500", "--sizes", "2000", "4000", "--dim", "16", "--exact-rows", "200",
                          "--kmeans", "2000x8x4", "--threads", "1"], "30-minute target met"),
        ("bench_scale.py", ["--n", "600", "--dim", "8", "--classes", "6", "--only", "caec-euclidean", "l2h",
                            "--workdir", "{tmp}"], "l2h"),
        ("bench_10k.py", ["--depth", "2", "--branching", "5", "--dim", "16", "--samples-per-class", "20",
                          "--target-per-class", "20", "--workdir", "{tmp}", "--threads", "1", "--l2h-rows", "300",
                          "--kmeans-rows", "300", "--knn-rows", "400", "--heads-iters", "1", "--heads-measured", "2",
                          "--batch", "32", "--epochs", "2"], "heads-temi      heads_train"),
]


@pytest.fixture(scope="module")
def bench_runs(request, tmp_path_factory):
    """``{script: CompletedProcess}`` of the selected benchmark cases, run side by side."""
    chosen = {item.callspec.params["script"] for item in request.session.items
              if item.path == request.node.path and item.originalname == "test_benchmark_runs_at_toy_size"}
    commands = {}
    for script, args, _ in BENCHES:
        if script in chosen:
            tmp = tmp_path_factory.mktemp(Path(script).stem)
            args = [a.replace("{tmp}", str(tmp)) for a in args]
            commands[script] = {"args": [sys.executable, str(BENCH / script), *args], "timeout": 600}
    return run_parallel(commands)


@pytest.mark.parametrize(("script", "args", "expect"), BENCHES)
def test_benchmark_runs_at_toy_size(bench_runs, script, args, expect):
    res = bench_runs[script]
    assert res.returncode == 0, res.stderr[-2000:]
    assert expect in res.stdout, res.stdout[-2000:]


def test_bench_10k_writes_planted_tree_chunk_by_chunk(tmp_path):
    """bench_10k.build draws the samples in chunks into a memory map: the bytes of planted_tree's one draw."""
    sys.path.insert(0, str(BENCH))
    import numpy as np

    import bench_10k
    from embtree.data.planted import planted_tree

    kw = {"depth": 2, "branching": 3, "dim": 5, "samples_per_class": 7, "noise": 0.5, "seed": 4}
    bench_10k.build(tmp_path, chunk=4, **kw)  # 63 rows in chunks of 4: the last one partial
    X, y, names, newick = planted_tree(**kw)
    got = np.load(tmp_path / "features.npy")
    assert got.dtype == np.float32 and got.tobytes() == X.tobytes()
    assert np.array_equal(np.load(tmp_path / "labels.npy"), y)
    assert np.array_equal(np.load(tmp_path / "class_names.npy"), names)
    assert (tmp_path / "planted.nwk").read_text() == newick
    # the leaf means: the class means of noise-free samples are these
    assert np.allclose(np.load(tmp_path / "means.npy")[y], X, atol=4)
    assert bench_10k.stratified_rows(3, 7, 2).tolist() == [0, 1, 7, 8, 14, 15]


def test_bench_10k_anon_peak_counts_private_memory_not_a_maps_pages(tmp_path):
    sys.path.insert(0, str(BENCH))
    import numpy as np

    import bench_10k

    path = tmp_path / "big.npy"
    np.save(path, np.ones(200 * 2**20 // 8))  # 200 MiB on disk
    with bench_10k._AnonPeak(every=0.01) as mapped:
        float(np.load(path, mmap_mode="r").sum())  # every page of the map resident, none private
    with bench_10k._AnonPeak(every=0.01) as private:
        a = np.ones(200 * 2**20 // 8)  # 200 MiB written: private pages, freed before the block ends
        time.sleep(0.2)
        del a
    base = bench_10k.status_mb("RssAnon")
    assert mapped.peak_mb - base < 50 and private.peak_mb - base > 190, (base, mapped.peak_mb, private.peak_mb)


def test_bench_dag_reads_rules_and_peaks_from_benchmark_files(tmp_path, capsys):
    """bench_dag's summary: rule of each benchmark file from Snakemake's log, totals per rule."""
    sys.path.insert(0, str(BENCH))
    import bench_dag

    log = "rule flat_cluster:\n    benchmark: logs/benchmarks/d/e/flat/pca/kmeans/cluster.tsv\n" \
          "localrule caec_ttest:\n    benchmark: logs/benchmarks/d/e/caec/ttest.tsv\n"
    (tmp_path / "snakemake.log").write_text(log)
    for rel, s, rss in [("d/e/flat/pca/kmeans/cluster.tsv", 12.5, 900), ("d/e/caec/ttest.tsv", 1.0, 100)]:
        p = tmp_path / "logs" / "benchmarks" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"s\th:m:s\tmax_rss\n{s}\t0:00:12\t{rss}\n")
    jobs = bench_dag.summarise(tmp_path, tmp_path / "snakemake.log")
    assert dict(zip(jobs["rule"], jobs["s"])) == {"flat_cluster": 12.5, "caec_ttest": 1.0}
    assert "largest peak RSS 900 MB" in capsys.readouterr().out


def test_bench_dag_compare_lists_files_that_differ_or_exist_in_one_run_only(tmp_path, capsys):
    sys.path.insert(0, str(BENCH))
    import bench_dag

    files = {"a": {"d/x.npy": b"\x00\x01", "d/same.tsv": b"k\t1\n", "only_a.txt": b"1"},
             "b": {"d/x.npy": b"\x00\x02", "d/same.tsv": b"k\t1\n", "e/only_b.txt": b"1"}}
    for run, content in files.items():
        for rel, data in content.items():
            p = tmp_path / run / "results" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    n, differ = bench_dag.compare_results(tmp_path / "a", tmp_path / "b")
    assert n == 4
    assert differ == [("d/x.npy", "differs"), ("e/only_b.txt", f"only in {tmp_path / 'b'}"),
                      ("only_a.txt", f"only in {tmp_path / 'a'}")]
    assert "4 files, 3 not byte-identical" in capsys.readouterr().out


BARE_CUDA_MACHINE = ("torch", "torchvision", "timm", "scikit-learn", "scipy", "pandas", "numba", "matplotlib")


def _bare_site_packages(to):
    """A site-packages at ``to`` holding links to BARE_CUDA_MACHINE's installed distributions and to
    everything they require (installed metadata, markers evaluated here), nothing else."""
    import importlib.metadata as md
    import re
    import sysconfig

    from packaging.requirements import Requirement

    def norm(name):
        return re.sub(r"[-_.]+", "-", name).lower()

    seen, todo = set(), list(BARE_CUDA_MACHINE)
    while todo:
        name = norm(todo.pop())
        if name in seen:
            continue
        try:
            requires = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue
        seen.add(name)
        for r in map(Requirement, requires):
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    assert {"torch", "timm", "scikit-learn", "numpy", "pyyaml"} <= seen, seen  # the walk found the closure
    tops = {t for t, dists in md.packages_distributions().items() if any(norm(d) in seen for d in dists)}
    to.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        dist = norm(entry.name.split("-")[0]) if entry.name.endswith(".dist-info") else None
        if dist in seen or re.split(r"[.-]", entry.name)[0] in tops:  # packages, modules, vendored .libs
            (to / entry.name).symlink_to(entry)
    return tops


def test_gpu_check_runs_with_only_the_packages_of_a_bare_cuda_machine(tmp_path):
    # benchmarks/gpu_check.py must run where only torch, torchvision, timm, scikit-learn, scipy, pandas,
    # numba and matplotlib (and what they require) are installed: python -S (no site-packages) with a
    # site-packages of just those. No CUDA on this machine, so it runs its CPU half at toy size.
    import subprocess

    tops = _bare_site_packages(tmp_path / "site")
    assert "yaml" in tops and not {"snakemake", "faiss", "open_clip", "umap", "dendropy", "jsonschema"} & tops
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}:{BENCH.parent / 'src'}"}
    proc = subprocess.run([sys.executable, "-S", str(BENCH / "gpu_check.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no CUDA device" in proc.stdout and "all checks passed" in proc.stdout
    for line in ("embed on cpu", "exact kNN on cpu", "temi on cpu", "scanv2 on cpu"):
        assert line in proc.stdout
