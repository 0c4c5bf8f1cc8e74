"""Process set-up for the workflow's rule scripts (kept out of the algorithm modules)."""

from __future__ import annotations

import logging
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
