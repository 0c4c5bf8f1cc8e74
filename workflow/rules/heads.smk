# Stage: deep clustering heads (paper 002): TEMI (eq. 1) and SCANv2 (eq. 2) on frozen
# embeddings, the cosine k-means baseline, and the class-granularity benchmark
# (coarse labels at max depth d of the reference tree). Algorithms in embtree.heads.
# Repeated runs: one training job per seed of heads.seeds (heads/{head}/seed{seed}/), all
# reading the one kNN file (no seed changes it). A held-out evaluation set (eval/embeddings.npz)
# is read by the training, k-means and probe jobs: fitted on the fit set, scored on both.
# Sweeps (heads.knn / heads.n_clusters as lists, paper 002 figs. 5-6): the first value is the main
# run, every further one a {variant} (knn{k}, clusters{value}) in heads/{head}/{variant}/seed{seed}/.
# The class separability of every run's embedding (fig. 4): heads/separability.tsv.
#
# Uses:
#   common.smk: ONE_THREAD_BELOW_MB, STAGE_TARGETS, eval_embeddings, regex_alternatives, scaled_mem_mb,
#       scaled_runtime, scaled_threads
#   heads_common.smk: HEADS_ANCESTORS, HEADS_CFG, HEADS_DEPTHS, HEADS_METHODS, HEADS_SEEDS, HEADS_VARIANT_NAMES,
#       PROBE_CFG, SEPARABILITY_CFG, heads_hzr_input, heads_mem_mb, heads_multi_labels, heads_params,
#       heads_reference, heads_sweep, heads_synsets, heads_targets


wildcard_constraints:
    head=regex_alternatives(HEADS_METHODS),
    depth=regex_alternatives([str(d) for d in HEADS_DEPTHS]),
    variant=regex_alternatives(HEADS_VARIANT_NAMES),


rule heads_knn:
    """Cosine kNN of every embedding (self excluded) by heads.knn_backend, on the heads' device; shared by TEMI and SCANv2; recall@k of approximate backends."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
    output:
        knn="results/{dataset}/{encoder}/heads/knn.npy",
        recall="results/{dataset}/{encoder}/heads/knn_recall.tsv",
    log:
        "logs/{dataset}/{encoder}/heads/knn.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/knn.tsv"
    params:
        # the knn* keys only: a training or k-means setting (epochs, kmeans_backend) never reruns the kNN
        heads=lambda wc: {k: v for k, v in heads_params(wc.dataset).items() if k.startswith("knn")},
        device=HEADS_CFG.get("device", "auto"),
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        mem_mb=lambda wc, input, attempt: heads_mem_mb(wc, input, attempt),
        runtime=scaled_runtime(10, 0.5),
        gpu=1,  # exact: O(N^2 d) brute force, minutes on a GPU, hours on a few cores at ImageNet-train size
    conda:
        "../../envs/embedding.yaml"
    script:
        "../scripts/heads_knn.py"


rule heads_train:
    """Train H batched student/teacher heads (TEMI or SCANv2) for one seed, keep the lowest-loss head; metrics, loss, calibration plots."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        knn="results/{dataset}/{encoder}/heads/knn.npy",
        eval_embeddings=eval_embeddings,
        reference=heads_reference,
        multi_labels=heads_multi_labels,
        synsets=heads_synsets,
        hzr=heads_hzr_input,
    output:
        labels="results/{dataset}/{encoder}/heads/{head}/seed{seed}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/{head}/seed{seed}/metrics.tsv",
        loss="results/{dataset}/{encoder}/heads/{head}/seed{seed}/loss.tsv",
        heads="results/{dataset}/{encoder}/heads/{head}/seed{seed}/heads.tsv",
        reliability="results/{dataset}/{encoder}/heads/{head}/seed{seed}/reliability.png",
        msp="results/{dataset}/{encoder}/heads/{head}/seed{seed}/msp.png",
    # Rule-level (heads.seeds only): a global constraint would bind every {seed} of other stages.
    wildcard_constraints:
        seed=regex_alternatives([str(s) for s in HEADS_SEEDS]),
    log:
        "logs/{dataset}/{encoder}/heads/{head}/seed{seed}/train.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/{head}/seed{seed}/train.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed),
        device=HEADS_CFG.get("device", "auto"),
        depth=None,
        ancestor_labels=HEADS_ANCESTORS,
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        mem_mb=lambda wc, input, attempt: heads_mem_mb(wc, input, attempt),
        runtime=scaled_runtime(30, 2),
        gpu=1,
    conda:
        # The GPU-tagged env (like embed): CUDA builds of PyTorch are pinned there per site.
        "../../envs/embedding.yaml"
    script:
        "../scripts/heads_train.py"


