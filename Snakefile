# embtree entry point for `snakemake` in the checkout. The workflow itself, with `rule all`,
# lives in workflow/Snakefile (the workflow-catalog layout: usable as a module). Snakemake
# ignores `default_target` on an included rule, so the default target is restated here.
include: "workflow/Snakefile"


rule default:
    input:
        rules.all.input,
    default_target: True
    localrule: True
