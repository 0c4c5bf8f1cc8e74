"""GPU check: the CUDA path of embtree (embedding in AMP, kNN mining, heads training) against the
CPU path on the same inputs, with throughput and peak GPU memory.

    PYTHONPATH=src python benchmarks/gpu_check.py [--quick] [--epochs 20] [--heads 4]

Runs on a CUDA machine without a package registry: it imports only torch, torchvision, timm,
numpy, scikit-learn and scipy (through the embtree modules it calls), never Snakemake, open_clip,
umap or dendropy, and reads only files in the working tree (the shipped CIFAR-10 features and
scikit-learn's bundled digits; model weights are random, ``pretrained: false``, since such a
machine may have no internet either; faiss is checked only where it is installed). Without CUDA it
runs the CPU half and says so (exit 0),
which is what the test suite checks.

Checks (each printed as PASS / FAIL with its numbers; the exit status is 1 if any fails):
1. embed: a timm ResNet-18 on the digits images, CUDA with AMP against CPU float32: every row's
   cosine similarity >= 0.99 (AMP computes in float16), images/s on each device;
2. kNN: exact cosine kNN (k = 50) of the shipped CIFAR-10 features on CUDA against CPU: identical
   neighbour lists except where distances tie within float32 rounding; where faiss is installed,
   faiss-flat identical to exact (ties aside) and faiss-ivf's recall@k >= 0.95, on each device;
3. heads: TEMI and SCANv2 trained on CUDA and on CPU from the same kNN and seed: the selected
   head's ACC within 0.5 points (float32 sums in another order give other, equally good runs),
   iterations/s on each device;
and the peak GPU memory of the whole check.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ROOT / "resources" / "examples" / "cifar10_resnet20_features.npz"
ENCODER = {"type": "timm", "model": "resnet18", "pretrained": False, "image_size": 32, "seed": 0,
           "embedding": "pre_logits", "batch_size": 256, "num_workers": 0, "amp": False}


def _report(name, ok, detail):
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    return ok


def check_embed(devices, n_images):
    from embtree.data.datasets import load_dataset
    from embtree.data.extract import encode

    data = load_dataset({"type": "digits", "max_per_class": max(1, n_images // 10), "subsample_seed": 0})
    out = {}
    for dev in devices:
        amp = dev == "cuda"
        t0 = time.perf_counter()
        emb, _, _ = encode(data, {**ENCODER, "amp": amp}, device=dev, progress=False)
        seconds = time.perf_counter() - t0
        out[dev] = emb.features.astype(np.float64)
        print(f"      embed on {dev}{' (AMP)' if amp else ''}: {len(out[dev])} images, {len(out[dev]) / seconds:.0f} images/s")
    if len(devices) < 2:
        return True
    a, b = out["cuda"], out["cpu"]
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return _report("embed CUDA+AMP vs CPU", cos.min() >= 0.99, f"row cosine similarity min {cos.min():.5f}, "
                   f"mean {cos.mean():.5f} over {len(cos)} images")


def _untied_differences(X, nn_a, nn_b, tol=1e-5):
    """Rows whose two neighbour lists differ by more than ties: a neighbour in only one of the lists
    whose cosine similarity is not within ``tol`` of the row's k-th (smallest kept) similarity."""
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    bad = []
    for i in np.flatnonzero((np.sort(nn_a, 1) != np.sort(nn_b, 1)).any(1)):
        only_one = np.setxor1d(nn_a[i], nn_b[i])
        kth = (Xn[nn_a[i]] @ Xn[i]).min()
        if np.any(np.abs(Xn[only_one] @ Xn[i] - kth) > tol):
            bad.append(i)
    return bad


