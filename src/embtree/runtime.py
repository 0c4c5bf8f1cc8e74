"""Process set-up for the workflow's rule scripts (kept out of the algorithm modules).

:func:`setup_logging`               a job's stderr and ``logging`` into its log file
:func:`snakemake_log`               the first ``log:`` file of a Snakemake job
:func:`release_incomplete_markers`  clear Snakemake's "incomplete" marks of finished outputs
:func:`reuse_freed_memory`          keep freed memory in the heap (glibc), for training loops
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import logging
import os
import sys
from pathlib import Path


def setup_logging(log_path=None, level=logging.INFO):
    """Send stderr (tracebacks, warnings, tqdm, ``logging``) to ``log_path``.

    Rule scripts call this first so every message of a job lands in its ``log:`` file.
    Returns the module logger ``embtree``.
    """
    if log_path:
        log_path = Path(str(log_path))
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives for the process
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    return logging.getLogger("embtree")


def snakemake_log(snakemake):
    """The first log file of a Snakemake job, or None."""
    log = getattr(snakemake, "log", None)
    return str(log[0]) if log else None


def release_incomplete_markers(outputs, workdir="."):
    """Remove Snakemake's "incomplete" marks of ``outputs`` (call after writing them all).

    Snakemake marks a job's outputs incomplete when it starts the job and unmarks them when
    it sees the job finish. A job that outlives a killed Snakemake therefore leaves
    complete outputs marked incomplete, and the resumed run deletes and recomputes them.
    A long job (embed) that clears its own marks once every output is atomically in
    place is kept instead. Mirrors Snakemake 9's file persistence layout
    (``.snakemake/incomplete/<urlsafe base64 of the path>``, split into ``@``-prefixed
    directories at the file-name limit); a missing mark is no error (Snakemake alive, or
    another persistence backend). Returns the number of marks removed.
    """
    root = Path(workdir) / ".snakemake" / "incomplete"
    if not root.is_dir():
        return 0
    max_len = os.pathconf(root, "PC_NAME_MAX") or 255
    removed = 0
    for out in outputs:
        b64 = base64.urlsafe_b64encode(str(out).encode()).decode()
        parts = [b64[i : i + max_len - 1] for i in range(0, len(b64), max_len - 1)]
        path = root.joinpath(*["@" + p for p in parts[:-1]], parts[-1])
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        for parent in path.parents:  # Snakemake removes emptied split directories too
            if parent == root:
                break
            try:
                parent.rmdir()
            except OSError:
                break
    return removed


def reuse_freed_memory() -> bool:
    """Keep freed memory in the process heap for reuse (glibc only; else a no-op).

    glibc serves blocks above its mmap threshold (at most 32 MB) with fresh ``mmap`` pages and
    returns them to the kernel on ``free``, so a training loop whose per-iteration tensors are
    tens of MB (the batched heads: 16 heads x 2,048 rows x 512) page-faults through every one of
    them on every iteration. Turning mmap allocations off (``M_MMAP_MAX = 0``) and raising the
    trim threshold makes those blocks come back from the heap: measured 1.5-1.7x per training
    iteration of :func:`embtree.heads.train_heads` (benchmarks/bench_heads.py). The cost: the
    process keeps its peak heap until it exits, which is what a training job holds anyway.
    Call it once, early, in a process that runs such a loop (the heads rule does).

    Returns True when glibc accepted both settings.
    """
    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc <malloc.h>
        return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
