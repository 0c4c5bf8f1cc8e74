"""Fused Manhattan / Canberra numba kernels of :mod:`embtree.distances` (full matrix, argmin).

Module-level functions, so numba's on-disk cache (``cache=True``) finds them again in every
new process: defined inside a function, their cache key included the closure's other
kernels, whose hash changed per process, and every job compiled them anew (~5 s).
Imported lazily by :mod:`embtree.distances` (global constants are frozen into the kernels when they compile).
"""

import numpy as np
from numba import njit, prange

# Layout: the rows of the larger input are split over threads in tiles of
# TILE_ROWS; each tile meets the other input in tiles of TILE_COLS rows (~800 KB of
# float32, L2-resident), so every operand comes from cache. The feature axis runs in
# blocks of KB terms summed in the inputs' precision (the block loop vectorises to
# 16 float32 lanes with AVX-512), each block total added in float64.
#
# Accuracy (float32 inputs; u = 2**-24): a Canberra term carries <= 4u relative error
# (subtraction, abs-add, fastmath's reciprocal estimate + Newton step and product), a Manhattan term <= u; summing KB >= 0 terms in
# any order adds <= (KB - 1) u relative, the float64 sum over blocks ~1e-16. Hence
# |D - D_exact| <= (KB + 4) u D, D_exact being the float64 distance of the same float32
# inputs. The vectorised order (16 lanes of KB/16 terms, then a 4-level tree) gives
# <= (KB/16 + 8) u = 12u = 7e-7 in practice; the tests check 1e-6 against cdist.

KB = 64
TILE_ROWS = 16  # even: 2 x 2 blocks
TILE_COLS = 256
KERNEL_ERR = (KB + 4) * 2.0**-24  # rigorous relative bound above (float32)


# The block sums iterate over slices from index 0: with range(k0, k1) numba's
# wrap-around of negative indices blocks vectorisation (gathers, 10x slower).
# 2 x 2 register blocks: each loaded vector serves two distances (~1.2x over pairs).
@njit(fastmath=True, inline="always", cache=True)
def l1_quad(a0, a1, b0, b1):  # pragma: no cover - compiled
    t00 = a0[0] - a0[0]
    t01, t10, t11 = t00, t00, t00
    for k in range(a0.shape[0]):
        x0, x1, y0, y1 = a0[k], a1[k], b0[k], b1[k]
        t00 += abs(x0 - y0)
        t01 += abs(x0 - y1)
        t10 += abs(x1 - y0)
        t11 += abs(x1 - y1)
    return t00, t01, t10, t11

@njit(fastmath=True, inline="always", cache=True)
def canberra_quad(a0, a1, b0, b1, tiny):  # pragma: no cover - compiled
    t00 = a0[0] - a0[0]
    t01, t10, t11 = t00, t00, t00
    for k in range(a0.shape[0]):
        x0, x1, y0, y1 = a0[k], a1[k], b0[k], b1[k]
        u0, u1, v0, v1 = abs(x0), abs(x1), abs(y0), abs(y1)
        t00 += abs(x0 - y0) / max(u0 + v0, tiny)
        t01 += abs(x0 - y1) / max(u0 + v1, tiny)
        t10 += abs(x1 - y0) / max(u1 + v0, tiny)
        # max(., tiny) keeps the loop branch-free: a 0/0 term becomes 0 (scipy's
        # convention); tiny is the smallest normal number of the dtype.
        t11 += abs(x1 - y1) / max(u1 + v1, tiny)
    return t00, t01, t10, t11

@njit(fastmath=True, inline="always", cache=True)
def quad(a0, a1, b0, b1, tiny, canberra):  # pragma: no cover - compiled
    d = a0.shape[0]
    s00, s01, s10, s11 = 0.0, 0.0, 0.0, 0.0
    for k0 in range(0, d, KB):
        k1 = min(k0 + KB, d)
        if canberra:  # loop-invariant: LLVM unswitches it out of the loops
            r = canberra_quad(a0[k0:k1], a1[k0:k1], b0[k0:k1], b1[k0:k1], tiny)
        else:
            r = l1_quad(a0[k0:k1], a1[k0:k1], b0[k0:k1], b1[k0:k1])
        s00 += r[0]
        s01 += r[1]
        s10 += r[2]
        s11 += r[3]
    return s00, s01, s10, s11

