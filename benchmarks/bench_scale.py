"""Core algorithms at ImageNet-1K train scale: time and peak memory, one float32 copy of the data.

Writes synthetic Gaussian classes (default 1,281,167 x 768, 1,000 classes; logits 1,000
columns) to memory-mapped ``.npy`` files in ``--workdir`` chunk by chunk, then runs each
algorithm in its own process on the memory-mapped arrays and prints its wall time and
peak resident memory (``VmHWM``, which counts the mapped file pages it touched):

* ``caec-<metric>``: cluster growing (:func:`embtree.caec.grow_clusters`), distances in
  bounded blocks; the float64 conversion of the embeddings is chunked
  (``embtree.distances``), so no second copy exists;
* ``kmeans``: the flat grid's k-means (:func:`embtree.flat.cluster`, registry parameters) on the
  read-only map: above ``max_sklearn_samples`` it is :func:`embtree.kmeans.kmeans` in row blocks,
  k-means++ seeded on a 100,000-row subsample. (scikit-learn's KMeans on the full copy-on-write
  map ran past 2,400 s in its k-means++ seeding at 1,000 clusters, peaking at 7.7 GB: its
  tolerance takes ``np.var`` of the whole array). Measured at full size: 44 iterations, 907 s,
  peak 4.55 GB (1.16 copies, the mapped file pages included); on an idle machine 701 s;
* ``kmeans-faiss``: :func:`embtree.faiss_kmeans.faiss_kmeans` (the ``faiss`` backend of the same
  k-means) from the same k-means++ start, capped at ``--faiss-iters`` Lloyd iterations (default the
  44 ``kmeans`` took): the same work, so time and inertia compare (both inertias recomputed from
  the labels in float64 by one function). faiss holds one float32 copy of the data (3.9 GB).
  Measured at full size, idle, 2 threads: 278 s against ``kmeans``' 701 s (2.5x faster), the
  same inertia to 7 digits (1.002595e9), peak 9.4 GB against 5.2 GB;
* ``l2h``: L2H on the logits (softmax in row blocks);
* ``knn``: the heads' exact cosine kNN mining (:func:`embtree.heads.mine_knn`, k=50) on the
  memory map. It is ``O(N^2 d)``, about 2.5e15 flops at full size, i.e. hours on two cores:
  it stops after ``--knn-budget`` seconds and extrapolates from the rows done;
* ``knn-ivf``: the same mining with ``heads.knn_backend: faiss-ivf`` at the job's default
  ``nlist`` / ``nprobe`` for N (:func:`embtree.heads.ivf_params`), all rows, then its recall@50
  against exact neighbours on the job's 1,000 seeded rows (:func:`embtree.heads.knn_recall`).

One float32 copy of the features is 3.9 GB, of the logits 5.1 GB. Report only. Run it
once, late, with a timeout, on a quiet machine:

    timeout 7200 .venv/bin/python benchmarks/bench_scale.py > bench_scale.txt 2>&1
    .venv/bin/python benchmarks/bench_scale.py --n 20000 --classes 50 --dim 32   # toy
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np


def build(workdir: Path, n, d, k, seed=0, chunk=65536):
    """features.npy (n, d) float32, labels.npy (n,), logits.npy (n, k) float32, written in chunks."""
    workdir.mkdir(parents=True, exist_ok=True)
    meta = workdir / "meta.json"
    want = {"n": n, "d": d, "k": k, "seed": seed}
    if meta.exists() and json.loads(meta.read_text()) == want:
        return
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0 / np.sqrt(d) * 8, size=(k, d)).astype(np.float32)
    head = rng.normal(size=(d, k)).astype(np.float32) / np.sqrt(d)
    y = np.sort(rng.integers(k, size=n)) if n >= k else np.arange(n) % k
    y[:k] = np.arange(k)  # every class has samples
    np.save(workdir / "labels.npy", y.astype(np.int64))
    X = np.lib.format.open_memmap(workdir / "features.npy", mode="w+", dtype=np.float32, shape=(n, d))
    L = np.lib.format.open_memmap(workdir / "logits.npy", mode="w+", dtype=np.float32, shape=(n, k))
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        xb = centres[y[s:e]] + rng.normal(size=(e - s, d)).astype(np.float32)
        X[s:e] = xb
        L[s:e] = xb @ head + 4.0 * np.eye(k, dtype=np.float32)[y[s:e]]
    X.flush()
    L.flush()
    del X, L
    meta.write_text(json.dumps(want))


def status_mb(field, pid="self"):
    """A memory field of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``, ...) in MB; None where absent."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def peak_mb(pid="self"):
    """Peak resident memory (``VmHWM``, mapped file pages touched included) of a process, in MB."""
    peak = status_mb("VmHWM", pid)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if peak is None else peak


