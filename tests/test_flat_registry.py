"""Tests of embtree.flat.registry: the reducer and clusterer registries and check_params."""

import pytest

from embtree import clustering, flat
from embtree import merge_expand as me


def test_check_params_merges_defaults_without_mutating_the_registry():
    merged = flat.check_params("clusterer", "hdbscan", {"min_cluster_size": 10})
    assert merged["min_cluster_size"] == 10 and merged["max_cluster_fraction"] == 0.2
    assert flat.CLUSTERERS["hdbscan"]["min_cluster_size"] == 5
    with pytest.raises(ValueError, match="kind='encoder'"):
        flat.check_params("encoder", "kmeans")


def test_exact_knn_threshold_is_a_registry_parameter():
    assert flat.REDUCERS["umap"]["exact_knn_max_samples"] == 20_000
    assert flat.check_params("reducer", "umap", {"exact_knn_max_samples": None})["exact_knn_max_samples"] is None


def test_clusterers_are_the_basic_ones_plus_merge_expand():
    assert list(flat.CLUSTERERS) == [*clustering.CLUSTERERS, "merge-expand"]
    assert flat.NEEDS_N_CLUSTERS == clustering.NEEDS_N_CLUSTERS
    me_params = flat.CLUSTERERS["merge-expand"]
    assert {k: v for k, v in me_params.items() if k != "max_quadratic_samples"} == \
        {k: v for k, v in me.DEFAULTS.items() if k != "input"}
    assert me_params["max_quadratic_samples"] == clustering.DEFAULT_QUADRATIC_CAP
