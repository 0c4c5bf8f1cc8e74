"""The whole default DAG on an ImageNet-val-sized planted data set: time and peak memory per rule.

Builds a config that is ``config/config.yaml`` with its data sets replaced by one
``planted-tree`` data set (default ``depth 3, branching 10, dim 768, samples_per_class 50``:
50,000 x 768, 1,000 classes, the shape of ImageNet-1K val through a ViT-B), runs the
workflow on it in a scratch directory and prints, from Snakemake's benchmark files (``logs/benchmarks/``),
per rule: jobs, total and maximum seconds and the maximum peak RSS (``max_rss``), then
the slowest jobs. Report only (nothing is asserted); on a shared machine read the shares
of the total, not the absolute times.

    .venv/bin/python benchmarks/bench_dag.py                        # full size (long)
    .venv/bin/python benchmarks/bench_dag.py --branching 3 --dim 16 --samples-per-class 10  # toy
    .venv/bin/python benchmarks/bench_dag.py --summarise /tmp/embtree-bench-dag  # re-read a run
    .venv/bin/python benchmarks/bench_dag.py --summarise /tmp/new --compare /tmp/old  # + files that differ

``--compare OTHER`` checks that a change left the results alone: it lists every file under
``results/`` whose bytes differ between this run and the run in ``OTHER`` (or that only one has).
Files that carry the run's own directory or timings (``config.effective.yaml``,
``report/run_config.*``, the L2H runtime table) are expected there.

Extra arguments after ``--`` go to Snakemake (e.g. ``-- --until flat_cluster``).
"""

from __future__ import annotations

import argparse
import copy
import filecmp
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
# Where every rule writes its `benchmark:` file (relative to the run's directory).
BENCHMARK_DIR = "logs/benchmarks"


def bench_config(args) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg = copy.deepcopy(cfg)
    cfg["datasets"] = {
        "planted-big": {
            "type": "planted-tree",
            "encoder_name": "planted",
            "depth": args.depth,
            "branching": args.branching,
            "dim": args.dim,
            "samples_per_class": args.samples_per_class,
            "step_scale": 4.0,
            "noise": 1.0,
            "seed": 0,
        }
    }
    # The heads stage of the default config names its own data sets: train them here on the
    # planted one with the settings the default config gives real features (cifar10-resnet20),
    # or not at all (--no-heads; at 1,000 clusters one epoch of 16 heads is ~1 min on 2 cores).
    heads = cfg.setdefault("heads", {})
    real = heads.get("overrides", {}).get("cifar10-resnet20", {})
    heads["datasets"] = [] if args.no_heads else ["planted-big"]
    heads["overrides"] = {} if args.no_heads else {"planted-big": dict(real)}
    cfg["cache_dir"] = str(Path(args.workdir) / "cache")
    return cfg


def rule_of_benchmarks(log_text):
    """{benchmark path: rule} from Snakemake's job announcements ("rule X:" ... "benchmark: P")."""
    out, rule = {}, None
    for line in log_text.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            rule = m.group(1)
            continue
        m = re.match(r"^benchmark: (\S+)$", line.strip())
        if m and rule:
            out[m.group(1)] = rule
    return out


def summarise(workdir: Path, log_path: Path):
    mapping = rule_of_benchmarks(log_path.read_text()) if log_path.exists() else {}
    rows = []
    for tsv in sorted((workdir / BENCHMARK_DIR).rglob("*.tsv")):
        rel = str(tsv.relative_to(workdir))
        df = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": mapping.get(rel, "?"), "job": rel.removeprefix(f"{BENCHMARK_DIR}/"),
                     "s": float(df["s"].iloc[-1]), "max_rss_mb": float(pd.to_numeric(df["max_rss"], errors="coerce").iloc[-1])})
    if not rows:
        print("no benchmark files yet")
        return None
    jobs = pd.DataFrame(rows)
    total = jobs["s"].sum()
    per_rule = (jobs.groupby("rule")
                .agg(jobs=("s", "size"), total_s=("s", "sum"), max_s=("s", "max"), max_rss_mb=("max_rss_mb", "max"))
                .sort_values("total_s", ascending=False))
    per_rule["share"] = (per_rule["total_s"] / total).round(3)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 90)
    print(f"\n{len(jobs)} finished jobs, {total:.0f} job-seconds in all; per rule:")
    print(per_rule.round(1).to_string())
    print("\nslowest jobs:")
    print(jobs.sort_values("s", ascending=False).head(20).round(1).to_string(index=False))
    big = jobs[jobs["max_rss_mb"] > 8 * 1024]
    print(f"\njobs above 8 GiB peak RSS: {len(big)}; largest peak RSS {jobs['max_rss_mb'].max():.0f} MB")
    return jobs


def compare_results(workdir: Path, other: Path):
    """Result files (paths under ``results/``) that differ in bytes between two runs, or exist in one only.

    Returns ``(n_compared, [(path, "differs" | "only in <dir>")])`` sorted by path; prints the list.
    """
    roots = [Path(d) / "results" for d in (workdir, other)]
    mine, theirs = ({p.relative_to(r) for p in r.rglob("*") if p.is_file()} for r in roots)
    differ = sorted([(str(p), f"only in {workdir}") for p in mine - theirs]
                    + [(str(p), f"only in {other}") for p in theirs - mine]
                    + [(str(p), "differs") for p in mine & theirs
                       if not filecmp.cmp(roots[0] / p, roots[1] / p, shallow=False)])
    n = len(mine | theirs)
    print(f"\nresults compared with {other}: {n} files, {len(differ)} not byte-identical")
    for path, why in differ:
        print(f"  {why:>10}  {path}")
    return n, differ


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/embtree-bench-dag")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--samples-per-class", type=int, default=50)
    ap.add_argument("--cores", default="2")
    ap.add_argument("--no-heads", action="store_true", help="leave the deep clustering heads out")
    ap.add_argument("--timeout", type=int, default=3 * 3600, help="seconds for the whole run")
    ap.add_argument("--summarise", metavar="WORKDIR", help="only print the tables of an earlier run")
    ap.add_argument("--compare", metavar="OTHER", help="then list the result files that differ from run OTHER's")
    args = ap.parse_args(argv)

    if args.summarise:
        wd = Path(args.summarise)
        summarise(wd, wd / "snakemake.log")
        if args.compare:
            compare_results(wd, Path(args.compare))
        return 0
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    cfg_path = work / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(bench_config(args), sort_keys=False))
    n_classes = args.branching ** args.depth
    print(f"planted-tree: {n_classes * args.samples_per_class} x {args.dim}, {n_classes} classes; "
          f"workdir {work}; cores {args.cores}")
    snakemake = Path(sys.executable).with_name("snakemake")
    cmd = [str(snakemake), "-s", str(REPO / "Snakefile"), "--directory", str(work), "--configfile", str(cfg_path),
           "--cores", args.cores, "--rerun-incomplete", "--keep-going", *extra]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    log_path = work / "snakemake.log"
    start = time.perf_counter()
    with open(log_path, "w") as log:
        try:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.perf_counter() - start
    done = re.findall(r"(\d+) of (\d+) steps", log_path.read_text())
    print(f"snakemake exit {rc}; wall clock {wall:.0f} s ({wall / 60:.1f} min); "
          f"steps {done[-1][0] + ' of ' + done[-1][1] if done else '?'}; log {log_path}")
    summarise(work, log_path)
    if args.compare:
        compare_results(work, Path(args.compare))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
