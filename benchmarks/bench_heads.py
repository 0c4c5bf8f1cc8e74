"""Benchmark: one TEMI training iteration of embtree.heads (all heads batched) against a
per-head loop in the style of the official code, and the ImageNet-val-scale epoch.

    .venv/bin/python benchmarks/bench_heads.py [--threads 1] [--reps 5]
        [--large 50000x768x1000] [--large-iters 3] [--skip-large]

1. Per-iteration time at the official implementation's CIFAR-10 settings (batch 1024,
   both views = 2048 rows, 16 heads, 64-d features, 10 clusters, hidden 512, bottleneck
   256): embtree's batched heads (float32, and bfloat16 hidden layers) and a loop over 16
   ``nn.Sequential`` heads with ``weight_norm`` and a per-head loss, the structure of the
   official code (HHU-MMBS/TEMI-official-BMVC2023, without its data loader), timed
   interleaved in one process. Printed: seconds, the ratio to the loop, and the ratio to the
   official code's measured ~1.06 s/iteration on this machine (data/README.md; a ratio against
   another day's load, so indicative only).
2. ``--large`` N x d x C (default 50,000 x 768 x 1,000): the per-epoch time of training
   (``--large-iters`` iterations timed, scaled to N / batch iterations) and the kNN
   mining time, with the peak resident memory of the process.
"""

import argparse
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

from embtree import heads

OFFICIAL_S_PER_IT = 1.06


def loop_heads(d, C, H, hidden=512, bottleneck=256):
    """Heads in the style of the official code: an nn.ModuleList of DINO-like MLPs with a weight-normed last layer."""
    mods = []
    for _ in range(H):
        mlp = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, bottleneck))
        last = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(bottleneck, C, bias=False))
        mods.append(torch.nn.ModuleDict({"mlp": mlp, "last": last}))
    return torch.nn.ModuleList(mods)


def loop_forward(mods, x):
    return [m["last"](F.normalize(m["mlp"](x), dim=-1)) for m in mods]


def loop_step(student, teacher, opt, prior, x, B, beta=0.6, tt=0.1, st=0.1):
    """One TEMI step in the style of the official code: per-head forward, weight, loss, then EMA per parameter."""
    with torch.no_grad():
        t_out = loop_forward(teacher, x)
    s_out = loop_forward(student, x)
    with torch.no_grad():
        tp = [F.softmax(t / tt, -1).chunk(2) for t in t_out]
        w = sum((a * b).sum(-1) for a, b in tp) / len(tp)
    losses, new_prior = [], []
    for i, (s, (t1, t2)) in enumerate(zip(s_out, tp)):
        pk = 0.9 * prior[i] + 0.1 * torch.cat([t1, t2]).mean(0)
        new_prior.append(pk)
        s1, s2 = F.softmax(s / st, -1).chunk(2)
        l1 = -(w * (((s1 * t2) ** beta) / pk).sum(-1).log()).mean()
        l2 = -(w * (((s2 * t1) ** beta) / pk).sum(-1).log()).mean()
        losses.append((l1 + l2) / 2)
    loss = torch.stack(losses).mean()
    opt.zero_grad()
    loss.backward()
    prior.copy_(torch.stack(new_prior))
    opt.step()
    with torch.no_grad():
        for q, k in zip(student.parameters(), teacher.parameters()):
            k.mul_(0.996).add_(0.004 * q.detach())


def batched_setup(d, C, H, precision="float32", hidden=512, bottleneck=256):
    student = heads.BatchedHeads(d, C, num_heads=H, hidden_dim=hidden, bottleneck_dim=bottleneck)
    teacher = heads.BatchedHeads(d, C, num_heads=H, hidden_dim=hidden, bottleneck_dim=bottleneck)
    teacher.load_state_dict(student.state_dict())
    teacher.requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4, weight_decay=1e-4)
    prior = torch.full((H, C), 1.0 / C)
    return {"student": student, "teacher": teacher, "opt": opt, "prior": prior, "bf16": precision == "bfloat16",
            "s": list(student.parameters()), "t": list(teacher.parameters())}


