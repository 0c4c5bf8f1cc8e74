# Config validation, the run list derived from config, and helpers shared by the rule files.
# Included first by workflow/Snakefile; every other file may use what this one defines
# (each declares which names in its `# Uses:` header).
import functools
import os
import re
import sys
from pathlib import Path

import yaml
from snakemake.logging import logger
from snakemake.utils import validate


def _check_schema():
    """Validate the config; on failure one line per offending key (never the whole schema).
    Returns the parsed schema (the rule files read defaults and key lists from it)."""
    with open(Path(workflow.current_basedir).parent / "schemas" / "config.schema.yaml") as fh:
        schema = yaml.safe_load(fh)
    errors = config_errors(config, schema)
    if errors:
        lines = "\n".join(
            f"  at {''.join(f'[{k!r}]' for k in path) or '(top level)'}: {msg}" for path, msg in errors
        )
        raise WorkflowError(f"Error validating config ({len(errors)} problem(s)):\n{lines}")
    validate(config, schema="../schemas/config.schema.yaml")  # fills the schema's defaults
    return schema

# Jobs import the embtree package from this checkout (also inside --sdm conda envs and on
# SLURM nodes, which re-read this file), so results always come from the code beside them;
# this file imports it too, whichever Python runs Snakemake. The path comes from this rule
# file's own location (workflow/rules/ -> checkout root), not from the main Snakefile's,
# which differs when the workflow is used as a module or from another top-level Snakefile.
_SRC = str(Path(str(workflow.current_basedir)).resolve().parents[1] / "src")
sys.path.insert(0, _SRC)
from embtree.data.datasets import has_eval_set as _has_eval_set  # noqa: E402
from embtree.data.store import FeaturesFileError, check_features_file  # noqa: E402
from embtree.io import write_text  # noqa: E402
from embtree.settings import config_errors  # noqa: E402

CONFIG_SCHEMA = _check_schema()

os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH", "")) if p)
)

IMAGE_TYPES = {"digits", "mnist", "mnist-tran", "cifar10", "cifar100", "cifar100-coarse", "imagenet", "imagenet21k",
               "imagefolder"}
# Image data sets with a train and a test split (torchvision's), so `eval_split` applies.
SPLIT_TYPES = {"mnist", "mnist-tran", "cifar10", "cifar100", "cifar100-coarse"}
# Image data sets read from a folder of class sub-folders (`path`, and `eval_path` for a held-out set).
FOLDER_TYPES = ("imagefolder", "imagenet", "imagenet21k")
FEATURE_TYPES = {"features", "planted-tree"}
DATASETS = config["datasets"]
ENCODERS = config.get("encoders", {})


def record_effective_config(path):
    """Write the validated config (defaults filled in) to ``path`` atomically (see workflow/Snakefile)."""
    text = ("# Effective configuration of the last run (written by embtree; read by --report).\n"
            + yaml.safe_dump(dict(config), sort_keys=False))
    # Rewritten only when it changed: a rerun of the same config leaves results/ untouched.
    if not Path(path).is_file() or Path(path).read_text() != text:
        write_text(path, text)


def config_error(key, message):
    """Stop the DAG build with one error naming the config key."""
    raise WorkflowError(f"config error at '{key}': {message}")


@functools.lru_cache(maxsize=None)
def features_file_info(dataset, part="fit"):
    """:func:`embtree.data.store.check_features_file` of a features dataset (``part="eval"``: of its
    ``eval_path`` file); a bad file stops the run at DAG build with one error naming the file and
    the dataset's config key."""
    spec = DATASETS[dataset]
    prefix = "eval_" if part == "eval" else ""
    try:
        info = check_features_file(spec[f"{prefix}path"], class_names=spec.get("class_names"),
                                   labels_path=spec.get(f"{prefix}labels_path"))
    except FeaturesFileError as err:
        key = err.key if err.key == "class_names" else f"{prefix}{err.key}"
        config_error(f"datasets.{dataset}.{key}", str(err))
    if part == "fit" and info["single_sample_classes"]:
        logger.warning(
            f"datasets.{dataset}: classes {info['single_sample_classes'][:10]} of {spec['path']} have "
            "exactly 1 sample: each CAEC cluster is that one sample (r_f = 0; chi-square and angles NaN)"
        )
    return info


