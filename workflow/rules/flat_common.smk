# Helpers of the flat stage (flat.smk): config parsing and validation against
# embtree.flat's registries, per-rule params and resources. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Uses:
#   common.smk: config_error, expand_runs, input_mb
from embtree import flat as _flat

FLAT = config["flat"]
FLAT_REDUCERS = list(FLAT["reducers"])
FLAT_CLUSTERERS = list(FLAT["clusterers"])

# Parameter names are checked against embtree.flat's registries here, at parse time,
# so a typo stops the run before any job (the schema only knows the method names).
for _kind, _key in (("reducer", "reducer_params"), ("clusterer", "clusterer_params")):
    for _name, _params in FLAT.get(_key, {}).items():
        if not isinstance(_params, dict):
            config_error(f"flat.{_key}.{_name}", f"must be a mapping of parameters, got {_params!r}")
        try:
            _flat.check_params(_kind, _name, _params)
        except ValueError as _err:
            config_error(f"flat.{_key}.{_name}", str(_err))
        if _params.get("backend") == "faiss" and _name in FLAT_CLUSTERERS:
            from embtree.preflight import check_faiss as _check_faiss  # deferred: only with a faiss backend

            for _msg in _check_faiss():
                config_error(f"flat.{_key}.{_name}.backend", f"'faiss': {_msg}")


# reducer/clusterer pairs left out of the grid (e.g. HDBSCAN on raw high-dimensional
# embeddings, which zs-ssl-clustering never runs: it reduces with UMAP or PCA first, paper 004
# appendix E tables); checked against the configured names so a typo is an error.
FLAT_SKIP = set()
for _pair in FLAT.get("skip", []):
    _red, _, _clu = _pair.partition("/")
    if _red not in FLAT_REDUCERS + ["none", "pca", "umap"] or _clu not in _flat.CLUSTERERS:
        config_error("flat.skip", f"{_pair!r} is not '<reducer>/<clusterer>' of known names")
    FLAT_SKIP.add((_red, _clu))


def flat_pairs():
    """(reducer, clusterer) pairs of the grid: reducers x clusterers minus flat.skip."""
    return [(r, c) for r in FLAT_REDUCERS for c in FLAT_CLUSTERERS if (r, c) not in FLAT_SKIP]


def flat_reducer_params(name):
    return dict(FLAT.get("reducer_params", {}).get(name, {}))


def flat_clusterer_params(name):
    """Registry overrides for a clusterer: the global O(N^2) cap, then per-clusterer params.

    The global cap never raises a registry cap that is lower (affinity propagation's 2000);
    ``clusterer_params.<name>.max_quadratic_samples`` sets any value.
    """
    params = {}
    registry_cap = _flat.CLUSTERERS[name].get("max_quadratic_samples")
    if registry_cap is not None:
        params["max_quadratic_samples"] = min(FLAT["max_quadratic_samples"], registry_cap)
    if name == "merge-expand":  # the merge_expand: section's parameters; seeds come from flat.seeds
        params.update({k: v for k, v in config["merge_expand"].items() if k not in ("input", "seeds")})
    params.update(FLAT.get("clusterer_params", {}).get(name, {}))
    return params


def flat_cluster_mem_mb(wildcards, input, attempt):
    # Inputs (features + embeddings, a few copies) plus the dense N^2 float64 matrices of
    # the guarded clusterers at their cap: AP keeps ~4 (S, R, A, tmp), agglomerative ~2.
    cap = flat_clusterer_params(wildcards.clusterer).get("max_quadratic_samples", 0)
    dense = {"affinity-propagation": 4, "agglomerative-ward": 2, "agglomerative-average": 2}
    quadratic_mb = dense.get(wildcards.clusterer, 0) * 8 * cap**2 / 1e6
    return int((1000 + 10 * input_mb(input) + quadratic_mb) * 2 ** (attempt - 1))


def flat_targets():
    return [
        path
        for red, clu in flat_pairs()
        for path in expand_runs(
            "results/{dataset}/{encoder}/flat/{reducer}/{clusterer}/metrics.tsv", reducer=red, clusterer=clu
        )
    ]
