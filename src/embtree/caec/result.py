"""The result of CAEC cluster growing: :class:`CAECResult` (one row per class)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CAECResult"]


@dataclass
class CAECResult:
    """Output of :func:`grow_clusters`; C classes, d features, N samples.

    Attributes
    ----------
    classes : int array (C,)
        Sorted label values; row k of every array belongs to ``classes[k]``.
    metric, gamma, step : str, float, float
        Settings used (``step`` is the resolved value when ``"auto"`` was asked).
    centroids : float64 (C, d)
        Class centroids G (eq. 1).
    class_sizes : int (C,)
    r0, r_b, r_f : float64 (C,)
        Starting, bounding (eq. 3) and final (eq. 4) radius.
    t_b, t_f : int (C,)
        Step indices of r_b and r_f (``r = r0 + t * step``).
    bounded : bool (C,)
        True when the gamma criterion stopped the growth (False: r_b holds all).
    members : list of C sorted int64 arrays
        Sample indices of each final cluster X_k.
    n_target, n_other : int (C,)
        |Y_{r_f}| and |Z_{r_f}|.
    final_centroids : float64 (C, d)
        G^f (eq. 14), mean of each cluster's members.
    mu, mmp : float64 (C, d)
        Mean vector (eq. 7) and manifold mean point P = G + mu.
    r_min, r_max : float64 (C,)
    rim_size : int (C,)
        |S_k| (eq. 8).
    e_rim, e_min : int (C,)
        Sample index of the rim point farthest from / nearest to P (eq. 9).
    theta_max_half, theta_min_half : float64 (C,)
        Cluster angles in rad (eq. 10), NaN when undefined.
    annular : bool (C,)
    growth_Y, growth_Z : int (C, T+1)
        Cumulative counts |Y_t|, |Z_t| for t = 0..n_steps[k]-1; padded with -1.
    n_steps : int (C,)
        Stored steps per class: through the first step that breaks eq. 3 (or r_b) and
        the step holding the class's last embedding, whichever is later.
    assignment : int (N,)
        Partition used for RI/NMI: each sample goes to the cluster (class value) whose
        centre G is nearest among the clusters containing it (ties: smaller class);
        -1 for samples in no cluster.
    n_clusters_containing : int (N,)
        In how many clusters each sample lies (> 1: intrusion, section 4.4.2).
    """

    classes: np.ndarray
    metric: str
    gamma: float
    step: float
    centroids: np.ndarray
    class_sizes: np.ndarray
    r0: np.ndarray
    r_b: np.ndarray
    r_f: np.ndarray
    t_b: np.ndarray
    t_f: np.ndarray
    bounded: np.ndarray
    members: list
    n_target: np.ndarray
    n_other: np.ndarray
    final_centroids: np.ndarray
    mu: np.ndarray
    mmp: np.ndarray
    r_min: np.ndarray
    r_max: np.ndarray
    rim_size: np.ndarray
    e_rim: np.ndarray
    e_min: np.ndarray
    theta_max_half: np.ndarray
    theta_min_half: np.ndarray
    annular: np.ndarray
    growth_Y: np.ndarray
    growth_Z: np.ndarray
    n_steps: np.ndarray
    assignment: np.ndarray
    n_clusters_containing: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def coverage(self) -> np.ndarray:
        """Coverage as section 4.2 defines it: the fraction of target-class embeddings
        among all embeddings in the cluster, |Y_{r_f}| / |X_k|, shape (C,).

        Usually >= 1 - gamma (every r with r_0 < r <= r_b keeps |Z| <= gamma |X|; table 4's
        values lie above 0.7 for gamma = 0.3), but not always: when eq. 3 already fails at
        r_0 (the nearest embedding belongs to another class) r_b = r_f = r_0 and the
        cluster may hold no embedding of its class (coverage 0). Such clusters are small
        and flagged (``small_cluster``)."""
        return self.n_target / np.maximum(self.n_target + self.n_other, 1)

    @property
    def recall(self) -> np.ndarray:
        """Fraction of each class captured by its own cluster, |Y_{r_f}| / n_k, shape (C,)."""
        return self.n_target / self.class_sizes

    def parameters(self) -> np.ndarray:
        """The 2n+4 representation per cluster: [G, P, r_min, r_max, theta_min/2, theta_max/2].

        Returns float64 array of shape (C, 2 d + 4).
        """
        return np.column_stack(
            [self.centroids, self.mmp, self.r_min, self.r_max, self.theta_min_half, self.theta_max_half]
        )

    def increments(self, k):
        """Per-step growth ``|Y_{t+1}| - |Y_t|`` and ``|Z_{t+1}| - |Z_t|`` of row k (fig. 3).

        Element 0 is ``|Y_0|`` / ``|Z_0|`` (the embeddings at r_0), so each array sums
        to the count within the last stored step.
        """
        n = self.n_steps[k]
        return np.diff(self.growth_Y[k, :n], prepend=0), np.diff(self.growth_Z[k, :n], prepend=0)

    def member_csr(self):
        """Membership as CSR arrays ``(indptr (C+1,), indices)``."""
        indptr = np.zeros(self.n_classes + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(m) for m in self.members])
        indices = np.concatenate(self.members) if self.members else np.zeros(0, np.int64)
        return indptr, indices.astype(np.int64)
