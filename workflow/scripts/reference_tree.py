"""Rule reference_tree: a Newick reference (pruned to the data set's classes) or the planted tree."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from pathlib import Path  # noqa: E402

from embtree.hierarchy.newick import check_tree_leaves  # noqa: E402
from embtree.data.datasets import load_dataset  # noqa: E402
from embtree.data.store import load_embeddings  # noqa: E402
from embtree.io import write_text  # noqa: E402
from embtree.hierarchy.reference import class_info_from_arrays, restrict_tree  # noqa: E402

spec = snakemake.params.dataset  # noqa: F821
emb = load_embeddings(snakemake.input.embeddings)  # noqa: F821
names, wnids = class_info_from_arrays(emb.class_names, emb.wnids)
if spec["type"] == "planted-tree":
    source = "planted-tree generator"
    newick = load_dataset(spec).newick
    check_tree_leaves(newick, names, source=source)
else:
    source = snakemake.input.newick  # noqa: F821
    newick, dropped = restrict_tree(Path(source).read_text().strip(), names, wnids, source=source)
    if dropped:
        log.info("pruned %d leaves that are not classes of this data set: %s", len(dropped), dropped[:20])
write_text(snakemake.output[0], newick + "\n")  # noqa: F821
log.info("reference tree from %s: %d leaves", source, len(names))
