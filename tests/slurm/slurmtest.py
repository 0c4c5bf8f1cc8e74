"""Checks for the SLURM integration test (tests/slurm/run.sh); no SLURM import, plain files.

Subcommands
-----------
merge-yaml BASE OVERLAY OUT
    OUT = BASE deep-merged with OVERLAY (nested mappings merged key by key, lists replaced,
    a key set to null in OVERLAY deleted);
    for the test profile (Snakemake's own multi-profile merge replaces whole top-level keys)
    and the reduced test config.
check-jobs --log LOG [--log LOG2 ...] --squeue POLL --workdir DIR [--gpu-rules embed]
           [--killed-log LOG]
    Every non-local job Snakemake scheduled went through sbatch, and slurmctld ran it in the
    partition the profile asks for: `gpu` with a gres/gpu request for the GPU rules, `cpu`
    without one for the rest. A --killed-log is a --log whose Snakemake was SIGKILLed: jobs of
    its last batch ("Execute N jobs...") may have been announced without reaching sbatch.
compare LOCAL SLURM
    The two `results/` trees hold the same files with identical contents: arrays exactly
    equal, tables equal after dropping timing columns, JSON equal after dropping timing keys.
snapshot DIR OUT
    JSON {path: mtime_ns} of the finished outputs under DIR/results (files Snakemake has
    not marked incomplete, and not the temporary file of an output being written).
check-mtimes BEFORE DIR
    Every file of the BEFORE snapshot still has the same mtime (not recomputed).
same-embeddings ONE SHARDED
    Two runs' embeddings.npz are byte-identical and their embeddings.json equal but for
    dataset_id (one embed job vs. gather_shards of N embed_shard jobs).
group-overlap DIR --jobcomp LOG
    For every finished SLURM group job of the run in DIR (the plugin's kept logs
    .snakemake/slurm_logs/group_*/.../<slurm id>.log, the inner Snakemake's output): its member
    jobs' run intervals from the log's time stamps (to the second), how many ran at once
    at most, and the CPUs slurmctld allocated (jobcomp ProcCnt). Measures
    snakemake-executor-plugin-slurm issue 469 (group jobs run one by one); fails only when no
    group job with two or more members is found.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# Columns / JSON keys whose values depend on the wall clock, not on the computation (words split by
# `_`, `-` or spaces: the report's L2H runtime table, paper 001 table 2, has "wall-clock s").
TIMING = re.compile(r"(^|[_\s-])(seconds|second|secs|time|times|timestamp|duration|date|created|"
                    r"started|finished|elapsed|per_second|throughput|hostname|host|"
                    r"runtime|wall)($|[_\s-])", re.IGNORECASE)  # fmt: skip
# Rendered figures / documents: compared by presence only (fonts, renderer versions).
PRESENCE_ONLY = {".png", ".pdf", ".svg", ".html", ".jpg"}


def _fail(problems, what):
    if problems:
        print(f"FAIL {what}:", file=sys.stderr)
        for p in problems[:50]:
            print(f"  - {p}", file=sys.stderr)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more", file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------- profiles


def deep_merge(base, overlay):
    """``overlay`` on top of ``base``; nested dicts merge, ``null`` deletes the key, everything else is replaced."""
    out = dict(base)
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_yaml(args):
    base = yaml.safe_load(Path(args.base).read_text()) or {}
    overlay = yaml.safe_load(Path(args.overlay).read_text()) or {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(deep_merge(base, overlay), sort_keys=False))
    print(f"merged {args.base} + {args.overlay} -> {out}")
    return 0


# ----------------------------------------------------------------------------- job routing

EXECUTE = re.compile(r"^Execute \d+ jobs\.\.\.")
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")
RULE_BLOCK = re.compile(r"^\s*(localrule|rule) ([A-Za-z_]\w*):\s*$")
JOBID_LINE = re.compile(r"^\s*jobid: (\d+)\s*$")
GROUP_HEADER = re.compile(r"Group job (\S+) \(jobs in lexicogr\. order\):")
# The plugin's per-job SLURM log: .snakemake/slurm_logs/{rule_<rule>|group_<group>}/<wildcards>/<id>.log
GROUP_LOG = re.compile(r"/group_([^/]+)/")


def parse_snakemake_log(text):
    """Jobs Snakemake announced, grouped by how they reached SLURM.

    Returns (non-local single jobs {snakemake jobid: rule}, local rule counts,
    {snakemake jobid: slurm jobid} of single jobs, group jobs {group name: [member rules]},
    {group name: [slurm jobids]}, the jobids and group names announced in the last batch).
    A group job (rules with ``group:``, profiles/slurm
    ``group-components``) is one sbatch call for all its member jobs, announced as
    "Group job <name>" followed by indented member blocks.
    """
    remote, local, groups = {}, Counter(), defaultdict(list)
    current, group = None, None
    last_batch = set()
    for line in text.splitlines():
        if EXECUTE.match(line):
            last_batch = set()
            continue
        m = GROUP_HEADER.search(line)
        if m:
            group, current = m.group(1), None
            last_batch.add(group)
            continue
        m = RULE_BLOCK.match(line)
        if m:
            if group is not None and not line.startswith((" ", "\t")):
                group = None  # a top-level block ends the group's listing
            current = m.groups()
            continue
        m = JOBID_LINE.match(line)
        if m and current:
            kind, rule = current
            if group is not None and kind == "rule":
                groups[group].append(rule)
            elif kind == "rule":
                remote[int(m.group(1))] = rule
                last_batch.add(int(m.group(1)))
            else:
                local[rule] += 1
            current = None
    submitted, group_submitted = {}, defaultdict(list)
    for job, sid, log in SUBMITTED.findall(text):
        g = GROUP_LOG.search(log)
        if g:
            # The log directory is group_<group name>_<member rule names>: longest listed prefix.
            names = [n for n in groups if g.group(1) == n or g.group(1).startswith(n + "_")]
            group_submitted[max(names, key=len) if names else g.group(1)].append(sid)
        elif job.isdigit():
            submitted[int(job)] = sid
    return remote, local, submitted, dict(groups), dict(group_submitted), last_batch


def parse_squeue_poll(path, workdir):
    """Latest squeue record per SLURM job id whose working directory is ``workdir``."""
    fields = ["jobid", "partition", "tres_per_job", "tres_per_node", "name", "state", "workdir", "comment"]
    jobs = {}
    for line in Path(path).read_text().splitlines():
        parts = line.strip().split("|")
        if len(parts) < len(fields):
            continue
        rec = dict(zip(fields, (p.strip() for p in parts)))
        if Path(rec["workdir"]).resolve() == Path(workdir).resolve():
            jobs[rec["jobid"]] = rec
    return jobs


def _rule_of_comment(comment):
    # The plugin's --comment: rule_<rule>[_wildcards_<values>]
    name = comment[len("rule_"):] if comment.startswith("rule_") else comment
    return name.split("_wildcards_")[0]


def _check_record(rec, sid, what, want_gpu, problems):
    want = "gpu" if want_gpu else "cpu"
    if rec["partition"] != want:
        problems.append(f"SLURM job {sid} ({what}) ran in partition {rec['partition']}, want {want}")
    gres = rec["tres_per_job"] + rec["tres_per_node"]
    if want_gpu != ("gpu" in gres):
        problems.append(f"SLURM job {sid} ({what}): GPU request {gres!r} {'missing' if want_gpu else 'unexpected'}")


def check_jobs(args):
    gpu_rules = set(args.gpu_rules)
    polled = parse_squeue_poll(args.squeue, args.workdir)
    problems = []
    n_remote = n_sbatch = n_grouped = 0
    killed = {str(Path(p)) for p in args.killed_log}
    cut_off = []  # announced in the last batch of a killed run, never submitted
    per_rule = defaultdict(Counter)
    local_all = Counter()
    for log_path in args.log + [p for p in args.killed_log if p not in args.log]:
        remote, local, submitted, groups, group_submitted, last_batch = parse_snakemake_log(
            Path(log_path).read_text(errors="replace"))
        was_killed = str(Path(log_path)) in killed
        local_all.update(local)
        n_remote += len(remote)
        for jobid, rule in sorted(remote.items()):
            sid = submitted.get(jobid)
            if sid is None and was_killed and jobid in last_batch:
                cut_off.append(f"job {jobid} ({rule})")
                n_remote -= 1
                continue
            if sid is None:
                problems.append(f"{log_path}: job {jobid} ({rule}) was never submitted with sbatch")
                continue
            n_sbatch += 1
            rec = polled.get(sid)
            if rec is None:
                problems.append(f"{log_path}: SLURM job {sid} ({rule}) not seen by squeue")
                continue
            if _rule_of_comment(rec["comment"]) != rule:
                problems.append(f"SLURM job {sid}: comment {rec['comment']!r} is not rule {rule}")
            _check_record(rec, sid, rule, rule in gpu_rules, problems)
            per_rule[rule][f"{rec['partition']}:{rec['state']}"] += 1
        for name, rules in sorted(groups.items()):
            sids = group_submitted.get(name, [])
            if not sids and was_killed and name in last_batch:
                cut_off.append(f"group job {name}")
                continue
            if not sids:
                problems.append(f"{log_path}: group job {name} ({len(rules)} jobs) was never submitted with sbatch")
                continue
            n_remote += len(rules)
            n_grouped += len(rules)
            for sid in sids:
                n_sbatch += 1
                rec = polled.get(sid)
                if rec is None:
                    problems.append(f"{log_path}: SLURM job {sid} (group {name}) not seen by squeue")
                    continue
                _check_record(rec, sid, f"group {name}", bool(set(rules) & gpu_rules), problems)
                for rule in rules:
                    per_rule[f"{rule} (grouped)"][f"{rec['partition']}:{rec['state']}"] += 1
        extra = set(submitted) - set(remote)
        if extra:
            problems.append(f"{log_path}: submitted jobs without a rule block: {sorted(extra)}")
        extra_groups = set(group_submitted) - set(groups)
        if extra_groups:
            problems.append(f"{log_path}: submitted groups without a listing: {sorted(extra_groups)}")
    if n_remote == 0:
        problems.append("no SLURM jobs found in the logs")
    for rule in sorted(per_rule):
        print(f"  {rule:38s} " + ", ".join(f"{k} x{v}" for k, v in sorted(per_rule[rule].items())))
    if local_all:
        print("  local rules (login node): " + ", ".join(f"{r} x{n}" for r, n in sorted(local_all.items())))
    if args.forbid_local:
        for rule in set(local_all) & set(args.forbid_local):
            problems.append(f"rule {rule} ran locally, not through sbatch")
    if cut_off:
        print("  announced when Snakemake was killed, before sbatch (the rerun ran them): " + ", ".join(cut_off))
    status = _fail(problems, "job routing")
    if not status:
        print(f"OK: {n_remote} jobs went through {n_sbatch} sbatch calls ({n_grouped} of them in group jobs); "
              f"GPU rules {sorted(gpu_rules)} -> gpu, rest -> cpu")
    return status


# ----------------------------------------------------------------------------- results


def _drop_timing(obj):
    if isinstance(obj, dict):
        return {k: _drop_timing(v) for k, v in obj.items() if not TIMING.search(str(k))}
    if isinstance(obj, list):
        return [_drop_timing(v) for v in obj]
    return obj


def _same_json(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return a == b


def _compare_arrays(name, a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{name}: shape/dtype {a.shape} {a.dtype} != {b.shape} {b.dtype}"
    if a.dtype.kind in "fc":
        if not np.array_equal(a, b, equal_nan=True):
            diff = np.nanmax(np.abs(a.astype(np.float64) - b.astype(np.float64))) if a.size else 0.0
            return f"{name}: arrays differ (max |diff| {diff:.3g})"
    elif not np.array_equal(a, b):
        return f"{name}: arrays differ"
    return None


def _read_table(path):
    sep = "\t" if path.suffix == ".tsv" else ","
    df = pd.read_csv(path, sep=sep)
    return df[[c for c in df.columns if not TIMING.search(str(c))]]


def _text_without_timing_columns(path):
    """Markdown / LaTeX tables: drop the columns whose header names a timing quantity."""
    lines = path.read_text().splitlines()
    sep = "|" if path.suffix == ".md" else "&"
    header = next((ln for ln in lines if sep in ln), None)
    if header is None:
        return lines
    cols = [c.strip().strip("\\").strip() for c in header.split(sep)]
    drop = {i for i, c in enumerate(cols) if TIMING.search(c)}
    if not drop:
        return lines
    return [sep.join(c for i, c in enumerate(ln.split(sep)) if i not in drop) if sep in ln else ln
            for ln in lines]  # fmt: skip


def compare_file(a: Path, b: Path):
    """None when equal (modulo timing), else a description of the difference."""
    suffix = a.suffix
    name = str(b)
    if suffix in PRESENCE_ONLY:
        return None
    if suffix == ".npz":
        with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
            if set(x.files) != set(y.files):
                return f"{name}: keys {sorted(x.files)} != {sorted(y.files)}"
            for k in x.files:
                if TIMING.search(k):  # e.g. flat/*/features.npz[seconds]
                    continue
                msg = _compare_arrays(f"{name}[{k}]", x[k], y[k])
                if msg:
                    return msg
        return None
    if suffix == ".npy":
        return _compare_arrays(name, np.load(a, allow_pickle=False), np.load(b, allow_pickle=False))
    if suffix in (".tsv", ".csv"):
        x, y = _read_table(a), _read_table(b)
        if list(x.columns) != list(y.columns) or x.shape != y.shape:
            return f"{name}: columns/shape {list(x.columns)} {x.shape} != {list(y.columns)} {y.shape}"
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        except AssertionError as e:
            return f"{name}: {str(e).splitlines()[0]} ({' '.join(str(e).split())[:300]})"
        return None
    if suffix == ".json":
        x, y = (_drop_timing(json.loads(p.read_text())) for p in (a, b))
        return None if _same_json(x, y) else f"{name}: JSON differs outside timing keys"
    if suffix == ".html" and a.with_suffix(".md").is_file():
        return None  # the report table's .html renders the same cells as its .md, compared there
    if suffix in (".md", ".tex"):
        return None if _text_without_timing_columns(a) == _text_without_timing_columns(b) else f"{name}: differs"
    return None if a.read_bytes() == b.read_bytes() else f"{name}: bytes differ"


def compare(args):
    local, slurm = Path(args.local), Path(args.slurm)
    files_a = {p.relative_to(local) for p in local.rglob("*") if p.is_file()}
    files_b = {p.relative_to(slurm) for p in slurm.rglob("*") if p.is_file()}
    problems = [f"only in the local run: {p}" for p in sorted(files_a - files_b)]
    problems += [f"only in the SLURM run: {p}" for p in sorted(files_b - files_a)]
    kinds = Counter()
    for rel in sorted(files_a & files_b):
        msg = compare_file(local / rel, slurm / rel)
        kinds[rel.suffix or rel.name] += 1
        if msg:
            problems.append(msg)
    status = _fail(problems, f"results {local} vs {slurm}")
    if not status:
        print(f"OK: {len(files_a)} result files identical (timing ignored; figures by presence): "
              + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))  # fmt: skip
    return status


# ----------------------------------------------------------------------------- mtimes


def incomplete_outputs(workdir: Path):
    """Outputs Snakemake has marked incomplete (file persistence backend, Snakemake 9).

    A marker is .snakemake/incomplete/<urlsafe base64 of the path>, split into nested
    directories named "@<chunk>" when longer than the file-name limit.
    """
    root = workdir / ".snakemake" / "incomplete"
    marks = set()
    for p in root.rglob("*"):
        if not p.is_file() or p.name == "migration_underway":
            continue
        b64 = "".join(part.lstrip("@") for part in p.relative_to(root).parts)
        try:
            marks.add(base64.urlsafe_b64decode(b64.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            continue
    return marks


# embtree.io.atomic_path's temporary file beside an output: ".<name>.<mkstemp>.tmp<suffix>". A job
# still running on the cluster when the client was killed renames it onto its output later.
ATOMIC_TEMP = re.compile(r"\..+\.tmp(\.[^.]+)?")


def snapshot(args):
    workdir = Path(args.dir)
    skip = incomplete_outputs(workdir)
    snap = {}
    for p in sorted((workdir / "results").rglob("*")):
        rel = str(p.relative_to(workdir))
        if p.is_file() and rel not in skip and not ATOMIC_TEMP.fullmatch(p.name):
            snap[rel] = p.stat().st_mtime_ns
    Path(args.out).write_text(json.dumps(snap, indent=1))
    print(f"snapshot: {len(snap)} finished outputs, {len(skip)} marked incomplete")
    return 0 if snap or args.allow_empty else _fail(["no finished outputs at the snapshot"], "snapshot")


def check_mtimes(args):
    before = json.loads(Path(args.before).read_text())
    workdir = Path(args.dir)
    problems = []
    for rel, mtime in before.items():
        p = workdir / rel
        if not p.exists():
            problems.append(f"{rel}: deleted by the rerun")
        elif p.stat().st_mtime_ns != mtime:
            problems.append(f"{rel}: recomputed by the rerun (mtime changed)")
    status = _fail(problems, "rerun recomputed finished outputs")
    if not status:
        print(f"OK: the rerun kept all {len(before)} outputs finished before the kill")
    return status


# ----------------------------------------------------------------------------- shards


def same_embeddings(args):
    one, sharded = Path(args.one), Path(args.sharded)
    problems = []
    if one.read_bytes() != sharded.read_bytes():
        problems.append(f"{sharded} differs from {one} ({sharded.stat().st_size} vs {one.stat().st_size} bytes; "
                        f"{compare_file(one, sharded) or 'same arrays, other bytes'})")
    metas = [json.loads(p.with_suffix(".json").read_text()) for p in (one, sharded)]
    for m in metas:
        m.pop("dataset_id", None)
    if metas[0] != metas[1]:
        differ = sorted(k for k in set(metas[0]) | set(metas[1]) if metas[0].get(k) != metas[1].get(k))
        problems.append(f"{sharded.with_suffix('.json')}: differs from {one.with_suffix('.json')} in {differ}")
    status = _fail(problems, "sharded vs one-job embeddings")
    if not status:
        print(f"OK: {sharded} is byte-identical to {one} ({one.stat().st_size} bytes); sidecars equal but for dataset_id")
    return status


# ----------------------------------------------------------------------------- group jobs

STAMP = re.compile(r"^\s*\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]")
INNER_RULE = re.compile(r"^localrule ([A-Za-z_]\w*):\s*$")  # a job the group's inner Snakemake runs
FINISHED = re.compile(r"^Finished jobid: (\d+) ")
CPUS_IN_RESOURCES = re.compile(r"^\s*resources: .*\bcpus_per_task=(\d+)")
INNER_GROUP_JOB = re.compile(r"\] Group job \S+ \(jobs in lexicogr\. order\):")


def _jobcomp(path):
    """{slurm job id: {key: value}} of slurmctld's jobcomp/filetxt log (one line per finished job)."""
    out = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        rec = dict(re.findall(r"(\w+)=(\S*)", line))
        if "JobId" in rec:
            out[rec["JobId"]] = rec
    return out


