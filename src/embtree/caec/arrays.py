"""CAEC results as the arrays of ``clusters.npz`` and ``growth.npz`` (docs/design.md).

:func:`cluster_arrays`  cluster structure and membership (CSR) per class
:func:`growth_arrays`   per-class growth per radius step, padded (paper 000, fig. 3)
"""

from __future__ import annotations

import numpy as np

from embtree.caec.scores import DEFAULT_MIN_CLUSTER_SIZE

__all__ = ["cluster_arrays", "growth_arrays"]


def cluster_arrays(result, class_names, *, min_cluster_size=DEFAULT_MIN_CLUSTER_SIZE):
    """Arrays of ``clusters.npz`` (docs/design.md), membership as CSR.

    ``class_names`` is indexed by label value; the saved ``class_names`` has one entry
    per row of ``result`` (what the relation-tree stage reads with G^f / P).
    ``small_cluster`` marks clusters with fewer than ``min_cluster_size`` members.
    """
    indptr, indices = result.member_csr()
    n_members = np.diff(indptr)
    return {
        "small_cluster": n_members < min_cluster_size,
        "min_cluster_size": np.int64(min_cluster_size),
        "classes": result.classes,
        "class_names": np.asarray(class_names, dtype=str)[result.classes],
        "centroids": result.centroids,
        "final_centroids": result.final_centroids,
        "mmp": result.mmp,
        "mu": result.mu,
        "r0": result.r0,
        "r_b": result.r_b,
        "r_f": result.r_f,
        "t_b": result.t_b,
        "t_f": result.t_f,
        "bounded": result.bounded,
        "r_min": result.r_min,
        "r_max": result.r_max,
        "rim_size": result.rim_size,
        "theta_min_half": result.theta_min_half,
        "theta_max_half": result.theta_max_half,
        "e_rim": result.e_rim,
        "e_min": result.e_min,
        "annular": result.annular,
        "n_target": result.n_target,
        "n_other": result.n_other,
        "class_sizes": result.class_sizes,
        "step": np.float64(result.step),
        "gamma": np.float64(result.gamma),
        "metric": np.str_(result.metric),
        "member_indptr": indptr,
        "member_indices": indices,
        "assignment": result.assignment,
        "n_clusters_containing": result.n_clusters_containing,
    }


def growth_arrays(result, class_names):
    """Arrays of ``growth.npz``: per-class growth per radius step, padded (fig. 3).

    ``Y`` / ``Z`` (C, T) cumulative counts inside ``r_t`` (-1 padding); ``target`` /
    ``other`` (C, T) per-step increments (element 0 = the counts at r_0; NaN padding);
    ``radii`` (C, T) the radius of each step (NaN padding); ``n_steps`` (C,) valid steps.
    """
    T = result.growth_Y.shape[1]
    valid = np.arange(T)[None, :] < result.n_steps[:, None]
    inc_y = np.where(valid, np.diff(result.growth_Y, axis=1, prepend=0), np.nan)
    inc_z = np.where(valid, np.diff(result.growth_Z, axis=1, prepend=0), np.nan)
    radii = np.where(valid, result.r0[:, None] + result.step * np.arange(T)[None, :], np.nan)
    return {
        "classes": result.classes,
        "class_names": np.asarray(class_names, dtype=str)[result.classes],
        "step": np.float64(result.step),
        "r0": result.r0,
        "r_b": result.r_b,
        "r_f": result.r_f,
        "t_b": result.t_b,
        "t_f": result.t_f,
        "n_steps": result.n_steps,
        "Y": result.growth_Y.astype(np.int32),
        "Z": result.growth_Z.astype(np.int32),
        "target": inc_y.astype(np.float32),
        "other": inc_z.astype(np.float32),
        "radii": radii,
    }
