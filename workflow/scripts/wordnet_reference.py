"""Rule wordnet_reference: the WordNet reference hierarchy of any class set (embtree.reference)."""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from embtree import reference, wordnet  # noqa: E402
from embtree.io import load_embeddings, write_table, write_text  # noqa: E402

inp = snakemake.input  # noqa: F821
emb = load_embeddings(inp.embeddings)
names, wnids = reference.class_info_from_arrays(emb.class_names, emb.wnids)
mapping = reference.read_synset_mapping(inp.synsets) if "synsets" in inp.keys() else None
wn = wordnet.load_wordnet(snakemake.params.wordnet_dir)  # noqa: F821 - logs which WordNet (installed or shipped)
table = reference.class_synsets(names, wn=wn, wnids=wnids, mapping=mapping)
newick, warnings = reference.wordnet_reference(table, wn=wn)
log.info("synsets: %s", table["source"].value_counts().to_dict())
write_table(snakemake.output.synsets, table)  # noqa: F821
write_text(snakemake.output.nwk, newick + "\n")  # noqa: F821
if warnings:
    # Also on the terminal (Snakemake shows a job's stdout): a guessed synset changes every score.
    print(f"[wordnet_reference] {len(warnings)} class(es) need a look, see {snakemake.output.synsets}:")  # noqa: F821
    for w in warnings:
        print("  " + w)
