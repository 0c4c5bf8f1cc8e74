"""What a heads run is scored against: the classes, or coarse labels at a maximum depth of
the reference tree (paper 002 section 4.2), with optional label sets S_L (section 4.4).

:func:`granularity_targets`, which reads the run's reference tree, multi-label and synset
files (the paths the workflow gives); the tree work is :mod:`embtree.hierarchy.granularity`'s.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from embtree.hierarchy.granularity import ancestor_label_sets, coarsen_classes, read_multi_labels
from embtree.hierarchy.catalogue import read_synset_mapping
from embtree.heads.params import resolve_n_clusters

__all__ = ["granularity_targets"]

log = logging.getLogger(__name__)


def granularity_targets(emb, depth=None, reference=(), multi_labels=(), n_clusters=None, *,
                        ancestor_labels=False, synsets=()):
    """Targets of a run at a granularity: the classes, or coarse labels at max depth ``depth``.

    Parameters
    ----------
    emb : embtree.io.Embeddings
    depth : int or None; None = the classes themselves
    reference : list with the reference Newick path (needed when ``depth`` is set or
        ``ancestor_labels``)
    multi_labels : list with a multi-label JSON path (classes only), or empty
    n_clusters : int, a multiple of the classes such as ``"2x"``, or None (None: number of
        targets; :func:`embtree.heads.params.resolve_n_clusters`); ignored at a coarse depth
    ancestor_labels : bool, add every class's ancestor classes in the reference tree to its
        label set (:func:`embtree.hierarchy.granularity.ancestor_label_sets`; classes only)
    synsets : list with the data set's ``synsets.tsv`` (class -> synset), or empty

    Returns
    -------
    (targets (n,) int64, n_clusters, granularity name, multi-label matrix or None)
    """
    if depth is None:
        targets = np.asarray(emb.labels, dtype=np.int64)
        name = "classes"
        multi = (read_multi_labels(multi_labels[0], emb.class_names, len(targets))
                 if multi_labels else None)
        if ancestor_labels:
            if not reference:
                raise ValueError("heads.ancestor_labels needs a reference tree for this dataset")
            syn = None
            if synsets:
                mapping = read_synset_mapping(synsets[0])
                syn = [mapping.get(str(c), "") for c in emb.class_names]
            sets = ancestor_label_sets(Path(reference[0]).read_text(), emb.class_names, syn)
            n_extra = int(sets.sum() - len(sets))
            if n_extra == 0:
                log.warning("heads.ancestor_labels: no class is an ancestor of another in %s, so every label "
                            "set is the class alone (top-1 -> L = ACC)", reference[0])
            else:
                log.info("heads.ancestor_labels: %d ancestor-class links over %d classes", n_extra, len(sets))
            by_sample = sets[targets]
            multi = by_sample if multi is None else (multi | by_sample)
    else:
        if not reference:
            raise ValueError("heads.coarse_depths needs a reference tree for this dataset")
        coarse, _ = coarsen_classes(Path(reference[0]).read_text(), emb.class_names, int(depth))
        targets = coarse[emb.labels]
        name, multi = f"depth{int(depth)}", None
    n_targets = int(len(np.unique(targets)))
    K = n_targets if depth is not None else resolve_n_clusters(n_clusters, n_targets)
    if not 2 <= K <= len(targets):
        raise ValueError(f"n_clusters={K} must lie in 2..n_samples={len(targets)} ({name})")
    return targets, K, name, multi
