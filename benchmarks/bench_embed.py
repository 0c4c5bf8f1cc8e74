"""Embedding throughput: images/s and the share of the time in the forward pass.

digits (8x8) upscaled to ``--image-size`` through a random-init timm ResNet-18 on the CPU
(no download), for each ``--workers`` value: the DataLoader must keep the model busy
(forward share >= 90 %). Report only; timings are noisy on a shared machine.

    .venv/bin/python benchmarks/bench_embed.py                       # 64 and 224 px, 0 and 2 workers
    .venv/bin/python benchmarks/bench_embed.py --per-class 5 --sizes 32 --model test_resnet  # toy
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from embtree.data.datasets import load_dataset
from embtree.data.extract import encode


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--per-class", type=int, default=30, help="digits per class (10 classes)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 224])
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the rule's threads)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    data = load_dataset({"type": "digits", "max_per_class": args.per_class})
    print(f"digits: {len(data)} images; {args.model} random init on cpu, {args.threads} torch threads\n")
    print(f"{'size':>5} {'workers':>7} {'images/s':>9} {'forward %':>9}")
    with tempfile.TemporaryDirectory() as cache:
        for size in args.sizes:
            spec = {"type": "timm", "model": args.model, "pretrained": False, "image_size": size}
            encode(data.subset(range(args.batch_size)), spec, cache_dir=cache, num_workers=0,
                   batch_size=args.batch_size, progress=False)  # warm-up: model build, first-call costs
            for w in args.workers:
                _, _, st = encode(data, spec, cache_dir=cache, num_workers=w, batch_size=args.batch_size,
                                  progress=False)
                print(f"{size:>5} {w:>7} {st['images_per_second']:>9.1f} {100 * st['forward_share']:>9.1f}")


if __name__ == "__main__":
    main()