def inertia_of(X, labels, block_rows=65536):
    """Summed squared Euclidean distance of the rows of ``X`` (n, d) to the mean of their label's rows,
    in float64 row blocks: one definition for every k-means compared (each returns its labels)."""
    from embtree.centroids import class_centroids

    _, dense = np.unique(labels, return_inverse=True)  # class_centroids wants labels 0..k-1, none empty
    centres = class_centroids(X, dense)
    total = 0.0
    for s in range(0, len(X), block_rows):
        diff = np.asarray(X[s:s + block_rows], dtype=np.float64) - centres[dense[s:s + block_rows]]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


class _OutOfBudget(Exception):
    pass


def run_isolated(target, args, timeout):
    """``target(*args, queue)`` in a fresh spawned process, killed after ``timeout`` seconds.

    Returns ``(status, value, wall_s)``: ``("ok", what target put on the queue, ...)``,
    ``("timeout", its peak MB so far, ...)`` (memory is bounded even when time is not) or
    ``("failed", its exit code, ...)``. One process per algorithm: each peak is its own.
    """
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    start = time.perf_counter()
    p.start()
    p.join(timeout)
    if p.is_alive():
        peak = peak_mb(p.pid)
        p.kill()
        p.join()
        return "timeout", peak, time.perf_counter() - start
    if q.empty():
        return "failed", p.exitcode, time.perf_counter() - start
    return "ok", q.get(), time.perf_counter() - start


