# Helpers of the L2H stage (l2h.smk): the sources of each (dataset, encoder) run, decided from
# the config alone; report_common.smk lists the same sources. Kept apart from the rules
# (snakemake --lint: no functions next to rules).
#
# Repeated runs (l2h.seeds): a source whose logits come from a training run (kmeans: soft k-means;
# temi / scanv2: a heads run) builds one tree per seed, in l2h/{source}/seed{seed}/; L2H seed s of
# temi / scanv2 reads the heads run of seed s, so those sources run over the seeds heads.seeds also
# trains. The deterministic sources (classifier logits, the agglomerative baseline) build one tree,
# in l2h/{source}/, with the first seed (PCA solver, Ward subsample, sampled DP).
#
# Uses:
#   common.smk: DATASETS, ENCODERS, RUNS, config_error, embeddings_path, eval_embeddings,
#       features_file_has_logits, has_eval_set, has_reference
#   heads_common.smk: HEADS_DATASETS, HEADS_METHODS, HEADS_SEEDS, heads_dir
#   trees_common.smk: null_input
import functools
import os

L2H = config["l2h"]  # defaults filled by validate() from the schema (the one source of truth)
L2H_PARAMS = {
    key: L2H[key]
    for key in ("kmeans_temperature", "baseline_pca_components", "baseline_max_samples",
                "dp_exact_max_cells", "dp_n_pairs")
}
L2H_SEEDS = [int(s) for s in L2H["seeds"]]  # schema: unique, at least one
# The sources with a training run behind their logits: one tree per seed.
L2H_SEEDED = ("kmeans", "temi", "scanv2")
# temi / scanv2: the L2H seeds with a heads run of the same seed (in l2h.seeds' order).
L2H_HEADS_SEEDS = [s for s in L2H_SEEDS if s in HEADS_SEEDS]


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


def l2h_seeds(source):
    """The seeds of a source's trees: l2h.seeds (kmeans), those heads.seeds also trains (temi,
    scanv2), or [] for a deterministic source (one tree, no seed in its path)."""
    if source in ("temi", "scanv2"):
        return L2H_HEADS_SEEDS
    return L2H_SEEDS if source in L2H_SEEDED else []


def l2h_seed(wildcards):
    """The seed of one L2H job: its {seed} wildcard, or the first of l2h.seeds for a deterministic source."""
    return int(wildcards.seed) if "seed" in wildcards.keys() else L2H_SEEDS[0]


def l2h_params(wildcards):
    # bootstrap: replicates of the clade support (trees.bootstrap, seeded by the job's seed).
    return {**L2H_PARAMS, "seed": l2h_seed(wildcards), "bootstrap": config["trees"]["bootstrap"]}


def l2h_dir(dataset, encoder, source, seed=None):
    """results/{dataset}/{encoder}/l2h/{source}[/seed{seed}]: one L2H job's outputs."""
    parts = ["results", dataset, encoder, "l2h", source] + ([] if seed is None else [f"seed{seed}"])
    return os.path.join(*parts)


def l2h_benchmark(dataset, encoder, source, seed=None):
    """The benchmark file of one L2H job (the `benchmark:` of rules l2h / l2h_seeded, which it mirrors):
    logs/benchmarks/{dataset}/{encoder}/l2h/{source}[/seed{seed}].tsv."""
    tail = f"{source}.tsv" if seed is None else os.path.join(source, f"seed{seed}.tsv")
    return os.path.join("logs", "benchmarks", dataset, encoder, "l2h", tail)


def l2h_runs(dataset, encoder):
    """The run's L2H jobs as (source, seed), seed None for a deterministic source."""
    return [(src, s) for src in l2h_sources(dataset, encoder) for s in (l2h_seeds(src) or [None])]


def l2h_first_runs(dataset, encoder):
    """One (source, seed) per source: the first seed of a seeded source (the report's dendrograms)."""
    return [(src, (l2h_seeds(src) or [None])[0]) for src in l2h_sources(dataset, encoder)]


def l2h_inputs(wildcards):
    inputs = {"embeddings": embeddings_path(wildcards)}
    if wildcards.source in ("temi", "scanv2"):
        # L2H seed s on the heads run of seed s (l2h_seeds: only the seeds heads.seeds holds).
        run = heads_dir(wildcards.dataset, wildcards.encoder, wildcards.source, "classes", int(wildcards.seed))
        inputs["heads"] = os.path.join(run, "labels.npz")
    if has_reference(wildcards.dataset):
        inputs["reference"] = f"results/{wildcards.dataset}/reference.nwk"
        inputs["null"] = null_input(wildcards)  # chance levels of the tree scores (trees.null_trees)
    if has_eval_set(wildcards.dataset):  # leaf purity / DP / LHD / ACC also on the held-out set
        inputs["eval_embeddings"] = eval_embeddings(wildcards)
    return inputs


def l2h_targets():
    return [
        os.path.join(l2h_dir(ds, enc, src, s), name)
        for ds, enc in RUNS
        for src, s in l2h_runs(ds, enc)
        for name in ("linkage.npy", "tree.nwk", "metrics.tsv", "dendrogram.png", "leaves.tsv")
    ]


def _check_l2h_seeds():
    """temi / scanv2 build on the heads run of the same seed: without a seed in common they have none."""
    if L2H_HEADS_SEEDS:
        return
    heads = [src for src in ("temi", "scanv2") if src in L2H["sources"] and any(l2h_has_head(ds, src) for ds, _ in RUNS)]
    if heads:
        names = " / ".join(heads)
        config_error("l2h.seeds", f"{L2H_SEEDS} has no seed in common with heads.seeds {HEADS_SEEDS}: the {names} "
                     f"source{'s build' if len(heads) > 1 else ' builds'} one tree per heads run of the same seed; "
                     f"add one of heads.seeds to l2h.seeds, or leave {names} out of l2h.sources")


_check_l2h_seeds()
