# Helpers of the heads stage (heads.smk): config parsing, validation of the per-dataset
# overrides against the schema's own heads keys (parse time, so a bad key stops the run
# before any job), per-run params and targets. embtree.heads (torch) is imported by the
# jobs only: parsing stays fast, which every SLURM job repeats.
#
# Uses:
#   common.smk: CONFIG_SCHEMA, DATASETS, RUNS, config_error, has_reference, input_mb
#   reference_common.smk: reference_kind
import os
from pathlib import Path

from embtree.heads.params import parse_n_clusters
from embtree.settings import config_errors

HEADS_CFG = config.get("heads", {})
HEADS_METHODS = list(HEADS_CFG.get("methods", ["temi", "scanv2"]))
# Keys of the heads section that steer the workflow; every other key is a training
# parameter of embtree.heads.train_heads (tests/test_heads_params.py checks the two lists agree).
# `seeds` steers the workflow (one job per seed) and feeds train_heads' `seed` from the job's
# {seed} wildcard (heads_params(dataset, seed)); it is still a setting (settings.NOT_SETTINGS
# leaves it out), so a run with fewer seeds says so in the report.
HEADS_WORKFLOW_KEYS = {"methods", "datasets", "overrides", "coarse_depths", "device", "ancestor_labels", "hierarchy_variants", "seeds"}


def _heads_training_schema():
    props = CONFIG_SCHEMA["properties"]["heads"]["properties"]
    training = {k: {kk: vv for kk, vv in v.items() if kk != "default"} for k, v in props.items()
                if k not in HEADS_WORKFLOW_KEYS}
    return {"type": "object", "additionalProperties": False, "properties": training}


_HEADS_TRAINING = _heads_training_schema()
HEADS_KEYS = set(_HEADS_TRAINING["properties"])
HEADS_DATASETS = [ds for ds in DATASETS if HEADS_CFG.get("datasets") is None or ds in HEADS_CFG["datasets"]]
HEADS_DEPTHS = list(HEADS_CFG.get("coarse_depths", []))
# Repeated runs (schema: unique, at least one; default three as paper 002). The first seed is
# the one single-run consumers read (the calibration figure); L2H's temi / scanv2 trees pair
# their seed s with the heads run of seed s (l2h_common.smk).
HEADS_SEEDS = [int(s) for s in HEADS_CFG.get("seeds", [0, 1, 2])]
HEADS_ANCESTORS = bool(HEADS_CFG.get("ancestor_labels", False))
# Paper 002 table 2's fine-grained benchmarks (leaf subset, leaf HZR, p-HZR): one heads_hzr job per
# run relabels the samples; the heads, k-means and probe jobs score / refit on its labels.
HEADS_HZR = bool(HEADS_CFG.get("hierarchy_variants", False))
PROBE_CFG = config.get("probe", {})  # the linear-probe ceiling of every heads run (schema: probe)

for _ds in HEADS_CFG.get("datasets") or []:
    if _ds not in DATASETS:
        config_error("heads.datasets", f"unknown dataset '{_ds}' (defined: {sorted(DATASETS)})")
for _ds in HEADS_CFG.get("overrides", {}):
    if _ds not in DATASETS:
        config_error("heads.overrides", f"unknown dataset '{_ds}' (defined: {sorted(DATASETS)})")
if HEADS_DEPTHS:
    from embtree.hierarchy.granularity import leaf_depths as _leaf_depths  # deferred: dendropy, only with coarse depths

    for _ds in HEADS_DATASETS:
        if not has_reference(_ds):
            config_error("heads.coarse_depths", f"dataset '{_ds}' has no reference tree; "
                          "restrict heads.datasets or set reference_tree")
        _spec_ds = DATASETS[_ds]
        # Known at parse time for planted trees and given Newick files; a WordNet-built
        # reference is checked by the job itself, before training.
        if _spec_ds["type"] == "planted-tree":
            _max = _spec_ds.get("depth", 3)
        elif _spec_ds.get("reference_tree") and not _spec_ds.get("reference"):
            _max = max(_leaf_depths(Path(_spec_ds["reference_tree"]).read_text()).values())
        else:
            _max = None
        if _max is not None and max(HEADS_DEPTHS) > _max:
            config_error("heads.coarse_depths", f"depth {max(HEADS_DEPTHS)} is beyond the reference tree "
                          f"of dataset '{_ds}' (maximum depth {_max})")
