"""Rule reference_tree: the dataset's reference hierarchy as Newick over its class names."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from pathlib import Path  # noqa: E402

from embtree.datasets import check_tree_leaves, dataset_class_names, load_dataset  # noqa: E402
from embtree.io import write_text  # noqa: E402

spec = snakemake.params.dataset  # noqa: F821
if spec.get("reference_tree"):
    source = spec["reference_tree"]
    newick = Path(source).read_text().strip()
elif spec["type"] == "planted-tree":
    source = "planted-tree generator"
    newick = load_dataset(spec).newick
else:
    raise ValueError(f"dataset {snakemake.wildcards.dataset} has no reference tree")  # noqa: F821
names = dataset_class_names(spec, cache_dir=snakemake.params.cache_dir)  # noqa: F821
check_tree_leaves(newick, names, source=source)
write_text(snakemake.output[0], newick + "\n")  # noqa: F821
log.info("reference tree from %s: %d leaves", source, len(names))
