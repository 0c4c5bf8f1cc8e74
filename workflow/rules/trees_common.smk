# Helpers of the trees stage (trees.smk), kept apart from the rules (snakemake --lint).


def tree_files(suffix):
    """Every (tree metric, point) file of one CAEC run, in the order the tree scripts write them."""
    return expand(f"results/{{{{dataset}}}}/{{{{encoder}}}}/trees/{{{{cluster_metric}}}}/{{tree_metric}}/{{point}}{suffix}",
                  tree_metric=config["trees"]["metrics"], point=config["trees"]["points"])


def before_tree_files(suffix):
    """Every tree-metric file of the before-clustering trees of one run."""
    return expand(f"results/{{{{dataset}}}}/{{{{encoder}}}}/trees/before/{{tree_metric}}{suffix}",
                  tree_metric=config["trees"]["metrics"])


def null_input(wildcards):
    """The data set's null distribution of tree scores (trees.null_trees > 0), else nothing."""
    return [f"results/{wildcards.dataset}/reference_null.tsv"] if config["trees"]["null_trees"] else []