for _key, _on in (("heads.ancestor_labels", HEADS_ANCESTORS), ("heads.hierarchy_variants", HEADS_HZR)):
    for _ds in HEADS_DATASETS if _on else []:
        if not has_reference(_ds):
            config_error(_key, f"dataset '{_ds}' has no reference tree; "
                          "restrict heads.datasets or set reference_tree / reference")
for _ds in HEADS_DATASETS:
    _ml = DATASETS[_ds].get("multi_labels")
    if _ml and not Path(_ml).exists():
        config_error(f"datasets.{_ds}.multi_labels", f"file not found: {_ml}")


# Sweeps (paper 002 appendix B.3 / B.4, figs. 5-6): heads.knn and heads.n_clusters may be lists
# (heads.overrides.<dataset> too). The first value is the main run (heads/{head}/seed{seed}/, the
# path of a scalar, so a config without lists keeps its paths and jobs); every further value is a
# variant, one factor at a time as in the paper: knn{k} (TEMI / SCANv2 at every granularity, main
# n_clusters) and clusters{value} (TEMI / SCANv2 / k-means on the classes, main knn).
SWEEP_KEYS = ("knn", "n_clusters")


def _as_list(value):
    return list(value) if isinstance(value, list) else [value]


def heads_sweep(dataset):
    """{"knn": [main, ...], "n_clusters": [main, ...]} of a dataset (its override, else heads.<key>)."""
    over = HEADS_CFG.get("overrides", {}).get(dataset, {})
    return {k: _as_list(over.get(k, HEADS_CFG.get(k))) for k in SWEEP_KEYS}


def heads_variants(dataset):
    """{variant name: (key, value)} of the sweep values beyond the main run, in config order."""
    sweep = heads_sweep(dataset)
    out = {f"knn{k}": ("knn", k) for k in sweep["knn"][1:]}
    out.update({f"clusters{c}": ("n_clusters", c) for c in sweep["n_clusters"][1:]})
    return out


for _ds in HEADS_DATASETS:
    _where = f"heads.overrides.{_ds}" if "n_clusters" in HEADS_CFG.get("overrides", {}).get(_ds, {}) else "heads"
    for _c in heads_sweep(_ds)["n_clusters"]:
        try:
            parse_n_clusters(_c)
        except ValueError as _e:
            config_error(f"{_where}.n_clusters", str(_e))
    if heads_sweep(_ds)["n_clusters"][1:] and None in heads_sweep(_ds)["n_clusters"]:
        config_error(f"{_where}.n_clusters", "a list names its values: '1x' for the number of classes, not null")
HEADS_VARIANTS = {ds: heads_variants(ds) for ds in HEADS_DATASETS}
HEADS_VARIANT_NAMES = sorted({v for variants in HEADS_VARIANTS.values() for v in variants})
# k-means has no neighbours: it runs the cluster variants only.
HEADS_KMEANS_VARIANTS = sorted({v for variants in HEADS_VARIANTS.values() for v, (key, _) in variants.items()
                                if key == "n_clusters"})


