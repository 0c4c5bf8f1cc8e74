"""Rule hierarchies: rebuild the WordNet reference trees shipped in resources/hierarchies/.

Writes them under results/hierarchies/ (so the shipped copies never become outputs of the
main workflow); `diff`/copy them into resources/hierarchies/ to update the shipped ones.
"""

from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))  # noqa: F821 - injected by Snakemake

from pathlib import Path  # noqa: E402

from embtree.hierarchy.reference import builtin_hierarchies  # noqa: E402
from embtree.hierarchy.wordnet import find_wordnet, load_wordnet  # noqa: E402
from embtree import io  # noqa: E402

out = Path(snakemake.output[0]).parent  # noqa: F821
wn = load_wordnet(snakemake.params.wordnet_dir)  # noqa: F821
log.info("WordNet %s at %s", wn.get_version(), find_wordnet(snakemake.params.wordnet_dir))  # noqa: F821
for name, (tree, table) in builtin_hierarchies(wn=wn).items():
    io.write_table(out / f"{name}_synsets.tsv", table)
    io.write_text(out / f"{name}.nwk", tree + "\n")
    log.info("%s: %d classes", name, len(table))
