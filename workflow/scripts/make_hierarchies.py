"""Regenerate resources/hierarchies/: WordNet 3.0 reference trees + class->synset tables.

cifar10 / cifar100: leaves = class names in the datasets' standard label order
(embtree.wordnet.CIFAR10_SYNSETS / CIFAR100_SYNSETS). cifar100-coarse: leaves =
the 20 superclasses, each placed at the deepest synset its five fine classes
share. imagenet: leaves = the 1000 ILSVRC-2012 WNIDs in timm's class order.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

from pathlib import Path

import pandas as pd

from embtree import io, wordnet

out = Path(snakemake.output[0]).parent  # resources/hierarchies
wn = wordnet.load_wordnet(snakemake.params.wordnet_dir)
log.info("WordNet %s at %s", wn.get_version(), wordnet.find_wordnet(snakemake.params.wordnet_dir))


def write(name, class_names, synsets, note):
    tree = wordnet.reference_tree(synsets, names=class_names, wn=wn)
    defs = [s.definition() for s in wordnet.resolve_synsets(synsets, wn)]
    table = pd.DataFrame(
        {"index": range(len(class_names)), "class_name": class_names, "synset": synsets, "definition": defs}
    )
    io.write_table(out / f"{name}_synsets.tsv", table)
    io.write_text(out / f"{name}.nwk", tree + "\n")
    log.info("%s: %d classes (%s)", name, len(class_names), note)


write("cifar10", list(wordnet.CIFAR10_SYNSETS), list(wordnet.CIFAR10_SYNSETS.values()), "hand-mapped")
write("cifar100", list(wordnet.CIFAR100_SYNSETS), list(wordnet.CIFAR100_SYNSETS.values()), "hand-mapped")
coarse = {
    name: wordnet.common_hypernym([wordnet.CIFAR100_SYNSETS[c] for c in fine], wn=wn)
    for name, fine in wordnet.CIFAR100_SUPERCLASSES.items()
}
write("cifar100-coarse", list(coarse), list(coarse.values()), "superclass = deepest shared hypernym")
wnids = wordnet.imagenet_wnids()
write("imagenet", wnids, wnids, "WNIDs from timm")