use rule heads_train as heads_train_coarse with:
    output:
        labels="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/metrics.tsv",
        loss="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/loss.tsv",
        heads="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/heads.tsv",
        reliability="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/reliability.png",
        msp="results/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/msp.png",
    log:
        "logs/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/train.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/{head}/seed{seed}/depth{depth}/train.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed),
        device=HEADS_CFG.get("device", "auto"),
        depth=lambda wc: int(wc.depth),
        ancestor_labels=False,  # label sets of the classes; coarse labels are scored top-1 only


rule heads_kmeans:
    """Cosine k-means baseline of paper 002 (section 5), top-5 = the 5 nearest centres; seeded like the heads."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        eval_embeddings=eval_embeddings,
        reference=heads_reference,
        multi_labels=heads_multi_labels,
        synsets=heads_synsets,
        hzr=heads_hzr_input,
    output:
        labels="results/{dataset}/{encoder}/heads/kmeans/seed{seed}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/kmeans/seed{seed}/metrics.tsv",
    wildcard_constraints:
        seed=regex_alternatives([str(s) for s in HEADS_SEEDS]),
    log:
        "logs/{dataset}/{encoder}/heads/kmeans/seed{seed}/cluster.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/kmeans/seed{seed}/cluster.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed),
        depth=None,
        ancestor_labels=HEADS_ANCESTORS,
    # GEMM-bound (10 restarts of N x K x d similarities), 1.8 cores at two threads; below
    # ONE_THREAD_BELOW_MB it runs on one beside another one-thread job (the same files).
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        mem_mb=scaled_mem_mb(1500, 6),
        runtime=scaled_runtime(10, 1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/heads_kmeans.py"


use rule heads_kmeans as heads_kmeans_coarse with:
    output:
        labels="results/{dataset}/{encoder}/heads/kmeans/seed{seed}/depth{depth}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/kmeans/seed{seed}/depth{depth}/metrics.tsv",
    log:
        "logs/{dataset}/{encoder}/heads/kmeans/seed{seed}/depth{depth}/cluster.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/kmeans/seed{seed}/depth{depth}/cluster.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed),
        depth=lambda wc: int(wc.depth),
        ancestor_labels=False,  # label sets of the classes; coarse labels are scored top-1 only





rule heads_hzr:
    """Fine-grained benchmarks of paper 002 (section 4.2, table 2): leaf subset, leaf HZR and p-HZR labels."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        eval_embeddings=eval_embeddings,
        reference=heads_reference,
        synsets=heads_synsets,
    output:
        labels="results/{dataset}/{encoder}/heads/hzr/labels.npz",
        variants="results/{dataset}/{encoder}/heads/hzr/variants.tsv",
        moves="results/{dataset}/{encoder}/heads/hzr/moves.tsv",
    log:
        "logs/{dataset}/{encoder}/heads/hzr.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/hzr.tsv"
    threads: 1
    resources:
        mem_mb=scaled_mem_mb(1000, 4),
        runtime=scaled_runtime(5, 0.5),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/heads_hzr.py"


