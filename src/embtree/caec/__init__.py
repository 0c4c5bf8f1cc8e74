"""Class-associated embedding clusters (CAEC, paper 000): growing, structure, scores.

``grow``    :func:`grow_clusters` (eq. 1-4, 7-10, 14), :func:`auto_step`
``result``  :class:`CAECResult`, one row per class
``scores``  :func:`per_class_scores`, :func:`run_scores`, :func:`arrival_rates`, :func:`infiltration`,
            :func:`intrusion`, :func:`cluster_class_counts`, :func:`caec_tables`
``arrays``  :func:`cluster_arrays`, :func:`growth_arrays` (``clusters.npz``, ``growth.npz``)

The method, what the paper leaves open and what embtree chose: docs/methods/caec.md.
"""

from embtree.caec import arrays, grow, result, scores
from embtree.caec.arrays import cluster_arrays, growth_arrays
from embtree.caec.grow import ANNULAR_THETA_MIN, AUTO_STEPS, auto_step, grow_clusters
from embtree.caec.result import CAECResult
from embtree.caec.scores import (
    DEFAULT_MIN_CLUSTER_SIZE,
    arrival_rates,
    caec_tables,
    cluster_class_counts,
    infiltration,
    intrusion,
    per_class_scores,
    run_scores,
)

# The package's names are its modules' (each module's __all__ is the one list of its public names);
# ``__all__ += module.__all__`` is the form type checkers follow.
__all__ = []
__all__ += result.__all__
__all__ += grow.__all__
__all__ += scores.__all__
__all__ += arrays.__all__
