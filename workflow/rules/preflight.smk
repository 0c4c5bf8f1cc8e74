# Checks before any job (embtree.preflight): mistakes in encoders and image folders (layout,
# 0-byte / unreadable files), shard counts (reference trees: reference_common.smk) stop the DAG
# build with the config key named. All cheap -- model names come from the libraries' source registries (no
# torch/timm/open_clip import), folders are listed, never decoded -- so `snakemake -n` stays
# fast. Feature-file checks live in common.smk.
#
# Uses:
#   common.smk: DATASETS, ENCODERS, FOLDER_TYPES, RUNS, config_error, is_image_dataset
import os

from embtree import preflight as _preflight  # noqa: E402

_USED_ENCODERS = sorted({enc for ds, enc in RUNS if is_image_dataset(ds)})

for _enc in _USED_ENCODERS:
    for _key, _msg in _preflight.check_encoder(ENCODERS[_enc]):
        config_error(f"encoders.{_enc}.{_key}", _msg)

# One listing per image folder (with sizes: a 0-byte or unreadable image stops the DAG build
# here instead of a DataLoader worker), reused for the embed jobs' manifests.
_IMAGE_LISTINGS = {}
for _ds, _spec in DATASETS.items():
    if _spec["type"] in FOLDER_TYPES:
        _entries = _preflight.scan_images(_spec["path"]) if os.path.isdir(_spec["path"]) else None
        for _msg in _preflight.check_image_folder(_spec["path"], _spec["type"], _spec.get("labels_path"),
                                                  entries=_entries):
            config_error(f"datasets.{_ds}.path", _msg)
        _IMAGE_LISTINGS[_ds] = _entries
        if _spec.get("eval_path"):
            _held = _spec["eval_path"]
            _held_entries = _preflight.scan_images(_held) if os.path.isdir(_held) else None
            for _msg in _preflight.check_image_folder(_held, _spec["type"], _spec.get("eval_labels_path"),
                                                      entries=_held_entries):
                config_error(f"datasets.{_ds}.eval_path", _msg)
            _IMAGE_LISTINGS[(_ds, "eval")] = _held_entries
            _fit_classes = sorted(e.name for e in os.scandir(_spec["path"]) if e.is_dir() and not e.name.startswith("."))
            _held_classes = sorted(e.name for e in os.scandir(_held) if e.is_dir() and not e.name.startswith("."))
            if _fit_classes and _held_classes and _fit_classes != _held_classes:
                _only = sorted(set(_fit_classes) ^ set(_held_classes))[:5]
                config_error(f"datasets.{_ds}.eval_path", f"{_held} has other class folders than {_spec['path']} "
                             f"(e.g. {_only}): the evaluation set needs the same classes")

# `shards`: image data sets with timm / open_clip encoders only, and at most one shard per batch of
# images (counted from constants and the listings above; the shard job recounts exactly
# where imbalance / eval_fraction leave fewer).
for _ds, _spec in DATASETS.items():
    if _spec.get("shards") is not None:
        _n_images, _ = _preflight.image_count(_spec, _IMAGE_LISTINGS.get(_ds)) if "encoders" in _spec else (None, False)
        for _msg in _preflight.check_shards(_spec, ENCODERS, _n_images):
            config_error(f"datasets.{_ds}.shards", _msg)


def embed_preflight(wildcards):
    """Input function of `embed`: stop at DAG build when the weights are known not to be cached.

    Embedding jobs never download (compute nodes have no internet), so weights missing from
    cache_dir would fail the job; an input function runs only for embed jobs in the DAG, so
    `snakemake prefetch` itself (and runs whose embeddings exist) are not affected.
    """
    if os.path.exists(f"results/{wildcards.dataset}/{wildcards.encoder}/embeddings.npz"):
        return []
    spec = ENCODERS[wildcards.encoder]
    if _preflight.weights_cache_status(spec, config["cache_dir"]) is False:
        what = spec["model"] + (f" (pretrained: {spec['pretrained']})" if isinstance(spec.get("pretrained"), str) else "")
        config_error(
            f"encoders.{wildcards.encoder}.pretrained",
            f"the pretrained weights of {what} are not in cache_dir={config['cache_dir']} and embedding "
            "jobs never download. Fetch them first, on a machine with internet: "
            "`snakemake prefetch --cores 1` (same --configfile), then copy cache_dir here if needed; "
            "or set `checkpoint: /path/to/weights`, or `pretrained: false` for random weights.",
        )
    return []


def image_folder_manifest(wildcards):
    """`embed` params: a digest of the image files, so adding/removing/changing one re-embeds."""
    spec = DATASETS[wildcards.dataset]
    if spec["type"] in FOLDER_TYPES:
        return _preflight.image_manifest(spec["path"], entries=_IMAGE_LISTINGS.get(wildcards.dataset))
    return None


def eval_image_folder_manifest(wildcards):
    """`embed_eval` params: the digest of the evaluation set's image files (eval_path)."""
    spec = DATASETS[wildcards.dataset]
    if spec["type"] in FOLDER_TYPES and spec.get("eval_path"):
        return _preflight.image_manifest(spec["eval_path"], entries=_IMAGE_LISTINGS.get((wildcards.dataset, "eval")))
    return None
