"""Reduce a run's embeddings for every seed (embtree.flat.reduce); one cached file per reducer.

features.npz: ``features`` float32 [R, N, d'], ``seeds`` int64 [R] (the seed of each row).
Timings go to the log only (results stay byte-identical across reruns). Seed-independent reducers (``none``) store one row with
``seeds = [-1]``, used for every seed.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
from threadpoolctl import threadpool_limits

from embtree import flat
from embtree.data.store import load_embeddings
from embtree.io import save_npz

reducer = snakemake.params.method  # the wildcard may name a variant of it (flat.reducer_variants)
params = dict(snakemake.params.reducer_params)
emb = load_embeddings(snakemake.input.npz)
seeds = list(snakemake.params.seeds) if reducer in flat.SEED_DEPENDENT_REDUCERS else [-1]

rows, seconds = [], []
with threadpool_limits(snakemake.threads):
    for seed in seeds:
        start = time.perf_counter()
        rows.append(flat.reduce(emb.features, reducer, seed=max(seed, 0), **params))
        seconds.append(time.perf_counter() - start)
        log.info("%s seed %d: %s -> %s in %.1f s", reducer, seed, emb.features.shape, rows[-1].shape, seconds[-1])

save_npz(
    snakemake.output[0],
    features=np.stack(rows),
    seeds=np.asarray(seeds, dtype=np.int64),
)
