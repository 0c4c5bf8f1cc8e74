# Helpers of the flat stage (flat.smk): config parsing and validation against
# embtree.flat's registries, per-rule params and resources. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Uses:
#   common.smk: DATASETS, RUNS, config_error, input_mb
from embtree import clustering as _flat_clustering
from embtree import flat as _flat

FLAT = config["flat"]
FLAT_REDUCERS = list(FLAT["reducers"])
FLAT_CLUSTERERS = list(FLAT["clusterers"])
_REGISTRY = {"reducer": _flat.REDUCERS, "clusterer": _flat.CLUSTERERS}

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


def _resolve_settings(kind):
    """{name: (method, params)} of every configured reducer / clusterer: a registry name with its
    ``<kind>_params``, or a variant (``<kind>_variants``: the method's params, the variant's over
    them), each checked against the registry (paper 004 E.7's agglomerative options included)."""
    variants = FLAT.get(f"{kind}_variants", {})
    params_of = FLAT.get(f"{kind}_params", {})
    for name in variants:
        if name in _REGISTRY[kind]:
            config_error(f"flat.{kind}_variants.{name}", f"{name!r} is a built-in {kind}: give the variant another name")
    out = {}
    for name in FLAT[f"{kind}s"]:
        if name in _REGISTRY[kind]:
            method, own = name, {}
        elif name in variants:
            own = {k: v for k, v in variants[name].items() if k != "method"}
            method = variants[name]["method"]
        else:
            config_error(f"flat.{kind}s", f"{name!r} is neither a {kind} of embtree.flat ({sorted(_REGISTRY[kind])}) "
                                          f"nor a name of flat.{kind}_variants ({sorted(variants)})")
        params = {**params_of.get(method, {}), **own}
        try:
            _flat.check_params(kind, method, params)
        except ValueError as err:
            config_error(f"flat.{kind}_variants.{name}" if name in variants else f"flat.{kind}s", str(err))
        out[name] = (method, params)
    return out


FLAT_REDUCER_SETTINGS = _resolve_settings("reducer")
FLAT_CLUSTERER_SETTINGS = _resolve_settings("clusterer")


# reducer/clusterer pairs left out of the grid (e.g. HDBSCAN on raw high-dimensional
# embeddings, which zs-ssl-clustering never runs: it reduces with UMAP or PCA first, paper 004
# appendix E tables); checked against the known names so a typo is an error.
FLAT_SKIP = set()
for _pair in FLAT.get("skip", []):
    _red, _, _clu = _pair.partition("/")
    if (_red not in FLAT_REDUCERS + list(_flat.REDUCERS)
            or _clu not in FLAT_CLUSTERERS + list(_flat.CLUSTERERS)):
        config_error("flat.skip", f"{_pair!r} is not '<reducer>/<clusterer>' of known names")
    FLAT_SKIP.add((_red, _clu))

# Development data sets (paper 004 § 3.5): settings are chosen on them, so they keep the full grid.
FLAT_SELECTION = dict(FLAT.get("selection", {}))
FLAT_SELECTION_DATASETS = list(FLAT_SELECTION.get("datasets", []))
for _ds in FLAT_SELECTION_DATASETS + list(FLAT_SELECTION.get("weights", {})):
    if _ds not in DATASETS:
        config_error("flat.selection", f"{_ds!r} is not a data set of `datasets` ({sorted(DATASETS)})")

# The reducer chosen per encoder (paper 004 tables 3-4): {encoder: {clusterer: reducer}}.
FLAT_ENCODER_REDUCERS = {}
_RUN_ENCODERS = {enc for _, enc in RUNS}
for _enc, _choice in FLAT.get("encoder_reducers", {}).items():
    _key = f"flat.encoder_reducers.{_enc}"
    if _enc not in _RUN_ENCODERS:
        config_error(_key, f"{_enc!r} is not an encoder of the runs ({sorted(_RUN_ENCODERS)})")
    _choice = {c: _choice for c in FLAT_CLUSTERERS} if isinstance(_choice, str) else dict(_choice)
    for _clu, _red in _choice.items():
        if _clu not in FLAT_CLUSTERERS:
            config_error(_key, f"{_clu!r} is not one of flat.clusterers ({FLAT_CLUSTERERS})")
        if _red not in FLAT_REDUCERS:
            config_error(_key, f"{_red!r} is not one of flat.reducers ({FLAT_REDUCERS})")
        if (_red, _clu) in FLAT_SKIP:
            config_error(_key, f"{_red}/{_clu} is in flat.skip")
    FLAT_ENCODER_REDUCERS[_enc] = _choice


