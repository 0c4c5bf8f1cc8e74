"""TEMI / SCANv2 / cosine k-means on the shipped CIFAR-10 ResNet-20 features at the
official implementation's CIFAR-10 settings (its README command), with the accuracy
curve every ``--eval-every`` epochs (head chosen by that epoch's lowest loss).

    PYTHONPATH=src python benchmarks/heads_cifar10.py temi --epochs 200 --eval-every 20
    PYTHONPATH=src python benchmarks/heads_cifar10.py scanv2 --precision bfloat16
    PYTHONPATH=src python benchmarks/heads_cifar10.py kmeans

Official numbers (data README, official code at commit c6a81a6): TEMI 62.86 / 55.11 / 46.53,
SCAN 82.56 / 67.52 / 66.00, k-means 82.20 (raw) / 82.53 (L2) ACC / NMI / ARI %.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from embtree import heads, metrics

FEATURES = Path(__file__).resolve().parents[1] / "resources/examples/cifar10_resnet20_features.npz"


def scores(y, pred):
    s = metrics.flat_scores(y, pred)
    return {k: round(100 * s[k], 2) for k in ("acc", "nmi", "ari")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method", choices=["temi", "scanv2", "kmeans"])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from embtree.runtime import reuse_freed_memory

    reuse_freed_memory()  # as the heads rule does
    torch.set_num_threads(args.threads)
    with np.load(FEATURES) as d:
        X, y = d["features"], d["labels"]
    if args.method == "kmeans":
        from embtree import flat

        for name in ("kmeans", "kmeans-cosine"):
            kw = {"n_init": 10} if name == "kmeans" else {}
            pred = flat.cluster(X, name, n_clusters=10, seed=args.seed, **kw)
            print(name, scores(y, pred), flush=True)
        return

    def progress(epoch, losses, teacher):
        if (epoch + 1) % args.eval_every == 0 or epoch + 1 == args.epochs:
            sel = int(np.argmin(losses))
            pr = heads.predict(teacher, X, selected=sel)
            accs = [metrics.cluster_accuracy(y, lab) for lab in pr["all_labels"]]
            print(f"epoch {epoch + 1}: selected head {sel}, {scores(y, pr['labels'])}, "
                  f"ACC range over heads {100 * min(accs):.1f}-{100 * max(accs):.1f}, "
                  f"loss {losses.mean():.4f}, {time.perf_counter() - t0:.0f} s", flush=True)

    t0 = time.perf_counter()
    r = heads.train_heads(X, args.method, n_clusters=10, epochs=args.epochs, seed=args.seed, progress=progress,
                          precision=args.precision)
    print(f"{args.method}: {r['iterations']} iterations, {r['seconds'] / r['iterations']:.3f} s/iteration "
          f"({args.threads} thread(s), {args.precision})", flush=True)


if __name__ == "__main__":
    main()
