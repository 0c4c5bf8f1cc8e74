# Stage: prefetch -- download every configured model weight and data set into cache_dir.
# Compute nodes often have no internet: run `snakemake prefetch` on the login node first;
# the embed jobs then read the caches offline (embtree.data.extract.encode never downloads).
# Not part of `rule all` and no rule depends on it: a new encoder in the config must not
# make every existing embedding out of date through this rule's params.
#
# Uses:
#   common.smk: DATASETS, ENCODERS, RUNS, is_image_dataset
import os


localrules:
    prefetch,


rule prefetch:
    """Download every configured model weight and data set into config `cache_dir` (login node)."""
    output:
        manifest=f"{config['cache_dir']}/prefetch.json",
    log:
        "logs/prefetch.log",
    benchmark:
        "logs/benchmarks/prefetch.tsv"
    params:
        cache_dir=lambda wildcards, output: os.path.dirname(output.manifest),
        # Only encoders some image data set uses: unused entries are not downloaded.
        encoders={enc: ENCODERS[enc] for ds, enc in RUNS if is_image_dataset(ds)},
        datasets={ds: spec for ds, spec in DATASETS.items() if is_image_dataset(ds)},
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        "../../envs/embedding.yaml"
    script:
        "../scripts/prefetch.py"