def check_knn(devices, X, k):
    from embtree.heads import mine_knn

    out = {}
    for dev in devices:
        t0 = time.perf_counter()
        out[dev] = mine_knn(X, k, device=dev)
        print(f"      exact kNN on {dev}: {X.shape[0]} x {X.shape[1]}, k={k}, {time.perf_counter() - t0:.2f} s")
    if len(devices) < 2:
        return True, out["cpu"]
    differ = int((np.sort(out["cuda"], 1) != np.sort(out["cpu"], 1)).any(1).sum())
    bad = _untied_differences(X, out["cuda"], out["cpu"])
    return _report("exact kNN CUDA vs CPU", not bad, f"{differ} of {len(X)} rows differ, "
                   f"{differ - len(bad)} of them only by tied neighbours"), out["cpu"]


def check_faiss(devices, X, k, exact):
    """faiss-flat (identical to exact up to ties) and faiss-ivf (recall@k) on each device, where faiss
    is installed: a bare CUDA machine may lack it, then the check says so and passes."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        print("      faiss is not installed here: faiss-flat / faiss-ivf not checked")
        return True
    from embtree.heads import mine_knn
    from embtree.heads.knn import recall_at_k

    ok = True
    for dev in devices:
        for backend in ("faiss-flat", "faiss-ivf"):
            t0 = time.perf_counter()
            found = mine_knn(X, k, backend=backend, device=dev)
            seconds = time.perf_counter() - t0
            recall = recall_at_k(found, exact)
            if backend == "faiss-flat":
                ok &= _report(f"{backend} on {dev} vs exact", not _untied_differences(X, found, exact),
                              f"recall@{k} {recall:.4f}, {seconds:.2f} s")
            else:
                ok &= _report(f"{backend} on {dev}", recall >= 0.95, f"recall@{k} {recall:.4f}, {seconds:.2f} s")
    return ok


def check_heads(devices, X, y, neighbors, epochs, n_heads):
    """``neighbors``: (n, k) kNN indices; the heads use all k."""
    from embtree.heads import predict, train_heads
    from embtree.heads.scores import evaluate, ranked_clusters

    ok = True
    for head in ("temi", "scanv2"):
        acc = {}
        for dev in devices:
            res = train_heads(X, head, n_clusters=10, neighbors=neighbors, device=dev, epochs=epochs,
                              knn=neighbors.shape[1], num_heads=n_heads, warmup_epochs=min(20, epochs // 5), seed=0)
            pred = predict(res["model"], X, selected=res["selected"], params=res["params"])
            acc[dev] = 100 * evaluate(y, ranked_clusters(pred["soft"], 5))["acc"]
            print(f"      {head} on {dev}: ACC {acc[dev]:.2f} %, {res['iterations'] / res['seconds']:.1f} iterations/s "
                  f"({n_heads} heads, {epochs} epochs, batch {res['batch_size']})")
        if len(devices) == 2:
            ok &= _report(f"{head} CUDA vs CPU", abs(acc["cuda"] - acc["cpu"]) <= 0.5,
                          f"ACC {acc['cuda']:.2f} vs {acc['cpu']:.2f} % (difference {acc['cuda'] - acc['cpu']:+.2f})")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (the test suite's CPU-only run)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--heads", type=int, default=4)
    args = ap.parse_args(argv)

    cuda = torch.cuda.is_available()
    devices = ["cuda", "cpu"] if cuda else ["cpu"]
    print(f"torch {torch.__version__}; " + (f"CUDA device: {torch.cuda.get_device_name(0)}" if cuda else
                                            "no CUDA device: running the CPU half only, nothing is compared"))
    with np.load(FEATURES) as z:
        X, y = z["features"].astype(np.float32), z["labels"].astype(np.int64)
    if args.quick:
        X, y = X[:1000], y[:1000]
    ok = check_embed(devices, 100 if args.quick else 1797)
    knn_ok, neighbors = check_knn(devices, X, 10 if args.quick else 50)
    ok &= knn_ok
    ok &= check_faiss(devices, X, neighbors.shape[1], neighbors)
    ok &= check_heads(devices, X, y, neighbors, 2 if args.quick else args.epochs, 2 if args.quick else args.heads)
    if cuda:
        print(f"      peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
