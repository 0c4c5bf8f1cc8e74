"""Paper 002's fine-grained benchmarks of a run (embtree.heads.hzr): the leaf-class subset and the
leaf-HZR / p-HZR relabellings of its samples by the reference tree.

labels.npz: ``leaf`` [N] bool, ``leaf_hzr`` [N], ``p_hzr`` [N] (class ids), ``hierarchical`` (scalar
bool: some class is a hypernym of another); with a held-out set the same prefixed ``eval_``.
variants.tsv: per split and benchmark its samples, classes and relabelled samples (``applies``
False where it equals the classes); moves.tsv: per split, variant and original class with hyponyms,
the counts of its reassessed classes.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from embtree import io  # noqa: E402
from embtree.data.store import load_embeddings, load_eval_embeddings  # noqa: E402
from embtree.heads.hzr import hierarchy_variants, moves_table, variants_table  # noqa: E402
from embtree.hierarchy.catalogue import read_synset_mapping  # noqa: E402
from embtree.hierarchy.class_tree import class_tree  # noqa: E402

emb = load_embeddings(snakemake.input.embeddings)
syn = None
if snakemake.input.synsets:
    mapping = read_synset_mapping(snakemake.input.synsets[0])
    syn = [mapping.get(str(c), "") for c in emb.class_names]
tree = class_tree(Path(snakemake.input.reference[0]).read_text(), emb.class_names, syn)
held = (load_eval_embeddings(snakemake.input.eval_embeddings[0], emb) if snakemake.input.eval_embeddings
        else None)
variants = hierarchy_variants(emb.features, emb.labels, tree, None if held is None else held.features,
                              None if held is None else held.labels)
if not tree.hierarchical:
    log.warning("%s: no class of %s is a hypernym of another, so the leaf subset, leaf HZR and p-HZR "
                "are the classes themselves", snakemake.wildcards.dataset, snakemake.input.reference[0])
sizes, moves = [], []
for split, prefix, labels in [("fit", "", emb.labels)] + ([] if held is None else [("eval", "eval_", held.labels)]):
    sizes.append(variants_table(labels, variants, prefix).assign(split=split))
    moves.append(moves_table(labels, variants, emb.class_names, prefix).assign(split=split))
sizes = pd.concat(sizes, ignore_index=True)
for row in sizes.itertuples():
    log.info("%s %s: %d samples, %d classes, %d relabelled", row.split, row.variant, row.n_samples,
             row.n_classes, row.n_relabelled)
io.save_npz(snakemake.output.labels, hierarchical=np.bool_(tree.hierarchical), **variants)
io.write_table(snakemake.output.variants, sizes[["split", "variant", "n_samples", "n_classes", "n_relabelled",
                                                 "applies"]])
moves = pd.concat(moves, ignore_index=True)
io.write_table(snakemake.output.moves, moves[["split", "variant", "original", "reassessed", "n"]])