def _inner_jobs(text):
    """[(rule, start, end, cpus_per_task)] of the jobs a group job's SLURM log shows running.

    The log holds the job step's Snakemake (it hands jobs to srun) and, for every srun, the
    inner Snakemake that runs them ("localrule" blocks, stamped to the second when they start,
    "Finished jobid: N" when they end; job ids are per inner run, each opened by "Provided
    cores"). Benchmark files cannot time them: Snakemake touches a group's outputs, benchmarks
    included, when the whole group has finished.
    """
    from datetime import datetime

    jobs, open_jobs, stamp, block = [], {}, None, None
    for line in text.splitlines():
        m = STAMP.match(line)
        if m:
            stamp = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y").timestamp()
        if line.startswith("Provided cores"):  # a new inner run: its own job ids
            open_jobs, block = {}, None
            continue
        m = INNER_RULE.match(line)
        if m:
            block = {"rule": m.group(1), "start": stamp, "cpus": 1}
            continue
        if block is not None:
            m = JOBID_LINE.match(line)
            if m:
                open_jobs[m.group(1)] = block
                continue
            m = CPUS_IN_RESOURCES.match(line)
            if m:
                block["cpus"] = int(m.group(1))
                continue
        m = FINISHED.match(line)
        if m and m.group(1) in open_jobs:
            job = open_jobs.pop(m.group(1))
            jobs.append((job["rule"], job["start"], stamp, job["cpus"]))
            block = None
    return jobs


