# Stage: each data set's reference hierarchy over its own class names (embtree.hierarchy.reference).
#
#   reference_tree:     reference_tree: <file.nwk> or reference: cifar10|cifar100|cifar100-coarse|
#                       imagenet (shipped), pruned to the data set's classes; planted-tree data
#   wordnet_reference:  reference: wordnet -- built from WordNet for any class set (the only job
#                       of `all` that needs WordNet: an installed WordNet 3.0, else the copy shipped
#                       in embtree; found and opened at DAG build), with the class -> synset mapping
#   hierarchies:        rebuilds the shipped references (SHIPPED_REFERENCES) into
#                       results/hierarchies/ from WordNet; not part of `all`
#
# The first two read the class names (and WNIDs) from the first run's embeddings.npz, so they
# agree with the embeddings by construction and need no image library.
#
# Uses:
#   common.smk: DATASETS, STAGE_TARGETS, has_reference, regex_alternatives
#   reference_common.smk: HIERARCHY_FILES, WORDNET_DIR, reference_inputs, reference_kind


rule reference_tree:
    """The reference hierarchy from a Newick file (pruned to the classes) or the planted tree."""
    input:
        unpack(reference_inputs),
    output:
        "results/{dataset}/reference.nwk",
    log:
        "logs/{dataset}/reference_tree.log",
    benchmark:
        "logs/benchmarks/{dataset}/reference_tree.tsv"
    params:
        dataset=lambda wc: DATASETS[wc.dataset],
    wildcard_constraints:
        dataset=regex_alternatives([ds for ds in DATASETS if reference_kind(ds) in ("newick", "planted")]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_tree.py"


rule wordnet_reference:
    """The WordNet reference hierarchy of any class set (synsets TSV, WNIDs, or first noun sense)."""
    input:
        unpack(reference_inputs),
    output:
        nwk="results/{dataset}/reference.nwk",
        synsets="results/{dataset}/synsets.tsv",
    log:
        "logs/{dataset}/wordnet_reference.log",
    benchmark:
        "logs/benchmarks/{dataset}/wordnet_reference.tsv"
    params:
        wordnet_dir=WORDNET_DIR,
    wildcard_constraints:
        dataset=regex_alternatives([ds for ds in DATASETS if reference_kind(ds) == "wordnet"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/wordnet_reference.py"


rule hierarchies:
    """Rebuild the shipped WordNet reference trees into results/hierarchies/ (not part of `all`; needs WordNet 3.0)."""
    output:
        HIERARCHY_FILES,
    log:
        "logs/hierarchies.log",
    benchmark:
        "logs/benchmarks/hierarchies.tsv"
    params:
        wordnet_dir=WORDNET_DIR,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/make_hierarchies.py"


STAGE_TARGETS.append(
    lambda: [f"results/{ds}/reference.nwk" for ds in DATASETS if has_reference(ds)]
    + [f"results/{ds}/synsets.tsv" for ds in DATASETS if reference_kind(ds) == "wordnet"]
)
