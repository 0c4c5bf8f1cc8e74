# embtree entry point. The workflow lives in workflow/Snakefile; `rule all` stays here because
# Snakemake ignores `default_target` on rules that come from an included file.
include: "workflow/Snakefile"


rule all:
    input:
        all_targets(),
    default_target: True
