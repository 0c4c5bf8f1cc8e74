"""Cosine kNN indices of a run's embeddings (embtree.heads.mine_knn): knn.npy int32 [N, k]."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
import torch

from embtree.data.store import load_embeddings
from embtree import heads, io

p = heads.check_params("temi", snakemake.params.heads)
torch.set_num_threads(snakemake.threads)
emb = load_embeddings(snakemake.input.embeddings)
p["knn"] = heads.knn_for(len(emb.labels), p["knn"])
t0 = time.perf_counter()
_next = [0.1]


def progress(done, n):  # exact brute force is hours at ImageNet-train size on a CPU: say how far it is
    if done / n >= _next[0] or done == n:
        el = time.perf_counter() - t0
        log.info("kNN: %d of %d rows (%.0f%%) in %.0f s, about %.0f s to go", done, n, 100 * done / n, el,
                 el * (n - done) / done)
        _next[0] = done / n + 0.1


nbr = heads.mine_knn(emb.features, p["knn"], chunk_mb=p["knn_chunk_mb"], device=snakemake.params.device,
                     progress=progress)
agree = float((emb.labels[nbr] == emb.labels[:, None]).mean())
log.info("kNN k=%d of %d samples in %.1f s; neighbours sharing the label: %.4f",
         p["knn"], len(nbr), time.perf_counter() - t0, agree)
with io.atomic_path(snakemake.output[0], suffix=".npy") as tmp:
    np.save(tmp, nbr.astype(np.int32))
