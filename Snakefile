# embtree -- top-level entry point; the workflow lives in workflow/Snakefile.
include: "workflow/Snakefile"