def flat_pairs(dataset=None, encoder=None):
    """(reducer, clusterer) pairs of the grid: reducers x clusterers minus flat.skip; for a run
    (dataset, encoder) off the development data sets, only the reducer flat.encoder_reducers
    chose for the encoder (per clusterer)."""
    pairs = [(r, c) for r in FLAT_REDUCERS for c in FLAT_CLUSTERERS if (r, c) not in FLAT_SKIP]
    chosen = FLAT_ENCODER_REDUCERS.get(encoder, {})
    if dataset is None or dataset in FLAT_SELECTION_DATASETS or not chosen:
        return pairs
    return [(r, c) for r, c in pairs if chosen.get(c, r) == r]


def flat_reducer_method(name):
    return FLAT_REDUCER_SETTINGS[name][0]


def flat_reducer_params(name):
    return dict(FLAT_REDUCER_SETTINGS[name][1])


def flat_clusterer_method(name):
    return FLAT_CLUSTERER_SETTINGS[name][0]


def flat_clusterer_params(name):
    """Registry overrides for a clusterer: the global O(N^2) cap, then its params (clusterer_params
    of its method, then a variant's own).

    The global cap never raises a registry cap that is lower (affinity propagation's 2000);
    ``clusterer_params.<name>.max_quadratic_samples`` sets any value.
    """
    method, own = FLAT_CLUSTERER_SETTINGS[name]
    params = {}
    registry_cap = _flat.CLUSTERERS[method].get("max_quadratic_samples")
    if registry_cap is not None:
        params["max_quadratic_samples"] = min(FLAT["max_quadratic_samples"], registry_cap)
    if method == "merge-expand":  # the merge_expand: section's parameters; seeds come from flat.seeds
        params.update({k: v for k, v in config["merge_expand"].items() if k not in ("input", "seeds")})
    params.update(own)
    return params


def flat_report_settings():
    """What the report's flat tables need of the config: every clusterer's method and full
    parameters (the threshold choice, which clusterers find k), the development data sets and
    weights, the configured per-encoder reducers and the data sets' groups."""
    return {
        "clusterers": {name: {"method": m, **_flat.check_params("clusterer", m, flat_clusterer_params(name))}
                       for name, (m, _) in FLAT_CLUSTERER_SETTINGS.items()},
        "selection_datasets": FLAT_SELECTION_DATASETS,
        "selection_weights": dict(FLAT_SELECTION.get("weights", {})),
        "encoder_reducers": FLAT_ENCODER_REDUCERS,
        "groups": {ds: spec["group"] for ds, spec in DATASETS.items() if spec.get("group")},
    }


def flat_cluster_mem_mb(wildcards, input, attempt):
    # Inputs (features + embeddings, a few copies) plus the dense N^2 float64 matrices of
    # the guarded clusterers at their cap: AP keeps ~4 (S, R, A, tmp), agglomerative ~2.
    cap = flat_clusterer_params(wildcards.clusterer).get("max_quadratic_samples", 0)
    method = flat_clusterer_method(wildcards.clusterer)
    dense = 4 if method == "affinity-propagation" else 2 if method in _flat_clustering.AGGLOMERATIVE else 0
    quadratic_mb = dense * 8 * cap**2 / 1e6
    return int((1000 + 10 * input_mb(input) + quadratic_mb) * 2 ** (attempt - 1))


def flat_targets():
    return [
        f"results/{ds}/{enc}/flat/{red}/{clu}/metrics.tsv" for ds, enc in RUNS for red, clu in flat_pairs(ds, enc)
    ]
