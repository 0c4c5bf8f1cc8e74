"""Rule wordnet_reference: the WordNet reference hierarchy of any class set (embtree.hierarchy.reference)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from embtree.hierarchy.catalogue import read_synset_mapping  # noqa: E402
from embtree.hierarchy.reference import class_info_from_arrays, class_synsets, wordnet_reference  # noqa: E402
from embtree.hierarchy.wordnet import load_wordnet  # noqa: E402

from embtree.data.store import load_embeddings  # noqa: E402
from embtree.io import write_table, write_text  # noqa: E402

inp = snakemake.input  # noqa: F821
emb = load_embeddings(inp.embeddings)
names, wnids = class_info_from_arrays(emb.class_names, emb.wnids)
mapping = read_synset_mapping(inp.synsets) if "synsets" in inp.keys() else None
wn = load_wordnet(snakemake.params.wordnet_dir)  # noqa: F821 - logs which WordNet (installed or shipped)
table = class_synsets(names, wn=wn, wnids=wnids, mapping=mapping)
newick, warnings = wordnet_reference(table, wn=wn)
log.info("synsets: %s", table["source"].value_counts().to_dict())
write_table(snakemake.output.synsets, table)  # noqa: F821
write_text(snakemake.output.nwk, newick + "\n")  # noqa: F821
if warnings:
    # Also on the terminal (Snakemake shows a job's stdout): a guessed synset changes every score.
    print(f"[wordnet_reference] {len(warnings)} class(es) need a look, see {snakemake.output.synsets}:")  # noqa: F821
    for w in warnings:
        print("  " + w)