# Cross-key checks the JSON schema cannot express.
for _ds, _spec in DATASETS.items():
    if _spec["type"] in IMAGE_TYPES:
        for _enc in _spec["encoders"]:
            if _enc not in ENCODERS:
                config_error(
                    f"datasets.{_ds}.encoders",
                    f"unknown encoder '{_enc}' (defined encoders: {sorted(ENCODERS)})",
                )
    elif "encoders" in _spec:
        config_error(
            f"datasets.{_ds}.encoders",
            f"a '{_spec['type']}' dataset is already embedded; use encoder_name instead",
        )
    if _spec["type"] == "features":
        features_file_info(_ds)  # cheap content checks, before any job
    _ref = _spec.get("reference_tree")
    if _ref and not Path(_ref).exists():
        config_error(f"datasets.{_ds}.reference_tree", f"file not found: {_ref}")
    if _ref and _spec.get("reference"):
        config_error(
            f"datasets.{_ds}.reference",
            f"give either reference ({_spec['reference']}) or reference_tree ({_ref}), not both",
        )
    if _spec.get("synsets") and not Path(_spec["synsets"]).is_file():
        config_error(f"datasets.{_ds}.synsets", f"file not found: {_spec['synsets']}")


def has_eval_set(dataset):
    """True when the dataset names a held-out evaluation set (eval_path, eval_split or eval_fraction)."""
    return _has_eval_set(DATASETS[dataset])


def _check_eval_set(ds, spec):
    """The evaluation set's keys fit the data set type, and its data the fit set's (cheap checks)."""
    kind = spec["type"]
    given = [k for k in ("eval_path", "eval_labels_path", "eval_split", "eval_fraction") if spec.get(k) is not None]
    others = [k for k in given if k != "eval_fraction"]
    if spec.get("eval_fraction") is not None and others:
        config_error(f"datasets.{ds}.eval_fraction", f"give either eval_fraction or {others[0]}, not both")
    if spec.get("eval_split") is not None:
        if kind not in SPLIT_TYPES:
            config_error(f"datasets.{ds}.eval_split", f"a '{kind}' data set has no splits to choose from; "
                         "use eval_path (features, imagefolder, imagenet, imagenet21k) or eval_fraction")
        if spec["eval_split"] == spec.get("split", "test"):
            config_error(f"datasets.{ds}.eval_split", f"'{spec['eval_split']}' is also the fit split "
                         "(`split`): the evaluation set would be the fit set")
        if spec["eval_split"] not in ("train", "test"):
            config_error(f"datasets.{ds}.eval_split", f"{kind} has splits 'train' and 'test'")
    if spec.get("eval_path") is not None:
        if kind not in ("features", *FOLDER_TYPES):
            config_error(f"datasets.{ds}.eval_path", f"a '{kind}' data set takes "
                         + ("eval_split" if kind in SPLIT_TYPES else "eval_fraction") + " instead")
        if os.path.realpath(spec["eval_path"]) == os.path.realpath(spec["path"]) and not spec.get("eval_labels_path"):
            config_error(f"datasets.{ds}.eval_path", "is the fit set's own `path`: the evaluation set would be "
                         "the fit set (use eval_fraction to hold out part of it)")
    if spec.get("eval_labels_path") is not None and spec.get("eval_path") is None:
        config_error(f"datasets.{ds}.eval_labels_path", "goes with eval_path, which is not set")
    if kind == "features" and spec.get("eval_path") is not None:
        fit, held = features_file_info(ds), features_file_info(ds, "eval")
        if held["class_names"] != fit["class_names"]:
            differ = [f"{a!r} vs {b!r}" for a, b in zip(fit["class_names"], held["class_names"]) if a != b][:3]
            config_error(f"datasets.{ds}.eval_path", f"{spec['eval_path']} has other classes than {spec['path']} "
                         f"({len(held['class_names'])} vs {len(fit['class_names'])}; first differences: "
                         f"{differ}): the evaluation set needs the same class_names in the same order")
        dims = fit["shapes"]["features"][1], held["shapes"]["features"][1]
        if dims[0] != dims[1]:
            config_error(f"datasets.{ds}.eval_path", f"{spec['eval_path']} has feature dimension {dims[1]}, "
                         f"{spec['path']} {dims[0]}: both must come from the same encoder")
    if spec.get("eval_fraction") is not None:
        f = spec["eval_fraction"]
        if kind == "features":
            counts = features_file_info(ds)["class_counts"]
        elif kind == "planted-tree":
            counts = [spec.get("samples_per_class", 100)]
        else:
            counts = None  # image folders and CIFAR: counted by the job, which says so if empty
        if counts is not None and max(min(round(f * n), n - 1) for n in counts) < 1:
            config_error(f"datasets.{ds}.eval_fraction", f"{f} of at most {max(counts)} samples per class "
                         "holds out nothing: the evaluation set would be empty")


