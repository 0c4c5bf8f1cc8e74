"""10,000 classes end to end (issue 28): time and peak memory of embtree's stages on a planted
data set of 1,280,000 x 768 in 10,000 classes, and whether each finishes in 2 hours on 2 cores.

The data are exactly ``planted_tree(depth=4, branching=10, dim=768, samples_per_class=128, seed=0)``
(``planted-tree`` recipe, schema defaults otherwise), written chunk by chunk to a memory-mapped
``features.npy`` (float32; 3.9 GB) with ``labels.npy``, ``means.npy`` (the leaf means) and the
planted Newick in ``--workdir``: the 1.28 M x 768 float64 matrix is never held
(tests/test_benchmarks.py checks the bytes against ``planted_tree``). Each stage then runs in its
own spawned process (``bench_scale.run_isolated``) under ``--timeout`` seconds and an address-space
cap (``RLIMIT_DATA`` = ``--mem-limit-gb``, the issue's 16 GiB per job), and prints its seconds,
peak resident memory (``VmHWM``, mapped file pages touched included) and an info column:

* ``caec-euclidean`` (rule caec_grow): :func:`embtree.caec.grow_clusters`, one metric, on half and
  all of ``--caec-rows`` (a stratified share of every class); cost ~ classes x N x d, so time and
  peak are extrapolated linearly in N from the two.
* ``trees`` (relation_tree + compare_tree): class centroids, UPGMA, and RF / clade recall /
  precision / Deformity Index against the planted tree (clade recall 1 = recovered).
* ``l2h`` (l2h): the logits at 10,000 columns are 1.28 M x 10,000 float32 = 51 GB, often more than
  the disk, so classifier-like logits (``-|x - mu_c|^2 / tau`` + noise, ``tau`` the mean squared
  distance of a sample to its own leaf mean) are written for ``--l2h-rows`` rows only (a stratified
  share of every class); L2H's cost is linear in N at fixed K (every step reads the rows of G*,
  ``O(|D^{G*}| K)``), so time and working memory are extrapolated linearly from half and all of them.
  Where the disk holds all of them (``--l2h-rows 1280000``), L2H runs once at full
  size on the memory map and its peak private memory is sampled (the map's pages are page cache).
  Its tree is compared with the planted one (clade recall / precision, not timed).
* ``kmeans-faiss`` / ``kmeans-embtree`` (heads_kmeans, 10,000 clusters, 10 restarts as the
  baseline): k-means++ seeding timed for ``--kmeans-steps`` steps of the 10 restarts together
  (``2 + ln K`` candidates each) and one Lloyd iteration on ``--kmeans-rows`` rows, scaled to
  ``K - 1`` steps and to N (faiss seeds on a 100,000-row sample at any N; embtree on all rows,
  float64) with ``--kmeans-iters`` iterations per restart assumed.
* ``knn-faiss-ivf`` (heads_knn): :func:`embtree.heads.mine_knn` ``faiss-ivf``, k=50, on
  ``--knn-rows`` rows, recall@50 on 1,000 of them; scaled by the search cost
  ``N^2 nprobe / nlist`` (:func:`embtree.heads.ivf_params` at each size).
* ``heads-temi`` (heads_train): ``--heads-iters`` TEMI iterations (``bench_heads``' batched step,
  the body of ``train_heads``' loop; 10,000 clusters, batch 1024) with ``--heads-measured`` H and
  2H heads beside the job's float32 copy of all features and the neighbour table, extrapolated to
  ``--num-heads`` (the heads are batched: time and per-iteration memory are linear in them), to
  an epoch (N / batch iterations) and to ``--epochs``.

Every estimate is for ``classes x --target-per-class`` samples (1.28 M), whatever was measured;
the summary says per stage whether it finishes in 2 h on 2 cores within 16 GiB, and if not what it
needs. Report only. The full size needs ~4 GB for the features and ~5 GB for the logits subset on
disk; run it once, late, on a quiet machine:

    timeout 36000 .venv/bin/python benchmarks/bench_10k.py --threads 2 > bench_10k.txt 2>&1
    .venv/bin/python benchmarks/bench_10k.py --depth 4 --branching 10 --samples-per-class 8 --threads 1 \\
        --l2h-rows 40000 --knn-rows 40000 --heads-measured 2 --timeout 600 --mem-limit-gb 12 \\
        --workdir /tmp/bench10k-medium       # medium (~7 min): 80,000 x 768, 10,000 classes
    .venv/bin/python benchmarks/bench_10k.py --depth 2 --branching 5 --dim 16 --samples-per-class 20 \\
        --target-per-class 20 --workdir /tmp/toy                  # toy: seconds
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import peak_mb, run_isolated, status_mb  # noqa: E402

LIMIT_S = 7200  # the rule: a stage finishes in 2 hours on 2 cores ...
LIMIT_MB = 16 * 1024  # ... and no job above 16 GiB
RULES = {"caec-euclidean": "caec_grow", "trees": "relation_tree + compare_tree", "l2h": "l2h",
         "kmeans-faiss": "heads_kmeans", "kmeans-embtree": "heads_kmeans", "knn-faiss-ivf": "heads_knn",
         "heads-temi": "heads_train"}
FAISS_INIT_ROWS = 100_000  # faiss_kmeans' init_max_samples: its k-means++ runs on this many rows at any N
KNN = 50


# ---------------------------------------------------------------------------- data


def build(workdir: Path, depth, branching, dim, samples_per_class, step_scale=4.0, decay=0.6, noise=1.0, seed=0,
          chunk=65536):
    """Write ``planted_tree(...)``'s features (float32 memory map), labels, leaf means and Newick
    to ``workdir``, ``chunk`` rows at a time, drawing the random numbers in planted_tree's order."""
    from embtree.data import planted

    want = {"depth": depth, "branching": branching, "dim": dim, "samples_per_class": samples_per_class,
            "step_scale": step_scale, "decay": decay, "noise": noise, "seed": seed}
    meta = workdir / "meta.json"
    if meta.exists() and json.loads(meta.read_text()) == want:
        return
    workdir.mkdir(parents=True, exist_ok=True)
    meta.unlink(missing_ok=True)
    planted._check_planted(depth, branching, dim, samples_per_class, step_scale, decay, noise)
    rng = np.random.default_rng(seed)
    means, names = planted._leaf_means(rng, depth, branching, dim, step_scale, decay)
    labels = np.repeat(np.arange(len(means)), samples_per_class)
    X = np.lib.format.open_memmap(workdir / "features.npy", mode="w+", dtype=np.float32, shape=(len(labels), dim))
    for s in range(0, len(labels), chunk):  # the same normal stream as planted_tree's one draw
        e = min(len(labels), s + chunk)
        X[s:e] = (means[labels[s:e]] + rng.normal(0.0, noise, size=(e - s, dim))).astype(np.float32)
    X.flush()
    del X
    np.save(workdir / "labels.npy", labels.astype(np.int64))
    np.save(workdir / "means.npy", means)
    np.save(workdir / "class_names.npy", names)
    (workdir / "planted.nwk").write_text(planted._newick(depth, branching))
    (workdir / "logits_meta.json").unlink(missing_ok=True)
    meta.write_text(json.dumps(want))