rule heads_probe_variants:
    """Linear probe refitted on each fine-grained benchmark and coarse depth (paper 002 table 2 'Probing')."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        eval_embeddings=eval_embeddings,
        hzr="results/{dataset}/{encoder}/heads/hzr/labels.npz",
        reference=heads_reference,
    output:
        variants="results/{dataset}/{encoder}/probe/variants.tsv",
    log:
        "logs/{dataset}/{encoder}/probe/variants.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/probe/variants.tsv"
    params:
        probe=lambda wc: {k: PROBE_CFG[k] for k in ("Cs", "folds", "max_iter", "seed")},
        depths=HEADS_DEPTHS,
    threads: scaled_threads(2)
    resources:
        mem_mb=scaled_mem_mb(1000, 4),
        runtime=scaled_runtime(20, 2),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/heads_probe_variants.py"


use rule heads_train as heads_train_sweep with:
    output:
        labels="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/metrics.tsv",
        loss="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/loss.tsv",
        heads="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/heads.tsv",
        reliability="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/reliability.png",
        msp="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/msp.png",
    log:
        "logs/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/train.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/train.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed, wc.variant),
        device=HEADS_CFG.get("device", "auto"),
        depth=None,
        ancestor_labels=HEADS_ANCESTORS,


use rule heads_train as heads_train_sweep_coarse with:
    output:
        labels="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/metrics.tsv",
        loss="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/loss.tsv",
        heads="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/heads.tsv",
        reliability="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/reliability.png",
        msp="results/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/msp.png",
    log:
        "logs/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/train.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/{head}/{variant}/seed{seed}/depth{depth}/train.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed, wc.variant),
        device=HEADS_CFG.get("device", "auto"),
        depth=lambda wc: int(wc.depth),
        ancestor_labels=False,


# The over-clustering variants only (heads_targets asks for no k-means knn{k} run).
use rule heads_kmeans as heads_kmeans_sweep with:
    output:
        labels="results/{dataset}/{encoder}/heads/kmeans/{variant}/seed{seed}/labels.npz",
        metrics="results/{dataset}/{encoder}/heads/kmeans/{variant}/seed{seed}/metrics.tsv",
    log:
        "logs/{dataset}/{encoder}/heads/kmeans/{variant}/seed{seed}/cluster.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/kmeans/{variant}/seed{seed}/cluster.tsv"
    params:
        heads=lambda wc: heads_params(wc.dataset, wc.seed, wc.variant),
        depth=None,
        ancestor_labels=HEADS_ANCESTORS,


rule heads_separability:
    """Class separability of the embedding (paper 002 fig. 4): L_align over true positive neighbours, Davies-Bouldin, silhouette."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        knn="results/{dataset}/{encoder}/heads/knn.npy",
    output:
        "results/{dataset}/{encoder}/heads/separability.tsv",
    log:
        "logs/{dataset}/{encoder}/heads/separability.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/heads/separability.tsv"
    params:
        separability=lambda wc: {k: SEPARABILITY_CFG[k] for k in ("normalize", "silhouette_samples", "seed")},
        knn=lambda wc: heads_sweep(wc.dataset)["knn"][0],  # the main run's neighbours
    threads: scaled_threads(2, ONE_THREAD_BELOW_MB)
    resources:
        mem_mb=scaled_mem_mb(1500, 6),
        runtime=scaled_runtime(10, 1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/heads_separability.py"


rule heads_probe:
    """Linear probe: the supervised ceiling of the heads table (paper 002, section 4.1, appendix C.3)."""
    input:
        embeddings="results/{dataset}/{encoder}/embeddings.npz",
        eval_embeddings=eval_embeddings,
    output:
        metrics="results/{dataset}/{encoder}/probe/metrics.tsv",
    log:
        "logs/{dataset}/{encoder}/probe/probe.log",
    benchmark:
        "logs/benchmarks/{dataset}/{encoder}/probe/probe.tsv"
    params:
        probe=lambda wc: {k: PROBE_CFG[k] for k in ("Cs", "folds", "max_iter", "seed")},
    threads: scaled_threads(2)
    resources:
        mem_mb=scaled_mem_mb(1000, 4),
        runtime=scaled_runtime(10, 1),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/heads_probe.py"


rule heads_all:
    """Only the heads stage's outputs (snakemake heads_all)."""
    input:
        heads_targets(),
STAGE_TARGETS.append(heads_targets)
