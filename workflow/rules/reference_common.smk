# Helpers of the reference stage (reference.smk), kept apart from the rules (snakemake --lint).

# Shipped references live beside this workflow, not in the working directory (module use).
SHIPPED_HIERARCHIES = Path(workflow.current_basedir).resolve().parents[1] / "resources" / "hierarchies"


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


def _reference_inputs(wildcards):
    ds = wildcards.dataset
    inputs = {"embeddings": f"results/{ds}/{dataset_encoders(ds)[0]}/embeddings.npz"}
    if reference_kind(ds) == "newick":
        inputs["newick"] = reference_newick_file(ds)
    if DATASETS[ds].get("synsets"):
        inputs["synsets"] = DATASETS[ds]["synsets"]
    return inputs