def stratified_rows(n_classes, per_class, take):
    """Rows of the first ``take`` samples of every class (class-major layout), sorted."""
    take = max(1, min(int(take), per_class))
    return (np.arange(n_classes)[:, None] * per_class + np.arange(take)).ravel()


def build_logits(workdir: Path, rows_wanted, noise=0.1, seed=1, chunk=4096):
    """Classifier-like logits (rows, K) float32 for a stratified row subset: ``-|x - mu_c|^2 / tau``
    plus ``N(0, noise^2)``, ``tau`` the mean squared distance of a sample to its own leaf mean (so
    siblings score a few units below the own class, cousins further: structure for L2H)."""
    y = np.load(workdir / "labels.npy")
    K = int(y.max()) + 1
    per = len(y) // K
    rows = stratified_rows(K, per, max(1, rows_wanted // K))
    want = {"rows": len(rows), "noise": noise, "seed": seed}
    meta = workdir / "logits_meta.json"
    if meta.exists() and json.loads(meta.read_text()) == want:
        return
    old = workdir / "logits.npy"
    free = shutil.disk_usage(workdir).free + (old.stat().st_size if old.exists() else 0)
    size = len(rows) * K * 4  # float32
    if size + 2**30 > free:  # a GiB to spare
        raise SystemExit(f"bench_10k: the logits of --l2h-rows {len(rows):,} are {size / 1e9:.1f} GB, but "
                         f"{workdir} has {free / 1e9:.1f} GB free: lower --l2h-rows")
    meta.unlink(missing_ok=True)
    X = np.load(workdir / "features.npy", mmap_mode="r")
    M = np.load(workdir / "means.npy").astype(np.float32)
    m_sq = np.einsum("ij,ij->i", M, M)
    rng = np.random.default_rng(seed)
    L = np.lib.format.open_memmap(workdir / "logits.npy", mode="w+", dtype=np.float32, shape=(len(rows), K))
    tau = None
    for s in range(0, len(rows), chunk):
        x = np.asarray(X[rows[s:s + chunk]], dtype=np.float32)
        sq = np.einsum("ij,ij->i", x, x)[:, None] - 2 * (x @ M.T) + m_sq
        if tau is None:
            tau = float(sq[np.arange(len(x)), y[rows[s:s + chunk]]].mean())
        L[s:s + len(x)] = -sq / tau + rng.normal(0.0, noise, size=sq.shape).astype(np.float32)
    L.flush()
    del L
    np.save(workdir / "logit_rows.npy", rows)
    meta.write_text(json.dumps(want))


# ---------------------------------------------------------------------------- stages


def _rss_mb():
    return status_mb("VmRSS") or 0.0


def _reset_peak():
    """Restart VmHWM from the current RSS (Linux >= 4.0), so a second measurement has its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class _AnonPeak:
    """Peak private memory (``RssAnon``) of this process while the ``with`` block runs, sampled by a
    thread every ``every`` seconds: a memory map's resident pages (page cache, which the kernel
    drops under pressure) inflate ``VmHWM`` up to the machine's RAM and are left out here."""

    def __init__(self, every=0.2):
        self.every, self.peak_mb = every, 0.0
        self._stop = self._thread = None

    def _poll(self):
        while not self._stop.wait(self.every):
            self.peak_mb = max(self.peak_mb, status_mb("RssAnon") or 0.0)

    def __enter__(self):
        self.peak_mb = status_mb("RssAnon") or 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, status_mb("RssAnon") or 0.0)


