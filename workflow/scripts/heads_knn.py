"""Cosine kNN indices of a run's embeddings (embtree.heads.mine_knn, backend heads.knn_backend):
knn.npy int32 [N, k]; knn_recall.tsv: one row (backend, k, n_samples, nlist, nprobe, recall_rows,
recall), the recall@k against exact neighbours on a seeded sample of rows for the approximate
backends (exact: 1 by construction, recall_rows 0)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import time

import numpy as np
import pandas as pd
import torch

from embtree.data.store import load_embeddings
from embtree import heads, io

wc = snakemake.wildcards
p = heads.check_params("temi", snakemake.params.heads)
backend = p["knn_backend"]
torch.set_num_threads(snakemake.threads)
if backend != "exact":
    from embtree.faiss_support import import_faiss

    import_faiss().omp_set_num_threads(snakemake.threads)
emb = load_embeddings(snakemake.input.embeddings)
n = len(emb.labels)
p["knn"] = heads.knn_for(n, p["knn"])
t0 = time.perf_counter()
_next = [0.1]


def progress(done, total):  # exact brute force is hours at ImageNet-train size on a CPU: say how far it is
    if done / total >= _next[0] or done == total:
        el = time.perf_counter() - t0
        log.info("kNN: %d of %d rows (%.0f%%) in %.0f s, about %.0f s to go", done, total, 100 * done / total, el,
                 el * (total - done) / done)
        _next[0] = done / total + 0.1


nlist, nprobe = heads.ivf_params(n, p["knn_nlist"], p["knn_nprobe"]) if backend == "faiss-ivf" else (None, None)
nbr = heads.mine_knn(emb.features, p["knn"], backend=backend, chunk_mb=p["knn_chunk_mb"],
                     device=snakemake.params.device, progress=progress, nlist=nlist, nprobe=nprobe)
agree = float((emb.labels[nbr] == emb.labels[:, None]).mean())
log.info("kNN (%s) k=%d of %d samples in %.1f s; neighbours sharing the label: %.4f",
         backend, p["knn"], len(nbr), time.perf_counter() - t0, agree)
recall = {"recall": 1.0, "rows": 0}
if backend != "exact":
    t1 = time.perf_counter()
    recall = heads.knn_recall(emb.features, nbr, rows=p["knn_recall_rows"], chunk_mb=p["knn_chunk_mb"],
                              device=snakemake.params.device)
    log.info("recall@%d of %s against exact neighbours on %d seeded rows: %.4f (%.1f s)", p["knn"], backend,
             recall["rows"], recall["recall"], time.perf_counter() - t1)
    if recall["recall"] < 0.95:
        log.warning("recall@%d = %.4f < 0.95: raise heads.knn_nprobe (now %s) or use faiss-flat / exact",
                    p["knn"], recall["recall"], nprobe)
with io.atomic_path(snakemake.output.knn, suffix=".npy") as tmp:
    np.save(tmp, nbr.astype(np.int32))
row = {"dataset": wc.dataset, "encoder": wc.encoder, "backend": backend, "k": p["knn"], "n_samples": n,
       "nlist": nlist, "nprobe": nprobe, "recall_rows": recall["rows"], "recall": recall["recall"]}
io.write_table(snakemake.output.recall, pd.DataFrame([row]))