def heads_params(dataset, seed=None, variant=None):
    """The heads' training parameters for a dataset: heads.<key>, then heads.overrides.<dataset>,
    with a sweep's main value (the first of a list) or ``variant``'s (heads_variants); with
    ``seed`` (one of heads.seeds, the job's {seed} wildcard) also train_heads' ``seed``.
    Without it (the kNN job, which no seed changes) the dict has no seed, so adding a seed
    never reruns the shared kNN, and ``knn`` is the largest of the sweep (every run draws its
    neighbours from the first k columns of the one kNN file)."""
    params = {k: HEADS_CFG[k] for k in HEADS_KEYS if k in HEADS_CFG}
    params.update(HEADS_CFG.get("overrides", {}).get(dataset, {}))
    sweep = heads_sweep(dataset)
    params.update({k: values[0] for k, values in sweep.items()})
    if variant is not None:
        key, value = HEADS_VARIANTS[dataset][variant]
        params[key] = value
    if seed is not None:
        params["seed"] = int(seed)
    else:
        params["knn"] = max(sweep["knn"])
    # Sorted: HEADS_KEYS is a set, whose order changes with the hash seed, and Snakemake compares
    # params by their repr, so an unsorted dict made every new process rerun finished jobs.
    return dict(sorted(params.items()))


def _check_heads_overrides():
    for ds, override in HEADS_CFG.get("overrides", {}).items():
        for path, msg in config_errors(override, _HEADS_TRAINING):
            key = ".".join(str(k) for k in path)
            config_error(f"heads.overrides.{ds}" + (f".{key}" if key else ""),
                          msg + f" (training keys: {sorted(HEADS_KEYS)})")


_check_heads_overrides()


def _check_heads_backends():
    """faiss backends need faiss; heads.device: cuda needs CUDA. Checked where the jobs run: on
    this machine for a local run (a dry run included); a cluster run's DAG is built on a login
    node without GPUs, so its device is left to the GPU jobs (profiles/slurm asks for one)."""
    from embtree import preflight as _pf  # deferred: only here

    for ds in HEADS_DATASETS:
        p = heads_params(ds)
        for key, default in (("knn_backend", "exact"), ("kmeans_backend", "embtree")):
            if p.get(key, default).startswith("faiss") and _pf.check_faiss():
                where = f"heads.overrides.{ds}.{key}" if key in HEADS_CFG.get("overrides", {}).get(ds, {}) else f"heads.{key}"
                config_error(where, f"{p[key]!r}: {_pf.check_faiss()[0]}")
    if HEADS_DATASETS and HEADS_CFG.get("device") == "cuda" and workflow.local_exec and not _pf.cuda_available():
        config_error("heads.device", "'cuda' but this machine has no CUDA GPU that torch can use (no CUDA build "
                     "of torch, no driver or no visible device); use auto (CUDA when present) or cpu")


_check_heads_backends()


def heads_runs():
    return [(ds, enc) for ds, enc in RUNS if ds in HEADS_DATASETS]


def heads_reference(wildcards):
    return [f"results/{wildcards.dataset}/reference.nwk"] if HEADS_DEPTHS or HEADS_ANCESTORS or HEADS_HZR else []


def heads_synsets(wildcards):
    """The class -> synset table of a WordNet-built reference (ancestor classes are named by synset)."""
    if (HEADS_ANCESTORS or HEADS_HZR) and reference_kind(wildcards.dataset) == "wordnet":
        return [f"results/{wildcards.dataset}/synsets.tsv"]
    return []


def hzr_path(ds, enc, name="labels.npz"):
    """results/{ds}/{enc}/heads/hzr/{name}: the fine-grained variants' labels (labels.npz), their
    sizes (variants.tsv) and the original -> reassessed class counts (moves.tsv)."""
    return os.path.join("results", ds, enc, "heads", "hzr", name)


def heads_hzr_input(wildcards):
    """The run's variant labels for the heads / k-means jobs of the classes (heads.hierarchy_variants;
    the coarse-depth jobs, with a {depth} wildcard, are scored on their coarse labels only)."""
    return [hzr_path(wildcards.dataset, wildcards.encoder)] if HEADS_HZR and "depth" not in wildcards.keys() else []


