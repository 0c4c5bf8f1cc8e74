"""The benchmark scripts still run (at toy sizes): they print ratios, nothing is asserted on time."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        ("bench_caec.py", ["--n", "300", "--dim", "8", "--classes", "5", "--ref-classes", "2"], "ratio"),
        ("bench_l2h.py", ["--sizes", "400x6"], "identical merges: True"),
        ("bench_heads.py", ["--batch", "16", "--heads", "2", "--dim", "4", "--reps", "1", "--large", "300x8x5",
                            "--large-iters", "1"], "ratio vs loop"),
        ("bench_trees.py", ["--depth", "2", "--branching", "3", "--ref-branching", "3"], "identical rf/di: True"),
        ("bench_flat.py", ["-n", "200", "-d", "32", "-k", "3", "--skip", "hdbscan", "umap"], "kmeans"),
        ("bench_merge_expand.py", ["-n", "300", "-d", "8", "-k", "3", "--n-regions", "15"], "ratio wall / budget"),
    ],
)
def test_benchmark_runs_at_toy_size(script, args, expect):
    res = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert expect in res.stdout