def _job(name, workdir, threads, knn_budget, faiss_iters, queue):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits

    workdir = Path(workdir)
    y = np.load(workdir / "labels.npy")
    seconds = None  # set by the jobs that time less than all they do (k-means: not the inertia pass)
    start = time.perf_counter()
    with threadpool_limits(threads):
        if name.startswith("caec-"):
            from embtree import caec
            from embtree.distances import set_threads

            set_threads(threads)
            X = np.load(workdir / "features.npy", mmap_mode="r")
            res = caec.grow_clusters(X, y, metric=name[5:], gamma=0.3, step="auto")
            info = f"step {res.step:.4g}, mean coverage {res.coverage.mean():.3f}"
        elif name == "kmeans":
            import logging

            from embtree import flat

            logging.basicConfig(level=logging.INFO, format="  %(message)s", stream=sys.stdout)
            X = np.load(workdir / "features.npy", mmap_mode="r")
            # the flat grid's kmeans (registry parameters): above max_sklearn_samples it runs
            # embtree.kmeans in row blocks of the read-only map, logging every iteration
            labels = flat.cluster(X, "kmeans", n_clusters=int(y.max()) + 1, seed=0)
            seconds = time.perf_counter() - start
            info = f"{len(np.unique(labels))} non-empty clusters, inertia {inertia_of(X, labels):.7g}"
        elif name == "kmeans-faiss":
            from embtree.faiss_kmeans import faiss_kmeans
            from embtree.faiss_support import import_faiss

            import_faiss().omp_set_num_threads(threads)
            X = np.load(workdir / "features.npy", mmap_mode="r")
            # the same k-means++ start (seeding_rows, seed 0) and faiss's Lloyd iterations, capped at
            # the iterations embtree.kmeans needed to converge here: equal work, compare the inertia
            labels = faiss_kmeans(X, int(y.max()) + 1, seed=0, max_iter=faiss_iters)[0]
            seconds = time.perf_counter() - start
            info = (f"{len(np.unique(labels))} non-empty clusters, inertia {inertia_of(X, labels):.7g}, "
                    f"{faiss_iters} iterations")
        elif name == "knn":
            import torch

            from embtree.heads import PARAMS, mine_knn

            torch.set_num_threads(threads)
            X = np.load(workdir / "features.npy", mmap_mode="r")
            state = {"done": 0}

            def progress(done, n):
                state["done"] = done
                if time.perf_counter() - start > knn_budget and done < n:
                    raise _OutOfBudget

            try:
                mine_knn(X, PARAMS["knn"], chunk_mb=PARAMS["knn_chunk_mb"], progress=progress)
                info = f"k={PARAMS['knn']}, all {len(X)} rows"
            except _OutOfBudget:
                el = time.perf_counter() - start
                info = (f"k={PARAMS['knn']}: budget reached after {state['done']} of {len(X)} rows "
                        f"({100 * state['done'] / len(X):.2f} %, {state['done'] / el:.0f} rows/s); "
                        f"whole run extrapolated: {el * len(X) / state['done']:.0f} s")
        elif name == "knn-ivf":
            import torch

            from embtree.faiss_support import import_faiss
            from embtree.heads import PARAMS, ivf_params, knn_recall, mine_knn

            torch.set_num_threads(threads)
            import_faiss().omp_set_num_threads(threads)
            X = np.load(workdir / "features.npy", mmap_mode="r")
            nlist, nprobe = ivf_params(len(X))  # the job's defaults at this size
            nbr = mine_knn(X, PARAMS["knn"], backend="faiss-ivf", chunk_mb=PARAMS["knn_chunk_mb"], nlist=nlist,
                           nprobe=nprobe)
            seconds = time.perf_counter() - start  # the heads_knn job's mining; the recall check is extra
            t = time.perf_counter()
            recall = knn_recall(X, nbr, rows=PARAMS["knn_recall_rows"], chunk_mb=PARAMS["knn_chunk_mb"])
            info = (f"k={PARAMS['knn']}, nlist {nlist}, nprobe {nprobe}: recall@{PARAMS['knn']} "
                    f"{recall['recall']:.4f} on {recall['rows']} rows ({time.perf_counter() - t:.0f} s more)")
        elif name == "l2h":
            from embtree.l2h import l2h

            L = np.load(workdir / "logits.npy", mmap_mode="r")
            Z = l2h(L)
            info = f"{len(Z)} merges"
        else:
            raise ValueError(name)
    if seconds is None:
        seconds = time.perf_counter() - start
    queue.put((name, seconds, peak_mb(), info))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_281_167)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--workdir", default="/tmp/embtree-bench-scale")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per algorithm")
    ap.add_argument("--knn-budget", type=float, default=600.0,
                    help="seconds of exact kNN mining before it stops and extrapolates (hours at full size on 2 cores)")
    ap.add_argument("--faiss-iters", type=int, default=44,
                    help="Lloyd iterations of kmeans-faiss (default: the 44 embtree.kmeans took to converge "
                         "at full size, so both do the same work and the inertia compares)")
    ap.add_argument("--only", nargs="*",
                    default=["caec-euclidean", "caec-manhattan", "caec-canberra", "kmeans", "kmeans-faiss", "l2h", "knn", "knn-ivf"])
    args = ap.parse_args(argv)

    wd = Path(args.workdir)
    t = time.perf_counter()
    build(wd, args.n, args.dim, args.classes)
    gb = args.n * args.dim * 4 / 1e9
    print(f"data: {args.n} x {args.dim} float32 ({gb:.2f} GB per copy), {args.classes} classes, logits "
          f"{args.n * args.classes * 4 / 1e9:.2f} GB; built/checked in {time.perf_counter() - t:.0f} s; "
          f"{args.threads} threads", flush=True)
    print(f"{'algorithm':16s} {'seconds':>9s} {'peak MB':>9s}  {'peak / one copy':>15s}  info", flush=True)
    for name in args.only:
        status, value, wall = run_isolated(_job, (name, str(wd), args.threads, args.knn_budget, args.faiss_iters), args.timeout)
        if status == "timeout":
            print(f"{name:16s} {'>' + str(int(args.timeout)):>9s} {value:9.0f}  timed out (peak so far)", flush=True)
            continue
        if status == "failed":
            print(f"{name:16s} failed (exit {value}) after {wall:.0f} s", flush=True)
            continue
        _, sec, peak, info = value
        ref = (args.n * (args.classes if name == "l2h" else args.dim) * 4) / 1e6
        print(f"{name:16s} {sec:9.1f} {peak:9.0f}  {peak / ref:15.2f}  {info}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