def heads_multi_labels(wildcards):
    path = DATASETS[wildcards.dataset].get("multi_labels")
    return [path] if path else []


def heads_mem_mb(wildcards, input, attempt):
    # Features (a few float32 copies), kNN, soft assignments N x C, activations of
    # 2 x batch x heads x hidden (x ~6 for autograd), the kNN similarity block.
    p = heads_params(wildcards.dataset)  # complete: the schema filled every default into config
    act_mb = 6 * 2 * p["batch_size"] * p["num_heads"] * max(p["hidden_dim"], p["bottleneck_dim"]) * 4 / 1e6
    return int((1500 + 6 * input_mb(input) + act_mb + p["knn_chunk_mb"]) * 2 ** (attempt - 1))


def heads_dir(ds, enc, method, granularity, seed, variant=None):
    """results/{ds}/{enc}/heads/{method}[/{variant}]/seed{seed}[/depth{d}]: one training job's outputs
    (``variant``: a sweep value beyond the main run, heads_variants)."""
    parts = (["results", ds, enc, "heads", method] + ([variant] if variant else []) + [f"seed{seed}"]
             + ([] if granularity == "classes" else [granularity]))
    return os.path.join(*parts)


def heads_variant_runs(ds):
    """(method, granularity, variant) of every sweep run of a dataset beyond the main runs."""
    grans = ["classes"] + [f"depth{d}" for d in HEADS_DEPTHS]
    out = []
    for v, (key, _) in HEADS_VARIANTS.get(ds, {}).items():
        methods = HEADS_METHODS + (["kmeans"] if key == "n_clusters" else [])
        out += [(m, g, v) for m in methods for g in (grans if key == "knn" else ["classes"])]
    return out


_TRAIN_FILES = ("metrics.tsv", "loss.tsv", "heads.tsv", "labels.npz", "reliability.png", "msp.png")


def heads_targets():
    out = []
    grans = ["classes"] + [f"depth{d}" for d in HEADS_DEPTHS]
    for ds, enc in heads_runs():
        for s in HEADS_SEEDS:
            for g in grans:
                out.append(os.path.join(heads_dir(ds, enc, "kmeans", g, s), "metrics.tsv"))
                for m in HEADS_METHODS:
                    out += [os.path.join(heads_dir(ds, enc, m, g, s), f) for f in _TRAIN_FILES]
            for m, g, v in heads_variant_runs(ds):
                files = ("metrics.tsv",) if m == "kmeans" else _TRAIN_FILES
                out += [os.path.join(heads_dir(ds, enc, m, g, s, v), f) for f in files]
        if HEADS_HZR:
            out += [hzr_path(ds, enc, f) for f in ("labels.npz", "variants.tsv", "moves.tsv")]
    return out + probe_targets() + separability_targets()


def probe_runs():
    """The runs the linear probe scores: every heads run, when probe.enabled."""
    return heads_runs() if PROBE_CFG.get("enabled", True) else []


def probe_path(ds, enc):
    return os.path.join("results", ds, enc, "probe", "metrics.tsv")


def probe_variants_path(ds, enc):
    return os.path.join("results", ds, enc, "probe", "variants.tsv")


def probe_targets():
    """The probe of every run; with heads.hierarchy_variants also its refits on the variants."""
    return [p for ds, enc in probe_runs()
            for p in [probe_path(ds, enc)] + ([probe_variants_path(ds, enc)] if HEADS_HZR else [])]


SEPARABILITY_CFG = config.get("separability", {})  # class separability of every heads run (schema)


def separability_path(ds, enc):
    return os.path.join("results", ds, enc, "heads", "separability.tsv")


def separability_runs():
    """The runs the separability job scores: every heads run, when separability.enabled."""
    return heads_runs() if SEPARABILITY_CFG.get("enabled", True) else []


def separability_targets():
    return [separability_path(ds, enc) for ds, enc in separability_runs()]
