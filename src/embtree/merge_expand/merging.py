"""Merge & Expand phase 3 (paper 003, II.B.4): merge the seeds.

:func:`merge_seeds`
    Trains the stacked classifiers, scores the seed pairs (M1-M3) and merges them.
:func:`similarity_graphs`
    G_s (similarity) and G_r (dissimilarity) of the seeds.
:func:`reduced_rank_scores`
    Each pair's mean (rank - 1) / (K - 2) over the three scores.
:func:`choose_partition`
    The partition of the seeds respecting G_s and G_r with the smallest loss.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
from scipy import stats
from scipy.sparse.csgraph import connected_components

from embtree.merge_expand.pair_scores import (
    co_contribution,
    leakage_matrix,
    leakage_scores,
    replacement_scores,
    seed_pairs,
)
from embtree.merge_expand.regions import region_sample
from embtree.merge_expand.stacked import predict_stacked, train_stacked

__all__ = ["similarity_graphs", "reduced_rank_scores", "choose_partition", "merge_seeds"]

log = logging.getLogger(__name__)


def _partner_ranks(M, higher_is_better):
    """rank[i, j] = rank (1 = best, ties 'min') of j among i's partners (j != i); diagonal 0."""
    K = M.shape[0]
    S = np.asarray(M, dtype=np.float64) * (-1.0 if higher_is_better else 1.0)
    S = np.where(np.eye(K, dtype=bool), np.inf, S)
    R = stats.rankdata(S, method="min", axis=1).astype(np.int64)
    np.fill_diagonal(R, 0)
    return R


def reduced_rank_scores(M1, M2, M3):
    """Reduced rank score of each pair: mean over scores and both directions of (rank-1)/(K-2). (K, K)."""
    K = M1.shape[0]
    ranks = [_partner_ranks(M1, True), _partner_ranks(M2, False), _partner_ranks(M3, True)]
    denom = max(K - 2, 1)
    R = sum(np.clip(r - 1, 0, None) + np.clip(r.T - 1, 0, None) for r in ranks) / (6.0 * denom)
    np.fill_diagonal(R, 0.0)
    return R


def similarity_graphs(M1, M2, M3, *, top_rank=2, m1_threshold=0.01, m3_threshold=0.2, alpha=0.25):
    """G_s (similarity) and G_r (dissimilarity) adjacency matrices of the seeds (II.B.4 d).

    Returns
    -------
    G_s, G_r : ndarray of shape (K, K), bool, symmetric, zero diagonal
    """
    K = M1.shape[0]
    top = np.ones((K, K), dtype=bool)
    for M, hib in ((M1, True), (M2, False), (M3, True)):
        r = _partner_ranks(M, hib)
        top &= (r >= 1) & (r <= top_rank) & (r.T >= 1) & (r.T <= top_rank)
    strong = (np.minimum(M1, M1.T) >= m1_threshold) & (np.minimum(M3, M3.T) >= m3_threshold)
    G_s = top & strong
    G_r = np.minimum(M2, M2.T) > alpha
    np.fill_diagonal(G_s, False)
    np.fill_diagonal(G_r, False)
    return G_s, G_r


def _connected(block, G):
    block = list(block)
    seen, stack = {block[0]}, [block[0]]
    members = set(block)
    while stack:
        u = stack.pop()
        for v in members:
            if v not in seen and G[u, v]:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(block)


def _set_partitions(nodes, G_r):
    """All set partitions of ``nodes`` with no G_r edge inside a block (restricted growth, pruned)."""
    def rec(i, blocks):
        if i == len(nodes):
            yield [list(b) for b in blocks]
            return
        u = nodes[i]
        for b in blocks:
            if not any(G_r[u, v] for v in b):
                b.append(u)
                yield from rec(i + 1, blocks)
                b.pop()
        blocks.append([u])
        yield from rec(i + 1, blocks)
        blocks.pop()

    yield from rec(0, [])


def _loss(blocks, R, Q):
    singles = sum(len(b) == 1 for b in blocks)
    pairs = [(u, v) for b in blocks for u, v in itertools.combinations(b, 2)]
    return (singles, round(sum(R[u, v] for u, v in pairs), 12), round(sum(Q[u, v] for u, v in pairs), 12))


def choose_partition(G_s, G_r, M1, M2, M3, *, max_enumerate=8):
    """The partition of the seeds respecting G_s and G_r that minimises the loss (II.B.4 d).

    Blocks lie inside connected components of G_s, are connected in G_s and hold
    no G_r edge; loss (lexicographic): singletons, sum of reduced rank scores,
    sum of pairwise dissimilarities over within-block pairs (``docs/methods/merge-expand.md``).

    Returns
    -------
    ndarray of shape (K,), int64 block id of every seed (0.. in order of first seed)
    """
    K = G_s.shape[0]
    R = reduced_rank_scores(M1, M2, M3)
    Q = ((1 - (M1 + M1.T) / 2) + (M2 + M2.T) / 2 + (1 - (M3 + M3.T) / 2)) / 3
    _, comp = connected_components(G_s.astype(np.int8), directed=False)
    blocks_all = []
    for c in np.unique(comp):
        nodes = [int(v) for v in np.nonzero(comp == c)[0]]
        if len(nodes) == 1:
            blocks_all.append(nodes)
            continue
        if len(nodes) <= max_enumerate:
            cands = (p for p in _set_partitions(nodes, G_r) if all(_connected(b, G_s) for b in p))
            best = min(cands, key=lambda p: _loss(p, R, Q))
        else:
            log.warning("G_s component of %d seeds > max_enumerate=%d: greedy merging", len(nodes), max_enumerate)
            best = _greedy_partition(nodes, G_s, G_r, R)
        blocks_all.extend(best)
    label = np.empty(K, dtype=np.int64)
    for b, members in enumerate(sorted(blocks_all, key=min)):
        label[members] = b
    return label


