"""Tests of embtree.merge_expand.merging: graphs G_s / G_r, the partition (against brute force), merge_seeds."""

import itertools

import numpy as np

from embtree import merge_expand as me
from embtree.merge_expand import merging


def _brute_partition(G_s, G_r, M1, M2, M3):
    K = len(G_s)
    R = me.reduced_rank_scores(M1, M2, M3)
    Q = ((1 - (M1 + M1.T) / 2) + (M2 + M2.T) / 2 + (1 - (M3 + M3.T) / 2)) / 3

    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for p in partitions(rest):
            for i in range(len(p)):
                yield p[:i] + [[first] + p[i]] + p[i + 1:]
            yield [[first]] + p

    def valid(block):
        if any(G_r[u, v] for u, v in itertools.combinations(block, 2)):
            return False
        seen, stack = {block[0]}, [block[0]]
        while stack:
            u = stack.pop()
            for v in block:
                if v not in seen and G_s[u, v]:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(block)

    best = min((p for p in partitions(list(range(K))) if all(valid(b) for b in p)),
               key=lambda p: merging._loss(p, R, Q))
    label = np.empty(K, dtype=int)
    for b, members in enumerate(sorted(best, key=min)):
        label[members] = b
    return label


def test_choose_partition_respects_graphs_and_matches_brute_force():
    rng = np.random.default_rng(7)
    K = 6
    for _ in range(5):
        M1, M3 = rng.random((K, K)), rng.random((K, K))
        M2 = rng.random((K, K))
        G_s = np.triu(rng.random((K, K)) < 0.5, 1)
        G_s = G_s | G_s.T
        G_r = np.triu(rng.random((K, K)) < 0.2, 1)
        G_r = (G_r | G_r.T) & ~G_s
        got = me.choose_partition(G_s, G_r, M1, M2, M3)
        np.testing.assert_array_equal(got, _brute_partition(G_s, G_r, M1, M2, M3))
    # A path 0-1-2 with 0 and 2 forbidden: exactly one singleton.
    G_s = np.zeros((3, 3), bool)
    G_s[0, 1] = G_s[1, 0] = G_s[1, 2] = G_s[2, 1] = True
    G_r = np.zeros((3, 3), bool)
    G_r[0, 2] = G_r[2, 0] = True
    part = me.choose_partition(G_s, G_r, np.eye(3), np.eye(3), np.eye(3))
    assert len(np.unique(part)) == 2 and part[0] != part[2]


def test_similarity_graph_needs_mutual_top_partners():
    K = 4
    M1 = np.full((K, K), 0.02)
    M3 = np.full((K, K), 0.05)
    M2 = np.full((K, K), 0.5)
    M1[0, 1] = M1[1, 0] = 0.3
    M3[0, 1] = M3[1, 0] = 0.6
    M2[0, 1] = M2[1, 0] = 0.001
    G_s, G_r = me.similarity_graphs(M1, M2, M3, top_rank=1, alpha=0.05)
    assert G_s.sum() == 2 and G_s[0, 1]
    assert not G_r[0, 1] and G_r[2, 3]


def test_merging_recovers_a_group_with_two_seeds():
    import torch

    # Group 0 is an elongated dense strip with a seed at each end; groups 1-4 are far blobs.
    rng = np.random.default_rng(8)
    strip = np.c_[rng.uniform(-6, 6, 400), rng.normal(0, 0.5, 400)]
    blobs = [np.array(c) + rng.normal(0, 0.7, (100, 2)) for c in ((0, 25), (25, 0), (-25, 0), (0, -25))]
    X = np.concatenate([strip] + blobs).astype(np.float32)
    group = np.r_[np.zeros(400, int), np.repeat(np.arange(1, 5), 100)]
    regions = np.full(len(X), 6)  # everything else: one non-seed region
    regions[:400][strip[:, 0] < -4.5] = 0
    regions[:400][strip[:, 0] > 4.5] = 1
    for g in range(1, 5):
        regions[group == g] = g + 1
    seeds = np.arange(6)
    inputs = torch.as_tensor((X - X.mean(0)) / X.std(0))
    *_, partition = me.merge_seeds(inputs, regions, seeds, seed=0, train_kw={"steps": 300})
    assert partition[0] == partition[1]
    assert len(np.unique(partition)) == 5
