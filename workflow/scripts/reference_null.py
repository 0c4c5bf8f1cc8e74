"""Null distribution of tree-vs-reference scores: trees.null_trees random binary trees over the
reference's leaves (embtree.hierarchy.null), one row per random tree."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from embtree.hierarchy.null import score_null  # noqa: E402
from embtree.io import write_table  # noqa: E402

p = snakemake.params
reference = open(snakemake.input.reference).read().strip()
t0 = time.perf_counter()
null = score_null(reference, n_trees=p.n_trees, model=p.model, seed=p.seed)
log.info("%d random %s trees scored in %.1f s", p.n_trees, p.model, time.perf_counter() - t0)
for score, values in null.items():
    log.info("%s: chance (mean) %.4g, range %.4g .. %.4g", score, np.mean(values), np.min(values), np.max(values))
write_table(snakemake.output[0], pd.DataFrame({"tree": np.arange(p.n_trees), **null}))
