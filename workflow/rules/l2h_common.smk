# Helpers of the L2H stage (l2h.smk): the sources of each (dataset, encoder) run, decided from
# the config alone; report_common.smk lists the same sources. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Uses:
#   common.smk: DATASETS, ENCODERS, RUNS, embeddings_path, features_file_has_logits, has_reference
#   heads_common.smk: HEADS_DATASETS, HEADS_METHODS, HEADS_SEEDS, heads_dir
#   trees_common.smk: null_input
import functools
import os

L2H = config["l2h"]  # defaults filled by validate() from the schema (the one source of truth)
L2H_PARAMS = {
    key: L2H[key]
    for key in ("kmeans_temperature", "baseline_pca_components", "baseline_max_samples",
                "dp_exact_max_cells", "dp_n_pairs", "seed")
}


@functools.lru_cache(maxsize=None)
def _timm_head_classes(model):
    """Classes of a timm model's pretrained head (its pretrained config; no download)."""
    import timm  # deferred: seconds of import, only for an imagenet run of a timm encoder

    cfg = timm.models.get_pretrained_cfg(model)
    return getattr(cfg, "num_classes", None) if cfg is not None else None


@functools.lru_cache(maxsize=None)
def l2h_has_classifier(dataset, encoder):
    """Whether the run's embeddings carry classifier logits with one column per class.

    Decided from the config alone: a features file whose `logits` have one column per
    class, or an imagenet dataset embedded by a pretrained timm model whose head has
    1000 classes (timm's pretrained config; in21k heads and headless models excluded).
    """
    spec = DATASETS[dataset]
    if spec["type"] == "features":
        return features_file_has_logits(dataset)
    if spec["type"] == "imagenet":
        enc = ENCODERS[encoder]
        return enc["type"] == "timm" and enc.get("pretrained", True) is True and \
            _timm_head_classes(enc["model"]) == 1000
    return False


def l2h_sources(dataset, encoder):
    """The run's L2H sources (report.smk reads this too)."""
    wanted = L2H["sources"]
    out = [s for s in wanted if s != "classifier" or l2h_has_classifier(dataset, encoder)]
    # temi / scanv2: the heads stage's soft assignments, where that head runs (heads_common.smk).
    out = [s for s in out if s not in ("temi", "scanv2") or l2h_has_head(dataset, s)]
    return out + ["agglomerative"]


def l2h_has_head(dataset, head):
    """Whether the heads stage trains ``head`` on ``dataset`` (heads.methods, heads.datasets)."""
    return head in HEADS_METHODS and dataset in HEADS_DATASETS


def l2h_inputs(wildcards):
    inputs = {"embeddings": embeddings_path(wildcards)}
    if wildcards.source in ("temi", "scanv2"):
        # The first seed of heads.seeds: L2H builds one tree per source (repeated L2H runs over
        # the heads' seeds would need l2h.seeds and a {seed} in the L2H paths).
        run = heads_dir(wildcards.dataset, wildcards.encoder, wildcards.source, "classes", HEADS_SEEDS[0])
        inputs["heads"] = os.path.join(run, "labels.npz")
    if has_reference(wildcards.dataset):
        inputs["reference"] = f"results/{wildcards.dataset}/reference.nwk"
        inputs["null"] = null_input(wildcards)  # chance levels of the tree scores (trees.null_trees)
    return inputs


def l2h_targets():
    return [
        f"results/{ds}/{enc}/l2h/{src}/{name}"
        for ds, enc in RUNS
        for src in l2h_sources(ds, enc)
        for name in ("linkage.npy", "tree.nwk", "metrics.tsv", "dendrogram.png", "leaves.tsv")
    ]
