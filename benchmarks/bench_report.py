"""Report-only regeneration time: delete results/report, rebuild it from the cached per-run outputs.

Target (issue 7): <= 10 s on the default config. Run after a full workflow run:

    .venv/bin/snakemake --cores 2                      # once: every per-run output
    .venv/bin/python benchmarks/bench_report.py        # [--directory DIR] [--repeat N]

It first checks with a dry run that the report target needs report jobs only (else the cache is
incomplete and the timing would include analysis jobs), then times `snakemake report_all` after
deleting results/report, and prints the wall time, the CPU time it used, the Snakemake start-up
(DAG) part, the time of each report job (from its benchmark: file) and the ratio to the 10 s target.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
REPORT_RULES = {"report_tables", "report_caec_figures", "report_all"}
TARGET_S = 10.0


def snakemake(directory, *args):
    cmd = [SNAKEMAKE, "--cores", "2", "--directory", str(directory), "-s", str(ROOT / "workflow" / "Snakefile"), *args]
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    snakemake.cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    if res.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    return res.stdout, elapsed


def planned_rules(stdout):
    lines = stdout.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Job stats:"))
    except StopIteration:
        return set()
    rules = set()
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        rules.add(parts[0])
    return rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--directory", default=str(ROOT), help="workflow working directory (default: repo root)")
    ap.add_argument("--repeat", type=int, default=1, help="timed regenerations (the minimum is reported)")
    args = ap.parse_args()
    workdir = Path(args.directory)
    report_dir = workdir / "results" / "report"

    shutil.rmtree(report_dir, ignore_errors=True)
    dry, dag_s = snakemake(workdir, "-n", "report_all")
    extra = planned_rules(dry) - REPORT_RULES
    if extra:
        sys.exit(f"the per-run cache is incomplete (would also run: {sorted(extra)}); run the workflow first")

    times, cpus = [], []
    t_start = time.time()
    for _ in range(args.repeat):
        shutil.rmtree(report_dir, ignore_errors=True)
        _, wall = snakemake(workdir, "report_all")
        times.append(wall)
        cpus.append(snakemake.cpu)
    jobs = {}
    for f in sorted((workdir / "logs" / "benchmarks" / "report").glob("*.tsv")):  # the rules' benchmark: files
        if f.stat().st_mtime >= t_start:  # only this run's jobs (not files of renamed rules)
            jobs[f.stem] = float(pd.read_csv(f, sep="\t")["s"].iloc[-1])
    n_files = sum(1 for p in report_dir.rglob("*") if p.is_file())
    best = min(times)
    print(f"report-only regeneration ({workdir}): {best:.1f} s wall (runs: {', '.join(f'{t:.1f}' for t in times)})")
    print(f"  CPU time (user+sys, all processes): {min(cpus):.1f} s; load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (wall time on a busy machine overstates an idle one)")
    print(f"  snakemake start-up + DAG (dry run): {dag_s:.1f} s")
    for name, s in jobs.items():
        print(f"  job {name}: {s:.1f} s")
    print(f"  files written: {n_files}")
    print(f"  target {TARGET_S:.0f} s: ratio {best / TARGET_S:.2f} ({'met' if best <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