def _two_sizes(run, sizes):
    """``[(size, seconds, peak MB)]`` of ``run(size)`` for each size, the peak restarted before each."""
    out = []
    for size in sizes:
        _reset_peak()
        t = time.perf_counter()
        run(size)
        out.append((size, time.perf_counter() - t, peak_mb()))
    return out


def _extrapolate(points, target, col):
    """Column ``col`` of the last two ``(size, seconds, peak)`` points, linear in size, at ``target``
    (fixed costs and per-size costs apart); one point: proportional to size."""
    (n1, *v1), (n2, *v2) = ([points[0]] + points)[-2:]
    if n2 == n1:
        return v2[col] * target / n2
    slope = max(0.0, (v2[col] - v1[col]) / (n2 - n1))  # measurement noise never makes it shrink
    return v2[col] + slope * (target - n2)


def _subset(X, y, rows_wanted):
    """(features, labels, n) of a stratified share of ``rows_wanted`` rows (all: the memory map)."""
    K = int(y.max()) + 1
    if rows_wanted is None or rows_wanted >= len(y):
        return X, y, len(y)
    rows = stratified_rows(K, len(y) // K, max(1, rows_wanted // K))
    return np.asarray(X[rows]), y[rows], len(rows)


def _linear_mem(base, peak, scale):
    """Peak MB extrapolated by scaling what the stage added above the bare process."""
    return base + max(0.0, peak - base) * scale


def stage_caec(X, y, c, out):
    from embtree import caec

    K = int(y.max()) + 1
    per = len(y) // K
    take = per if c["caec_rows"] is None else max(1, min(per, c["caec_rows"] // K))
    res = {}

    def run(t):  # t samples of every class: time and memory ~ a + b N (distances classes x N x d)
        rows = stratified_rows(K, per, t)
        Xs = X if t == per else np.asarray(X[rows])
        res["r"] = caec.grow_clusters(Xs, y[rows], metric="euclidean", gamma=0.3, step="auto")

    out["base_mb"] = _rss_mb()
    pts = _two_sizes(run, sorted({max(1, take // 2), take}))
    pts = [(K * t, s, p) for t, s, p in pts]
    r = res["r"]
    out["seconds"], out["peak_mb"] = pts[-1][1], pts[-1][2]
    out["est_s"] = _extrapolate(pts, c["n_target"], 0)
    out["est_mb"] = _extrapolate(pts, c["n_target"], 1)
    # Below embtree.distances._B64_MAX_BYTES of float64 the distance kernels hold a float64 copy of X
    # (faster); above it they convert X in chunks of that size. Measured points below it put that copy
    # in the slope: take it out of the full-size estimate and add one chunk back.
    from embtree.distances import _B64_MAX_BYTES

    d = X.shape[1]
    copy_note = ""
    if pts[-1][0] * d * 8 <= _B64_MAX_BYTES < c["n_target"] * d * 8:
        out["est_mb"] -= (c["n_target"] * d * 8 - _B64_MAX_BYTES) / 2**20
        copy_note = (f"; the measured sizes hold a float64 copy of X (below {_B64_MAX_BYTES / 2**20:.0f} MB), "
                     "full size converts it in chunks: estimate corrected")
    out["info"] = (f"{' and '.join(f'{n:,}' for n, _, _ in pts)} rows ({', '.join(f'{s:.1f}' for _, s, _ in pts)} s; "
                   f"{', '.join(f'{p:.0f}' for *_, p in pts)} MB), {len(r.classes):,} classes: step {r.step:.4g}, "
                   f"mean coverage {r.coverage.mean():.3f}, mean members {np.mean([len(m) for m in r.members]):.1f}; "
                   f"linear in N{copy_note}")


def stage_trees(X, y, c, out):
    from embtree.centroids import class_centroids
    from embtree.hierarchy.compare import compare_trees
    from embtree.relation_trees import upgma

    wd = Path(c["workdir"])
    names = list(np.load(wd / "class_names.npy"))
    ref = (wd / "planted.nwk").read_text()
    out["base_mb"] = _rss_mb()
    t0 = time.perf_counter()
    G = class_centroids(X, y, len(names))
    t1 = time.perf_counter()
    tree = upgma(G, names)
    t2 = time.perf_counter()
    cmp = compare_trees(tree, ref)
    t3 = time.perf_counter()
    out["seconds"] = t3 - t0
    out["est_s"] = (t1 - t0) * c["n_target"] / len(y) + (t3 - t1)  # only the centroids see N
    out["scale_mem"] = 1.0  # centroids read the map in class blocks; UPGMA / compare are K-sized
    out["mem_note"] = f"+ the {c['n_target'] * X.shape[1] * 4 / 1e9:.1f} GB map's pages"
    out["info"] = (f"centroids {t1 - t0:.1f} s, UPGMA {t2 - t1:.1f} s, compare_trees {t3 - t2:.1f} s: clade recall "
                   f"{cmp['clade_recall']:.4f}, precision {cmp['clade_precision']:.4f}, RF {cmp['rf']:.0f}, "
                   f"DI {cmp['di']:.4g}")


def _l2h_versus_planted(Z, wd):
    """Clade recall / precision of L2H's tree (linkage ``Z``, cluster c = class c) against the planted tree."""
    from embtree.hierarchy.compare import compare_trees
    from embtree.hierarchy.newick import linkage_to_newick

    names = [str(n) for n in np.load(wd / "class_names.npy")]
    t = time.perf_counter()
    cmp = compare_trees(linkage_to_newick(Z, names), (wd / "planted.nwk").read_text())
    return (f"vs the planted tree: clade recall {cmp['clade_recall']:.4f}, precision {cmp['clade_precision']:.4f} "
            f"({time.perf_counter() - t:.0f} s, not timed)")


def stage_l2h(X, y, c, out):
    from embtree.l2h import l2h

    wd = Path(c["workdir"])
    L = np.load(wd / "logits.npy", mmap_mode="r")
    n, K = L.shape
    take = n // K
    res = {}

    def run(t):  # the first t logit rows of every class; L2H's time is linear in N at fixed K
        res["Z"] = l2h(L if t == take else np.asarray(L[stratified_rows(K, take, t)]))

    out["base_mb"] = _rss_mb()
    if n >= c["n_target"]:  # all the logits on disk: measured at full size, on the map (no half-size copy)
        with _AnonPeak() as anon:
            pts = _two_sizes(run, [take])
        out["seconds"], out["peak_mb"] = pts[-1][1], pts[-1][2]
        out["est_s"], out["est_mb"] = out["seconds"], anon.peak_mb
        out["info"] = (f"{n:,} rows x {K:,} logits ({n * K * 4 / 1e9:.1f} GB float32, memory-mapped): "
                       f"{len(res['Z'])} merges, {_l2h_versus_planted(res['Z'], wd)}; measured at full size; est. "
                       f"MB: the peak private (anonymous) memory, sampled every {anon.every} s; peak MB counts the "
                       "map's resident pages")
        return
    pts = _two_sizes(run, sorted({max(1, take // 2), take}))  # the smaller on a copy of its rows
    pts = [(K * t, s, p) for t, s, p in pts]
    out["seconds"], out["peak_mb"] = pts[-1][1], pts[-1][2]
    out["est_s"] = _extrapolate(pts, c["n_target"], 0)
    # memory: the logits' map pages (n K 4 bytes, read once all) apart, L2H holds 8,192-row float64
    # blocks of K columns (fixed) and a few (N,) arrays: assignment, confidence, order, row lists
    work = pts[-1][2] - n * K * 4 / 2**20
    out["est_mb"] = work + (c["n_target"] - n) * 40 / 2**20
    disk = c["n_target"] * K * 4 / 1e9
    if disk > c["disk_free_gb"]:
        out["needs"] = [f"disk: the full logits are {disk:.0f} GB float32 ({disk / 2:.0f} GB float16) > the "
                        f"{c['disk_free_gb']:.0f} GB free"]
    out["info"] = (f"{' and '.join(f'{m:,}' for m, _, _ in pts)} rows x {K:,} logits ({n * K * 4 / 1e9:.1f} GB; "
                   f"{', '.join(f'{s:.1f}' for _, s, _ in pts)} s): {len(res['Z'])} merges, "
                   f"{_l2h_versus_planted(res['Z'], wd)}; time linear in N at "
                   f"fixed K; working memory beside the logits {work:.0f} MB + 40 B/row; est. MB excludes the "
                   f"{disk:.0f} GB of logits (a map's pages)")


def _kmeans_rows(X, y, c, normalise_dtype):
    """Normalised rows of the k-means measurement (a stratified share), as faiss / embtree copy them."""
    Xs, ys, m = _subset(X, y, c["kmeans_rows"])
    Y = np.array(Xs, dtype=normalise_dtype)  # a copy (the memory map is read-only)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return Y, ys, m


def _seeding_per_step(sub, K, steps, n_init):
    """Seconds per k-means++ step of ``n_init`` restarts seeded together at ``K`` clusters."""
    from embtree import seeding

    trials = 2 + int(np.log(K))  # the candidates per step at K (plusplus_restarts' choice)
    x_sq = np.einsum("ij,ij->i", sub, sub)
    per_restart = trials * len(sub) * 8
    block = max(1, seeding._BLOCK_BYTES // per_restart)  # restarts per pass over the rows
    steps = max(2, min(steps, len(sub)))
    t = time.perf_counter()
    for s in range(0, n_init, block):  # the private kernel: K - 1 steps would take hours
        seeding._plusplus_block(sub, x_sq, steps, list(range(s, min(n_init, s + block))), trials)
    return (time.perf_counter() - t) / steps, trials


def stage_kmeans_faiss(X, y, c, out):
    from embtree.faiss_support import import_faiss

    faiss = import_faiss()
    faiss.omp_set_num_threads(c["threads"])
    K, N, n_init = int(y.max()) + 1, c["n_target"], c["kmeans_n_init"]
    out["base_mb"] = _rss_mb()
    t0 = time.perf_counter()
    Y, ys, m = _kmeans_rows(X, y, c, np.float32)
    init = min(m, FAISS_INIT_ROWS)
    per_step, trials = _seeding_per_step(Y[:init].astype(np.float64), K, c["kmeans_steps"], n_init)
    t1 = time.perf_counter()
    first = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])[:K]  # one row per class: K distinct starts
    km = faiss.Kmeans(Y.shape[1], K, niter=1, spherical=True, seed=0, max_points_per_centroid=-(-m // K),
                      min_points_per_centroid=1)
    km.train(Y, init_centroids=np.ascontiguousarray(Y[first]))
    per_iter = time.perf_counter() - t1
    out["seconds"] = time.perf_counter() - t0
    seed_full = per_step * min(N, FAISS_INIT_ROWS) / init * (K - 1)
    iter_full = per_iter * N / m
    out["est_s"] = seed_full + n_init * c["kmeans_iters"] * iter_full
    # the float32 copy (N d), the float64 seeding sample and the (rows, trials) distances
    d = Y.shape[1]
    out["est_mb"] = out["base_mb"] + (N * d * 4 + FAISS_INIT_ROWS * d * 8 * 2 + n_init * trials * FAISS_INIT_ROWS * 8
                                      + 2 * K * d * 8) / 2**20
    flop = 2 * N * K * d
    out["needs"] = [f"a GPU (paper 002: faiss k-means on one A100; one Lloyd iteration is {flop:.1e} flop)"]
    out["info"] = (f"{m:,} rows: k-means++ {per_step:.3f} s/step ({n_init} restarts x {trials} candidates on "
                   f"{init:,} rows) -> {seed_full:,.0f} s for {K - 1:,} steps; one Lloyd iteration {per_iter:.1f} s -> "
                   f"{iter_full:,.0f} s at N; estimate = seeding + {n_init} restarts x {c['kmeans_iters']} iterations")


def stage_kmeans_embtree(X, y, c, out):
    from embtree import cosine_kmeans

    K, N, n_init = int(y.max()) + 1, c["n_target"], c["kmeans_n_init"]
    out["base_mb"] = _rss_mb()
    t0 = time.perf_counter()
    Y, ys, m = _kmeans_rows(X, y, c, np.float64)
    per_step, trials = _seeding_per_step(Y, K, c["kmeans_steps"], n_init)
    t1 = time.perf_counter()
    first = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])[:K]
    cosine_kmeans._lloyd(Y, Y[first], 1, 65536)  # one assignment + update pass (the private kernel)
    per_iter = time.perf_counter() - t1
    out["seconds"] = time.perf_counter() - t0
    import inspect

    # cosine_kmeans seeds on a subsample of init_max_samples rows above it (its default)
    seed_rows = min(N, inspect.signature(cosine_kmeans.cosine_kmeans).parameters["init_max_samples"].default)
    seed_full = per_step * seed_rows / m * (K - 1)
    iter_full = per_iter * N / m
    out["est_s"] = seed_full + n_init * c["kmeans_iters"] * iter_full
    d = Y.shape[1]
    # X.astype(float64) and its normalised copy coexist while normalising; then the normalised copy
    # with the seeding's candidate distances, or with Lloyd's similarity block (cosine_kmeans bounds it
    # at _BLOCK_BYTES); plus the features map's pages read once
    block = min(seeding_block_bytes(), n_init * trials * seed_rows * 8)
    lloyd = cosine_kmeans._rows_per_block(65536, K) * K * 8
    out["est_mb"] = out["base_mb"] + (N * d * 4 + max(2 * N * d * 8, N * d * 8 + max(block, lloyd))) / 2**20
    out["needs"] = ["heads.kmeans_backend: faiss (float32) and a GPU"]
    out["info"] = (f"{m:,} rows: k-means++ {per_step:.3f} s/step on {m:,} rows -> {seed_full:,.0f} s for {K - 1:,} "
                   f"steps on {seed_rows:,} rows; one Lloyd iteration {per_iter:.1f} s -> {iter_full:,.0f} s at N; "
                   f"memory: float64 copies of N x d and a {cosine_kmeans._rows_per_block(65536, K):,} x {K:,} "
                   f"float64 similarity block")


def seeding_block_bytes():
    from embtree import seeding

    return seeding._BLOCK_BYTES


def stage_knn(X, y, c, out):
    import torch

    from embtree.faiss_support import import_faiss
    from embtree.heads.knn import ivf_params, knn_recall, mine_knn

    import_faiss().omp_set_num_threads(c["threads"])
    torch.set_num_threads(c["threads"])
    Xs, ys, m = _subset(X, y, c["knn_rows"])
    out["base_mb"] = _rss_mb()
    t = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # faiss's big-batch search prints its phases
        nb = mine_knn(Xs, KNN, backend="faiss-ivf")
    out["seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    rec = knn_recall(Xs, nb, rows=1000)
    t_rec = time.perf_counter() - t
    N = c["n_target"]
    (nl, npb), (nl_t, npb_t) = ivf_params(m), ivf_params(N)
    scale = (N**2 * npb_t / nl_t) / (m**2 * npb / nl)  # rows scanned: N queries x N nprobe / nlist
    out["est_s"] = out["seconds"] * scale + t_rec
    out["scale_mem"] = N / m  # the index and big-batch search's normalised copy: N d float32 each
    out["needs"] = ["a GPU (faiss on CUDA) or more cores"]
    out["info"] = (f"{m:,} rows, nlist {nl} nprobe {npb}: recall@{KNN} {rec['recall']:.4f} (1,000 rows, {t_rec:.1f} s), "
                   f"same-class neighbours {(ys[nb] == ys[:, None]).mean():.3f}; at N nlist {nl_t} nprobe {npb_t}: "
                   f"search cost x{scale:.0f}")


def stage_heads(X, y, c, out):
    import torch

    import bench_heads
    from embtree.runtime import reuse_freed_memory

    reuse_freed_memory()  # as the heads rule
    torch.set_num_threads(c["threads"])
    torch.manual_seed(0)
    K, N, B = int(y.max()) + 1, c["n_target"], c["batch"]
    H, H_t = c["heads_measured"], c["num_heads"]
    out["base_mb"] = _rss_mb()
    Xt = torch.from_numpy(np.array(X, dtype=np.float32))  # the job's copy of all features (_prepare)
    n, d = Xt.shape
    rng = np.random.default_rng(0)
    nbr = torch.from_numpy(rng.integers(n, size=(n, KNN)))  # neighbours: only their count matters for time
    gen = torch.Generator().manual_seed(0)
    timing = {}

    def run(h):  # h heads: batched, so time and per-iteration memory are ~ a + b h
        st = bench_heads.batched_setup(d, K, h)

        def step():
            idx = torch.randint(n, (B,), generator=gen)
            partner = nbr[idx, torch.randint(KNN, (B,), generator=gen)]
            bench_heads.batched_step(st, torch.cat([Xt[idx], Xt[partner]]), B, h, K)

        timing[h] = bench_heads.time_it(step, c["heads_iters"])

    t0 = time.perf_counter()
    pts = _two_sizes(run, sorted({H, 2 * H}))  # smaller first: the heap it keeps is reused by the larger
    out["seconds"] = time.perf_counter() - t0
    pts = [(h, timing[h], p) for h, _, p in pts]
    per_it = _extrapolate(pts, H_t, 0)
    iters = N // B
    epoch = per_it * iters
    out["est_s"] = epoch * c["epochs"]
    out["est_mb"] = _extrapolate(pts, H_t, 1) + (N - n) * (4 * d + 8 * KNN) / 2**20  # + the rest of X and the kNN
    out["needs"] = [f"a GPU (paper 002 trains on one A100): {epoch / 3600:.1f} h per epoch here"]
    out["info"] = (f"{' and '.join(str(h) for h, *_ in pts)} heads, batch {B}, {K:,} clusters: "
                   f"{', '.join(f'{s:.2f}' for _, s, _ in pts)} s/iteration (median of {c['heads_iters']}), "
                   f"peaks {', '.join(f'{p:.0f}' for *_, p in pts)} MB -> {H_t} heads {per_it:.1f} s/iteration x "
                   f"{iters:,} iterations = {epoch:,.0f} s per epoch, x {c['epochs']} epochs")


STAGES = {"caec-euclidean": stage_caec, "trees": stage_trees, "l2h": stage_l2h, "kmeans-faiss": stage_kmeans_faiss,
          "kmeans-embtree": stage_kmeans_embtree, "knn-faiss-ivf": stage_knn, "heads-temi": stage_heads}


def _job(name, cfg, queue):
    os.environ["OMP_NUM_THREADS"] = str(cfg["threads"])
    if cfg["mem_limit_gb"]:  # private memory above the cap fails this stage, not the machine
        lim = int(cfg["mem_limit_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_DATA, (lim, lim))
    from threadpoolctl import threadpool_limits

    from embtree.distances import set_threads

    set_threads(cfg["threads"])
    wd = Path(cfg["workdir"])
    X = np.load(wd / "features.npy", mmap_mode="r")
    y = np.load(wd / "labels.npy")
    out = {"needs": []}
    with threadpool_limits(cfg["threads"]):
        STAGES[name](X, y, cfg, out)
    out.setdefault("peak_mb", peak_mb())
    if "est_mb" not in out:
        out["est_mb"] = _linear_mem(out["base_mb"], out["peak_mb"], out.get("scale_mem", 1.0))
    queue.put(out)


# ---------------------------------------------------------------------------- report


def _verdict(name, r, threads):
    """("yes" / "no", what it needs) against 2 h on 2 cores within 16 GiB; ``est_s`` was measured
    on ``threads`` threads and is taken to scale linearly with cores (GEMM-bound stages)."""
    needs = list(r.get("needs", []))
    cores = math.ceil(threads * r["est_s"] / LIMIT_S) if math.isfinite(r["est_s"]) else math.inf
    fits_time, fits_mem = cores <= 2, r["est_mb"] <= LIMIT_MB
    disk = any(n.startswith("disk") for n in needs)
    out = []
    if not fits_time:
        out.append(f"{threads * r['est_s'] / 2 / LIMIT_S:.1f}x the 2 h on 2 cores: ~{cores:,} cores at linear "
                   "scaling, or " + "; ".join(n for n in needs if not n.startswith("disk")))
    if not fits_mem:
        out.append(f"memory ~{r['est_mb'] / 1024:.1f} GiB > 16 GiB")
    if disk:
        out += [n for n in needs if n.startswith("disk")]
    return ("yes" if fits_time and fits_mem and not disk else "no"), "; ".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--samples-per-class", type=int, default=128)
    ap.add_argument("--target-per-class", type=int, default=128,
                    help="samples per class of the full size every estimate is for (classes x this)")
    ap.add_argument("--workdir", default="/tmp/embtree-bench-10k")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=LIMIT_S, help="seconds per stage")
    ap.add_argument("--mem-limit-gb", type=float, default=16.0, help="RLIMIT_DATA per stage (0: none)")
    ap.add_argument("--caec-rows", type=int, default=None, help="stratified rows CAEC grows on (default all)")
    ap.add_argument("--l2h-rows", type=int, default=128_000, help="rows with logits (10,000 columns)")
    ap.add_argument("--kmeans-rows", type=int, default=FAISS_INIT_ROWS, help="rows of the k-means measurement")
    ap.add_argument("--kmeans-steps", type=int, default=20, help="k-means++ steps timed")
    ap.add_argument("--kmeans-n-init", type=int, default=10, help="restarts (the heads' baseline: 10)")
    ap.add_argument("--kmeans-iters", type=int, default=44,
                    help="Lloyd iterations per restart assumed (k-means at 1.28 M x 1,000 took 44, bench_scale)")
    ap.add_argument("--knn-rows", type=int, default=None, help="rows the kNN is mined on (default all)")
    ap.add_argument("--heads-iters", type=int, default=3, help="TEMI iterations timed (after one warm-up)")
    ap.add_argument("--heads-measured", type=int, default=16, help="H: H and 2H heads are timed")
    ap.add_argument("--num-heads", type=int, default=16, help="heads of the estimate (schema default)")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--disk-free-gb", type=float, default=20.0, help="free disk the full-size files are held to")
    ap.add_argument("--only", nargs="*", default=list(STAGES), choices=list(STAGES))
    args = ap.parse_args(argv)

    wd = Path(args.workdir)
    t = time.perf_counter()
    build(wd, args.depth, args.branching, args.dim, args.samples_per_class)
    K = args.branching**args.depth
    N = K * args.samples_per_class
    if "l2h" in args.only:
        build_logits(wd, min(args.l2h_rows, N))
    cfg = {k: getattr(args, k) for k in ("threads", "caec_rows", "kmeans_rows", "kmeans_steps", "kmeans_n_init",
                                         "kmeans_iters", "knn_rows", "heads_iters", "heads_measured", "num_heads",
                                         "batch", "epochs", "mem_limit_gb", "disk_free_gb")}
    cfg.update(workdir=str(wd), n_target=K * args.target_per_class)
    print(f"data: planted tree depth {args.depth} x branching {args.branching}: {N:,} x {args.dim} float32 "
          f"({N * args.dim * 4 / 1e9:.2f} GB), {K:,} classes; built/checked in {time.perf_counter() - t:.0f} s; "
          f"{args.threads} thread(s); estimates for N = {cfg['n_target']:,}; limits {LIMIT_S} s, 16 GiB", flush=True)
    print(f"{'stage':15s} {'seconds':>9s} {'peak MB':>9s}  info", flush=True)
    results = {}
    for name in args.only:
        status, value, wall = run_isolated(_job, (name, cfg), args.timeout)
        if status == "timeout":
            print(f"{name:15s} {'>' + str(int(args.timeout)):>9s} {value:9.0f}  timed out (peak so far)", flush=True)
            results[name] = {"seconds": math.inf, "peak_mb": value, "est_s": math.inf, "est_mb": value}
            continue
        if status == "failed":
            print(f"{name:15s} failed (exit {value}) after {wall:.0f} s", flush=True)
            continue
        results[name] = value
        print(f"{name:15s} {value['seconds']:9.1f} {value['peak_mb']:9.0f}  {value['info']}", flush=True)

    print(f"\nsummary (estimates for {cfg['n_target']:,} x {args.dim}, {K:,} classes, measured on {args.threads} "
          f"thread(s); '<=2h,16G?' on 2 cores, time linear in cores):")
    print(f"{'stage':15s} {'rule':28s} {'seconds':>9s} {'peak MB':>9s} {'est. s':>11s} {'est. MB':>9s}  "
          f"{'<=2h,16G?':9s}  needs")
    for name, r in results.items():
        ok, needs = _verdict(name, r, args.threads)
        print(f"{name:15s} {RULES[name]:28s} {r['seconds']:9.1f} {r['peak_mb']:9.0f} {r['est_s']:11,.0f} "
              f"{r['est_mb']:9.0f}  {ok:9s}  {needs}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
