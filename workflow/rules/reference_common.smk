# Helpers of the reference stage (reference.smk), kept apart from the rules (snakemake --lint),
# and the reference-tree checks at DAG build.
#
# Uses:
#   common.smk: DATASETS, config_error, dataset_encoders, features_file_info
import os
from pathlib import Path

from embtree.hierarchy.catalogue import builtin_wnids, read_synset_mapping
from embtree.hierarchy.reference import SHIPPED_REFERENCES, class_info_from_arrays
from embtree.preflight import check_reference_tree

# Shipped references live beside this workflow, not in the working directory (module use).
SHIPPED_HIERARCHIES = Path(workflow.current_basedir).resolve().parents[1] / "resources" / "hierarchies"
# Rebuilt copies of resources/hierarchies/ (job `hierarchies`); the shipped files are never
# outputs, so a fresh clone does not try to regenerate them, which would need WordNet.
HIERARCHY_FILES = [f"results/hierarchies/{name}{suffix}" for name in SHIPPED_REFERENCES
                   for suffix in [".nwk", "_synsets.tsv"]]


def reference_kind(dataset):
    """"planted", "wordnet", "newick" (a file or a shipped name) or None."""
    spec = DATASETS[dataset]
    if spec["type"] == "planted-tree":
        return "planted"
    if spec.get("reference") == "wordnet":
        return "wordnet"
    if spec.get("reference") or spec.get("reference_tree"):
        return "newick"
    return None


def reference_newick_file(dataset):
    spec = DATASETS[dataset]
    if spec.get("reference_tree"):
        return spec["reference_tree"]
    return str(SHIPPED_HIERARCHIES / f"{spec['reference']}.nwk")


def reference_inputs(wildcards):
    """Inputs of the reference jobs: the first run's embeddings (class names, WNIDs), the Newick, the synsets TSV."""
    ds = wildcards.dataset
    inputs = {"embeddings": f"results/{ds}/{dataset_encoders(ds)[0]}/embeddings.npz"}
    if reference_kind(ds) == "newick":
        inputs["newick"] = reference_newick_file(ds)
    if DATASETS[ds].get("synsets"):
        inputs["synsets"] = DATASETS[ds]["synsets"]
    return inputs


def _known_classes(dataset):
    """``(class_names, wnids)`` of a data set where they are cheap to know at DAG build
    (features file headers, the built-in CIFAR / digits lists, an image folder's class
    sub-folders), else None. None as well with a `synsets` TSV, which may supply the WNIDs
    a reference tree is matched by."""
    # deferred: the data loaders (~0.1 s), needed only for a Newick reference
    from embtree.data.datasets import dataset_class_names
    from embtree.data.images import folder_wnids

    spec = DATASETS[dataset]
    if spec.get("synsets"):
        return None
    kind = spec["type"]
    if kind == "features":  # read (and checked) with the file's headers
        info = features_file_info(dataset)
        names, wnids = info["class_names"], info["wnids"]
    elif kind in ("cifar10", "cifar100", "cifar100-coarse", "digits", "mnist", "mnist-tran"):
        names, wnids = [str(c) for c in dataset_class_names(spec)], None
    elif kind == "imagefolder" and Path(spec["path"]).is_dir():
        names = sorted(p.name for p in Path(spec["path"]).iterdir() if p.is_dir() and not p.name.startswith("."))
        return class_info_from_arrays(names, folder_wnids(names))  # as the loader
    else:
        return None
    return class_info_from_arrays(names, builtin_wnids(names) if wnids is None else wnids)


def _check_reference_trees():
    """A Newick reference (`reference_tree`, or a shipped `reference`) that does not parse, or
    whose leaves miss the data set's classes, stops the DAG build naming the file and the key
    (the reference_tree job would fail the same way). Main process only: parsing costs ~1 s
    per 1,000 leaves, and a cluster job's re-parse of the workflow need not repeat it."""
    for ds, spec in DATASETS.items():
        if reference_kind(ds) != "newick":
            continue
        key = "reference_tree" if spec.get("reference_tree") else "reference"
        classes = _known_classes(ds)
        if key == "reference" and classes is None:
            continue  # a shipped tree parses; only its fit to known classes is worth checking
        for msg in check_reference_tree(reference_newick_file(ds), *(classes or (None, None))):
            config_error(f"datasets.{ds}.{key}", msg)


# After the image folder checks of preflight.smk (reference.smk is included after it).
if workflow.is_main_process:
    _check_reference_trees()


# WordNet, for `reference: wordnet` (job wordnet_reference): located and opened at DAG build, so a
# missing or unreadable WordNet stops `snakemake -n` with the config key named, never a job. With
# wordnet.dir unset this finds the copy shipped inside embtree when no other WordNet is installed.
from embtree.hierarchy import wordnet as _wordnet  # noqa: E402

WORDNET_DIR = config["wordnet"].get("dir")
_WORDNET_DATASETS = [ds for ds in DATASETS if reference_kind(ds) == "wordnet"]

if _WORDNET_DATASETS:
    try:
        _wordnet.check_wordnet(WORDNET_DIR)
    except _wordnet.WordNetNotFoundError as _err:
        config_error(
            "wordnet.dir",
            f"{_err}\n(WordNet is needed by `reference: wordnet` of datasets {_WORDNET_DATASETS})",
        )


def check_synsets_tsv(dataset):
    """Stop at DAG build when the `synsets` TSV of a `reference: wordnet` dataset is unreadable
    or names a synset WordNet lacks (loads WordNet: a few seconds)."""
    key, path = f"datasets.{dataset}.synsets", DATASETS[dataset]["synsets"]
    try:
        mapping = read_synset_mapping(path)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        config_error(key, f"cannot read {path}: {err}")
    try:
        wn = _wordnet.load_wordnet(WORDNET_DIR)
    except _wordnet.WordNetNotFoundError as err:
        config_error("wordnet.dir", f"{err}\n(WordNet is needed to check {key}: {path})")
    bad = set(_wordnet.unknown_synsets(mapping.values(), wn))
    rows = [f"{name!r} -> {sid!r}" for name, sid in mapping.items() if sid in bad]
    if rows:
        config_error(
            key,
            f"{path}: {len(rows)} class(es) map to ids that are not WordNet 3.0 noun synsets: "
            f"{', '.join(rows[:10])}{' ...' if len(rows) > 10 else ''}. Give WNIDs (n02084071) or "
            f"synset names (dog.n.01); results/{dataset}/synsets.tsv of a run without `synsets` "
            "lists WordNet's guesses to start from.",
        )


def _wordnet_reference_done(dataset):
    """Both outputs of `wordnet_reference` exist and are newer than the synsets TSV (checked then)."""
    tsv = DATASETS[dataset]["synsets"]
    outs = [f"results/{dataset}/reference.nwk", f"results/{dataset}/synsets.tsv"]
    return all(os.path.exists(o) and os.path.getmtime(o) >= os.path.getmtime(tsv) for o in outs)


# Checked while parsing, not in an input function (whose errors come wrapped in a traceback);
# skipped once the reference is built from the current TSV, so later runs load no WordNet here.
for _ds in _WORDNET_DATASETS:
    if DATASETS[_ds].get("synsets") and not _wordnet_reference_done(_ds):
        check_synsets_tsv(_ds)