def _max_overlap(intervals):
    """Most intervals [start, end) open at one instant (a sweep over their ends)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def group_overlap(args):
    workdir = Path(args.dir)
    comp = _jobcomp(args.jobcomp)
    rows = []
    for log in sorted((workdir / ".snakemake" / "slurm_logs").glob("group_*/**/*.log")):
        rec = comp.get(log.stem)
        if rec is None or rec.get("JobState") != "COMPLETED":
            continue  # cancelled with the killed run, or not finished: no complete record
        text = log.read_text(errors="replace")
        jobs = _inner_jobs(text)
        intervals = [(start, end) for _, start, end, _ in jobs]
        cpus = [c for *_, c in jobs]
        if len(intervals) < 2:
            continue
        span = max(e for _, e in intervals) - min(s for s, _ in intervals)
        busy = sum(e - s for s, e in intervals)
        rows.append({"group": log.parent.name.removeprefix("group_")[:40], "slurm_job": log.stem,
                     "jobs": len(intervals), "dispatches": len(INNER_GROUP_JOB.findall(text)),
                     "alloc_cpus": int(rec.get("ProcCnt", 0)), "job_cpus_max": max(cpus),
                     "job_cpus_sum": sum(cpus), "max_at_once": _max_overlap(intervals),
                     "busy_s": round(busy, 1), "span_s": round(span, 1)})  # fmt: skip
    if not rows:
        return _fail(["no finished group job with 2 or more member jobs found"], "group overlap")
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    overlapping = int((table["max_at_once"] > 1).sum())
    print(f"group jobs whose member jobs overlapped in time: {overlapping} of {len(table)}; "
          f"member jobs' run time / time from the first start to the last end: "
          f"{table['busy_s'].sum() / max(table['span_s'].sum(), 1e-9):.2f} (above 1: side by side; "
          "at most 1: one at a time, the rest the job step's and the inner Snakemake's start-up)")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("merge-yaml")
    p.add_argument("base")
    p.add_argument("overlay")
    p.add_argument("out")
    p.set_defaults(func=merge_yaml)
    p = sub.add_parser("check-jobs")
    p.add_argument("--log", action="append", required=True)
    p.add_argument("--squeue", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--gpu-rules", nargs="+", default=["embed"])
    p.add_argument("--forbid-local", nargs="*", default=[])
    p.add_argument("--killed-log", action="append", default=[])
    p.set_defaults(func=check_jobs)
    p = sub.add_parser("compare")
    p.add_argument("local")
    p.add_argument("slurm")
    p.set_defaults(func=compare)
    p = sub.add_parser("snapshot")
    p.add_argument("dir")
    p.add_argument("out")
    p.add_argument("--allow-empty", action="store_true")
    p.set_defaults(func=snapshot)
    p = sub.add_parser("check-mtimes")
    p.add_argument("before")
    p.add_argument("dir")
    p.set_defaults(func=check_mtimes)
    p = sub.add_parser("same-embeddings")
    p.add_argument("one")
    p.add_argument("sharded")
    p.set_defaults(func=same_embeddings)
    p = sub.add_parser("group-overlap")
    p.add_argument("dir")
    p.add_argument("--jobcomp", required=True)
    p.set_defaults(func=group_overlap)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