def batched_step(st, x, B, H, C):
    """One embtree.heads TEMI step (the body of train_heads' inner loop)."""
    dtype = torch.bfloat16 if st["bf16"] else None
    with torch.no_grad():
        t = st["teacher"](x, dtype).view(H, 2, B, C)
    s = st["student"](x, dtype).view(H, 2, B, C)
    with torch.no_grad():
        st["prior"] = heads.update_prior(st["prior"], F.softmax(t.flatten(1, 2) / 0.1, -1), 0.9)
    loss = heads.temi_loss(s, t, st["prior"]).mean()
    st["opt"].zero_grad(set_to_none=True)
    loss.backward()
    st["opt"].step()
    heads.ema_update(st["t"], st["s"], 0.996)


def time_it(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--large", default="50000x768x1000")
    ap.add_argument("--large-iters", type=int, default=3)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--no-heap-reuse", action="store_true", help="leave glibc's mmap threshold as it is")
    args = ap.parse_args()
    if not args.no_heap_reuse:
        from embtree.runtime import reuse_freed_memory

        print(f"heap reuse (embtree.runtime.reuse_freed_memory, as the heads rule): {reuse_freed_memory()}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, H, d, C = args.batch, args.heads, args.dim, args.clusters
    if not args.skip_small:
        small(args, B, H, d, C)
    if args.skip_large:
        return
    large(args, B, H)


def small(args, B, H, d, C):
    x = torch.randn(2 * B, d)
    print(f"per iteration: batch {B} (x2 views), {H} heads, {d}-d, {C} clusters, {args.threads} thread(s), "
          f"median of {args.reps}, the three timed interleaved")
    stud, teach = loop_heads(d, C, H), loop_heads(d, C, H)
    teach.load_state_dict(stud.state_dict())
    teach.requires_grad_(False)
    opt = torch.optim.AdamW(stud.parameters(), lr=1e-4)
    prior = torch.full((H, C), 1.0 / C)
    st32, st16 = batched_setup(d, C, H), batched_setup(d, C, H, "bfloat16")
    runs = {"official-style loop over heads": lambda: loop_step(stud, teach, opt, prior, x, B),
            "embtree batched, float32": lambda: batched_step(st32, x, B, H, C),
            "embtree batched, bfloat16 hidden": lambda: batched_step(st16, x, B, H, C)}
    times = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(args.reps):  # interleaved: a load change hits all three alike
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(t)) for name, t in times.items()}
    t_loop = med["official-style loop over heads"]
    for name, t in med.items():
        print(f"  {name:36s} {t:7.3f} s/iteration   ratio vs loop {t_loop / t:5.2f}x   "
              f"vs official 1.06 s: {OFFICIAL_S_PER_IT / t:5.2f}x")
    flops = 2 * 2 * B * H * (d * 512 + 512 * 256 + 256 * C) * 3  # teacher fwd + student fwd + ~2x bwd
    print(f"  ~{flops / 1e9:.0f} GFLOP per iteration -> float32 batched at "
          f"{flops / med['embtree batched, float32'] / 1e9:.0f} GFLOP/s")


def large(args, B, H):
    n, d, C = map(int, args.large.split("x"))
    X = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    t0 = time.perf_counter()
    heads.mine_knn(X, 50, chunk_mb=256)
    t_knn = time.perf_counter() - t0
    xl = torch.as_tensor(X[: 2 * B])
    iters = n // B
    print(f"{n} x {d} x {C} clusters, {H} heads, batch {B}, {args.threads} thread(s): kNN (k=50) {t_knn:.1f} s")
    for precision in ("float32", "bfloat16"):
        stl = batched_setup(d, C, H, precision)
        t_it = time_it(lambda: batched_step(stl, xl, B, H, C), args.large_iters)
        print(f"  {precision}: {t_it:.2f} s/iteration x {iters} iterations = {t_it * iters:.0f} s per epoch; "
              f"peak memory so far {peak_mb():.0f} MB")
        del stl


if __name__ == "__main__":
    main()