for _ds, _spec in DATASETS.items():
    if _has_eval_set(_spec):
        _check_eval_set(_ds, _spec)


def _warn_duplicate_features_files():
    """The same features file under two dataset names: each is analysed separately (twice the
    work for the same numbers), usually a copy-paste slip -- a warning, not an error."""
    seen = {}
    for ds, spec in DATASETS.items():
        if spec["type"] == "features":
            seen.setdefault(os.path.realpath(spec["path"]), []).append(ds)
    for path, names in seen.items():
        if len(names) > 1:
            logger.warning(
                f"datasets {', '.join(names)}: the same features file {path} under {len(names)} dataset names; "
                "each entry is analysed separately (identical entries: the same results, computed twice). "
                "Unless they differ on purpose (max_per_class, imbalance, class_names), keep one."
            )


_warn_duplicate_features_files()


def dataset_encoders(dataset):
    """Encoder ids that produce embeddings for ``dataset`` (the {encoder} wildcard values)."""
    spec = DATASETS[dataset]
    if spec["type"] in IMAGE_TYPES:
        return list(spec["encoders"])
    return [spec.get("encoder_name", "features")]


# Every (dataset, encoder) pair the config asks for: the unit every stage fans out over.
RUNS = [(ds, enc) for ds in DATASETS for enc in dataset_encoders(ds)]


def is_image_dataset(dataset):
    return DATASETS[dataset]["type"] in IMAGE_TYPES


def has_reference(dataset):
    """True when the dataset has a reference hierarchy (WordNet Newick or planted tree)."""
    spec = DATASETS[dataset]
    return spec["type"] == "planted-tree" or bool(spec.get("reference_tree") or spec.get("reference"))


def features_file_has_logits(dataset):
    """For a features dataset, whether its file carries logits with one column per class."""
    spec = DATASETS[dataset]
    path = spec["path"]
    if not path.endswith(".npz"):
        return False
    info = features_file_info(dataset)  # headers + labels only: this runs on every DAG build
    return "logits" in info["shapes"] and info["shapes"]["logits"][1] == info["n_classes"]


def expand_runs(pattern, **kwargs):
    """``pattern`` formatted for every (dataset, encoder) run (plus any extra fields)."""
    return [
        path
        for ds, enc in RUNS
        for path in expand(pattern, dataset=ds, encoder=enc, allow_missing=True, **kwargs)
    ]


def regex_alternatives(values):
    """Regular expression matching exactly one of ``values`` (nothing when empty)."""
    return "|".join(sorted(re.escape(v) for v in values)) or "$^"


# Only configured ids can match a wildcard, so a typo never silently matches another rule.
wildcard_constraints:
    dataset=regex_alternatives(DATASETS),
    encoder=regex_alternatives({enc for _, enc in RUNS}),


def embeddings_path(wildcards):
    return f"results/{wildcards.dataset}/{wildcards.encoder}/embeddings.npz"


def all_targets():
    """Every final output the config asks for; each stage adds its own target list."""
    targets = expand_runs("results/{dataset}/{encoder}/embeddings.npz")
    for stage_targets in STAGE_TARGETS:
        targets.extend(stage_targets())
    return targets


# Each rule file appends a zero-argument function returning its final outputs.
STAGE_TARGETS = []


def input_mb(input):
    """Total size of a job's input files in MB (0 for files not yet present, e.g. in a dry run)."""
    total = 0
    for path in input:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total / 1e6