@njit(fastmath=True, inline="always", cache=True)
def tile(A, B, i0, i1, j0, j1, tiny, canberra, D):  # pragma: no cover - compiled
    # D[i - i0, j - j0] = dist(A[i], B[j]) over a tile in 2 x 2 blocks; an odd last row
    # or column repeats its neighbour, so every value comes from the same code (and
    # rounding) whatever the tiling: blocks of rows equal the whole matrix bit for bit.
    for i in range(i0, i1, 2):
        ii = min(i + 1, i1 - 1)
        a0, a1 = A[i], A[ii]
        for j in range(j0, j1, 2):
            jj = min(j + 1, j1 - 1)
            r = quad(a0, a1, B[j], B[jj], tiny, canberra)
            D[i - i0, j - j0] = r[0]
            D[i - i0, jj - j0] = r[1]
            D[ii - i0, j - j0] = r[2]
            D[ii - i0, jj - j0] = r[3]

@njit(parallel=True, fastmath=True, cache=True)
def matrix(A, B, tiny, canberra, out):  # pragma: no cover - compiled
    # out[i, j] = dist(A[i], B[j]); threads over tiles of A's rows.
    n_a, n_b = A.shape[0], B.shape[0]
    for t in prange((n_a + TILE_ROWS - 1) // TILE_ROWS):
        i0 = t * TILE_ROWS
        i1 = min(i0 + TILE_ROWS, n_a)
        for j0 in range(0, n_b, TILE_COLS):
            j1 = min(j0 + TILE_COLS, n_b)
            tile(A, B, i0, i1, j0, j1, tiny, canberra, out[i0:i1, j0:j1])

@njit(parallel=True, fastmath=True, cache=True)
def argmin(A, B, tiny, canberra, idx, best, second):  # pragma: no cover - compiled
    # Fused argmin over B for every row of A (first index on ties), with the smallest
    # and second-smallest distance; only a (TILE_ROWS, TILE_COLS) tile is held.
    n_a, n_b = A.shape[0], B.shape[0]
    for t in prange((n_a + TILE_ROWS - 1) // TILE_ROWS):
        i0 = t * TILE_ROWS
        i1 = min(i0 + TILE_ROWS, n_a)
        D = np.empty((TILE_ROWS, TILE_COLS))
        for i in range(i0, i1):
            best[i] = np.inf
            second[i] = np.inf
            idx[i] = 0
        for j0 in range(0, n_b, TILE_COLS):
            j1 = min(j0 + TILE_COLS, n_b)
            tile(A, B, i0, i1, j0, j1, tiny, canberra, D)
            for i in range(i0, i1):
                b1, b2, k = best[i], second[i], idx[i]
                for j in range(j0, j1):
                    v = D[i - i0, j - j0]
                    if v < b1:
                        b2, b1, k = b1, v, j
                    elif v < b2:
                        b2 = v
                best[i], second[i], idx[i] = b1, b2, k

@njit(fastmath=True, inline="always", cache=True)
def upper_row_tile(A, t, tiny, canberra, out):  # pragma: no cover - compiled
    # Row tile t of the upper triangle: rows [i0, i1) against columns j >= i0.
    n = A.shape[0]
    i0 = t * TILE_ROWS
    i1 = min(i0 + TILE_ROWS, n)
    for j0 in range(i0, n, TILE_COLS):
        j1 = min(j0 + TILE_COLS, n)
        tile(A, A, i0, i1, j0, j1, tiny, canberra, out[i0:i1, j0:j1])

@njit(parallel=True, fastmath=True, cache=True)
def symmetric(A, tiny, canberra, out):  # pragma: no cover - compiled
    # out[i, j] = dist(A[i], A[j]) for every j >= the first row of i's tile: the upper triangle
    # by row tiles, half the work of `matrix` on (A, A); the rest of `out` is left unwritten.
    # One iteration takes row tiles p and n_t - 1 - p (the longest and the shortest), so the
    # threads get equal work.
    n_t = (A.shape[0] + TILE_ROWS - 1) // TILE_ROWS
    for p in prange((n_t + 1) // 2):
        upper_row_tile(A, p, tiny, canberra, out)
        q = n_t - 1 - p
        if q != p:
            upper_row_tile(A, q, tiny, canberra, out)
