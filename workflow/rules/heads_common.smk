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

from embtree.settings import config_errors

HEADS_CFG = config.get("heads", {})
HEADS_METHODS = list(HEADS_CFG.get("methods", ["temi", "scanv2"]))
# Keys of the heads section that steer the workflow; every other key is a training
# parameter of embtree.heads.train_heads (tests/test_heads_params.py checks the two lists agree).
# `seeds` steers the workflow (one job per seed) and feeds train_heads' `seed` from the job's
# {seed} wildcard (heads_params(dataset, seed)); it is still a setting (settings.NOT_SETTINGS
# leaves it out), so a run with fewer seeds says so in the report.
HEADS_WORKFLOW_KEYS = {"methods", "datasets", "overrides", "coarse_depths", "device", "ancestor_labels", "seeds"}


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
if HEADS_ANCESTORS:
    for _ds in HEADS_DATASETS:
        if not has_reference(_ds):
            config_error("heads.ancestor_labels", f"dataset '{_ds}' has no reference tree; "
                          "restrict heads.datasets or set reference_tree / reference")
for _ds in HEADS_DATASETS:
    _ml = DATASETS[_ds].get("multi_labels")
    if _ml and not Path(_ml).exists():
        config_error(f"datasets.{_ds}.multi_labels", f"file not found: {_ml}")


def heads_params(dataset, seed=None):
    """The heads' training parameters for a dataset: heads.<key>, then heads.overrides.<dataset>;
    with ``seed`` (one of heads.seeds, the job's {seed} wildcard) also train_heads' ``seed``.
    Without it (the kNN job, which no seed changes) the dict has no seed, so adding a seed
    never reruns the shared kNN."""
    params = {k: HEADS_CFG[k] for k in HEADS_KEYS if k in HEADS_CFG}
    params.update(HEADS_CFG.get("overrides", {}).get(dataset, {}))
    if seed is not None:
        params["seed"] = int(seed)
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
    return [f"results/{wildcards.dataset}/reference.nwk"] if HEADS_DEPTHS or HEADS_ANCESTORS else []


def heads_synsets(wildcards):
    """The class -> synset table of a WordNet-built reference (ancestor classes are named by synset)."""
    if HEADS_ANCESTORS and reference_kind(wildcards.dataset) == "wordnet":
        return [f"results/{wildcards.dataset}/synsets.tsv"]
    return []


def heads_multi_labels(wildcards):
    path = DATASETS[wildcards.dataset].get("multi_labels")
    return [path] if path else []


def heads_mem_mb(wildcards, input, attempt):
    # Features (a few float32 copies), kNN, soft assignments N x C, activations of
    # 2 x batch x heads x hidden (x ~6 for autograd), the kNN similarity block.
    p = heads_params(wildcards.dataset)  # complete: the schema filled every default into config
    act_mb = 6 * 2 * p["batch_size"] * p["num_heads"] * max(p["hidden_dim"], p["bottleneck_dim"]) * 4 / 1e6
    return int((1500 + 6 * input_mb(input) + act_mb + p["knn_chunk_mb"]) * 2 ** (attempt - 1))


def heads_dir(ds, enc, method, granularity, seed):
    """results/{ds}/{enc}/heads/{method}/seed{seed}[/depth{d}]: one training job's outputs."""
    parts = ["results", ds, enc, "heads", method, f"seed{seed}"] + ([] if granularity == "classes" else [granularity])
    return os.path.join(*parts)


def heads_targets():
    out = []
    grans = ["classes"] + [f"depth{d}" for d in HEADS_DEPTHS]
    for ds, enc in heads_runs():
        for s in HEADS_SEEDS:
            for g in grans:
                out.append(os.path.join(heads_dir(ds, enc, "kmeans", g, s), "metrics.tsv"))
                for m in HEADS_METHODS:
                    out += [os.path.join(heads_dir(ds, enc, m, g, s), f) for f in
                            ("metrics.tsv", "loss.tsv", "heads.tsv", "labels.npz", "reliability.png", "msp.png")]
    return out + probe_targets()


def probe_runs():
    """The runs the linear probe scores: every heads run, when probe.enabled."""
    return heads_runs() if PROBE_CFG.get("enabled", True) else []


def probe_path(ds, enc):
    return os.path.join("results", ds, enc, "probe", "metrics.tsv")


def probe_targets():
    return [probe_path(ds, enc) for ds, enc in probe_runs()]