def scaled_mem_mb(base_mb, per_input_mb):
    """``mem_mb`` resource: ``base_mb + per_input_mb * <input MB>``, doubled on each retry.

    Use for heavy rules, so SLURM requests grow with the data set and with ``attempt``.
    """

    def mem_mb(wildcards, input, attempt):
        return int((base_mb + per_input_mb * input_mb(input)) * 2 ** (attempt - 1))

    return mem_mb


def scaled_runtime(base_min, per_input_mb):
    """``runtime`` resource in minutes: ``base_min + per_input_mb * <input MB>``, doubled on retry."""

    def runtime(wildcards, input, attempt):
        return int((base_min + per_input_mb * input_mb(input)) * 2 ** (attempt - 1))

    return runtime


# Below this input size, rules whose output files do not depend on their thread count take one
# thread (``scaled_threads(2, ONE_THREAD_BELOW_MB)``). Measured on the ImageNet-val-shaped DAG
# (benchmarks/bench_dag.py: 50,000 x 768, 1,000 classes, 150-250 MB of input per job, 2 cores):
# at two threads these jobs used 1.2-1.8 cores and held both, so the DAG ran them one after
# another; at one thread two run side by side. Every output file of the relation trees, tree
# comparisons, CAEC, seeded L2H, heads kNN / training / k-means / separability jobs was
# byte-identical at one and two threads (with the default `exact` kNN and k-means backends; faiss's
# k-means and faiss-flat kNN are too, but `heads.knn_backend: faiss-ivf`'s big-batch search scores
# with a BLAS GEMM whose rounding follows the thread count: 3 of 60,000 rows' neighbour lists
# differ, at ties within float32 rounding). Rules whose bits do change with the thread count (the
# probe's BLAS sums, Ward on a BLAS-made PCA in `l2h`) keep the default bound. Above it (ImageNet
# train: ~3.9 GB of embeddings) a job is long enough that its second thread is worth holding.
ONE_THREAD_BELOW_MB = 1000


def scaled_threads(max_threads, min_input_mb=20):
    """``threads``: 1 for inputs under ``min_input_mb`` MB, else ``max_threads``.

    A job on small data (10,000 x 64 features: 2.6 MB) spends its time in Python and small
    kernels that a second thread barely speeds up, while holding both cores of a workstation
    kept every other job waiting: two such jobs side by side finish sooner. Evaluated when
    the job is ready to run (Snakemake recomputes resources then), so the inputs exist.
    Thread-count-invariant rules pass ``ONE_THREAD_BELOW_MB`` (above).
    """

    def threads(wildcards, input, attempt):
        return 1 if input_mb(input) < min_input_mb else max_threads

    return threads


def dataset_ids_regex(types):
    """Wildcard constraint matching the configured data sets of the given types."""
    return regex_alternatives([ds for ds, spec in DATASETS.items() if spec["type"] in types])


def eval_runs_regex(types):
    """Wildcard constraint matching the configured data sets of the given types with an evaluation set."""
    return regex_alternatives([ds for ds, spec in DATASETS.items() if spec["type"] in types and _has_eval_set(spec)])


def eval_embeddings(wildcards):
    """The run's evaluation-set embeddings as a one-path list (a dataset with an evaluation set), else []."""
    if has_eval_set(wildcards.dataset):
        return [f"results/{wildcards.dataset}/{wildcards.encoder}/eval/embeddings.npz"]
    return []


def eval_dataset_files(wildcards):
    """Local files the evaluation set reads (eval_path, eval_labels_path; a features file, or
    the fit set's own file with eval_fraction), so a changed file reruns its job."""
    spec = DATASETS[wildcards.dataset]
    if spec.get("eval_fraction") is not None:
        return dataset_files(wildcards)
    keys = ["eval_labels_path", "synsets"] + (["eval_path"] if spec["type"] == "features" else [])
    return [spec[k] for k in keys if spec.get(k)]


def dataset_files(wildcards):
    """Local files a dataset entry reads (features, labels, synsets), so a changed file reruns the job."""
    spec = DATASETS[wildcards.dataset]
    keys = ["labels_path", "synsets"]
    if spec["type"] == "features":
        keys.append("path")
    return [spec[k] for k in keys if spec.get(k)]