def _greedy_partition(nodes, G_s, G_r, R):
    block = {u: {u} for u in nodes}
    edges = sorted(((R[u, v], u, v) for u, v in itertools.combinations(nodes, 2) if G_s[u, v]))
    for _, u, v in edges:
        bu, bv = block[u], block[v]
        if bu is bv or any(G_r[a, b] for a in bu for b in bv):
            continue
        merged = bu | bv
        for w in merged:
            block[w] = merged
    return [sorted(b) for b in {id(b): b for b in block.values()}.values()]


def merge_seeds(inputs, regions, seeds, *, arch=("mlp", 32), seed=0, n_rounds=5, max_train_per_region=64,
                top_rank=2, m1_threshold=0.01, m3_threshold=0.2, alpha=0.25, max_enumerate=8, train_kw=None):
    """Phase 3 (II.B.4): score the seed pairs (eq. 2-5) and merge them.

    Trains, as one stacked model, ``n_rounds`` K-class classifiers, the
    (K choose 2) merged-pair and the K leave-one-out classifiers on at most
    ``max_train_per_region`` members of each seed region, predicts all samples,
    and derives M1, M2, M3, G_s, G_r and the partition (``docs/methods/merge-expand.md``).

    Parameters
    ----------
    inputs : torch.Tensor of shape (n_samples, ...), classifier inputs
    regions : ndarray of shape (n_samples,), region ids
    seeds : ndarray of shape (K,), seed region ids

    Returns
    -------
    m1, m2, m3 : ndarray of shape (K, K)
    g_s, g_r : ndarray of shape (K, K), bool
    partition : ndarray of shape (K,), int64 merged block of every seed
    """
    import torch  # deferred: torch takes ~2 s to import; only the classifiers of phases 3-4 need it

    train_kw = dict(train_kw or {})
    K = len(seeds)
    n_r = int(regions.max()) + 1
    if K < 3:
        log.warning("only K=%d seeds: nothing to merge", K)
        eye = np.eye(K)
        none = np.zeros((K, K), dtype=bool)
        return eye, eye.copy(), eye.copy(), none, none.copy(), np.arange(K, dtype=np.int64)
    seed_of_region = np.full(n_r, -1, dtype=np.int64)
    seed_of_region[seeds] = np.arange(K)
    sub = region_sample(regions, max_train_per_region, seed + 1)
    sub = sub[seed_of_region[regions[sub]] >= 0]
    y_sub = seed_of_region[regions[sub]]
    pairs = seed_pairs(K)
    # One stacked model: n_rounds K-class + C(K,2) merged-pair + K leave-one-out predictors.
    # Every model keeps K outputs (original seed ids); merged pair (i, k): k's samples are
    # labelled i and class k is switched off; without i: i's samples excluded, class i off.
    Y = [y_sub] * n_rounds + [np.where(y_sub == k, i, y_sub) for i, k in pairs] + \
        [np.where(y_sub == i, -1, y_sub) for i in range(K)]
    masks = np.ones((len(Y), K), dtype=bool)
    masks[n_rounds + np.arange(len(pairs)), pairs[:, 1]] = False
    masks[n_rounds + len(pairs) + np.arange(K), np.arange(K)] = False
    Y, masks = torch.as_tensor(np.stack(Y)), torch.as_tensor(masks)
    models = train_stacked(inputs[torch.as_tensor(sub)], Y, masks, arch=arch, seed=seed, **train_kw)
    probs, pred = predict_stacked(models, inputs, masks)
    probs, pred = probs.numpy(), pred.numpy()
    m1, y0 = co_contribution(probs[:n_rounds])
    merged = pred[n_rounds:n_rounds + len(pairs)] == pairs[:, :1]  # the combined class keeps id i
    m2 = leakage_scores(leakage_matrix(y0, merged, pairs, K), pairs, K)
    m3 = replacement_scores(y0, pred[n_rounds + len(pairs):])
    if K < 4:
        log.warning("K=%d seeds: the rank-sum leakage test cannot reach significance; no merge", K)
    g_s, g_r = similarity_graphs(m1, m2, m3, top_rank=top_rank, m1_threshold=m1_threshold,
                                 m3_threshold=m3_threshold, alpha=alpha)
    partition = choose_partition(g_s, g_r, m1, m2, m3, max_enumerate=max_enumerate)
    return m1, m2, m3, g_s, g_r, partition
