"""The papers' tables and figures, and which of them a run produced: one report page per paper.

:data:`PAPERS` is the catalogue: for each of the five papers embtree implements, every table and
figure of the paper with the report outputs that correspond to it (patterns over the report's
paths, relative to ``results/report/`` and without extension), what a run needs to produce them
(data, weights, config keys) and, for the few embtree does not build, why. :func:`paper_status`
matches a run's planned report outputs against it; :func:`paper_markdown` / :func:`paper_html`
write the page (rule ``report_findings``: ``results/report/papers/<paper>.md`` / ``.html``).

The catalogue is data, not code: a new report table or figure that reproduces a paper's item is
added to its ``outputs`` here (tests/test_report_papers.py checks every pattern against the
outputs the workflow can plan).
"""

from __future__ import annotations

import fnmatch
import html
import re
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class PaperItem:
    """One table or figure of a paper.

    ``outputs``: glob patterns over report paths (``caec_purity``, ``figures/growth/growth_*``);
    ``needs``: what a run must configure or have to produce them; ``gap``: set when embtree does
    not build the item at all (an illustration, or data no public loader offers), saying why.
    """

    label: str
    shows: str
    outputs: tuple[str, ...] = ()
    needs: str = ""
    gap: str = ""
    when: str = ""  # a key of CONDITIONS: outputs that are always written, but empty unless it holds


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    file: str
    setup: str
    config: str
    items: tuple[PaperItem, ...] = field(default_factory=tuple)


_ILLUSTRATION = "an illustration of the method, not a result"

#: Conditions on the run's (validated) config for items whose outputs are written by every run but
#: hold a "None: ..." note unless the condition holds.
CONDITIONS = {
    "two_caec_metrics": lambda config: len(config.get("caec", {}).get("metrics", [])) >= 2,
    "frequency_subsets": lambda config: any((spec or {}).get("imbalance") in ("percentile", "imbalanced", "centered")
                                            for spec in config.get("datasets", {}).values()),
}

PAPERS: dict[str, Paper] = {
    p.key: p
    for p in (
        Paper(
            "caec",
            "Discovery of Hierarchy in Embedding Space (CAEC)",
            "000_3baf9b0a480cb5b4.txt",
            "CIFAR10, CIFAR100(20), CIFAR100 test sets and the ImageNet validation set; ViT, EfficientNetV2, "
            "ConvNeXt (fine-tuned on CIFAR in the paper); Euclidean, Manhattan and Canberra clusters; WordNet",
            "config/papers/caec.yaml",
            (
                PaperItem("Table 1", "chi-squared p-values of the Poisson fit of arrivals", ("caec_chi2",)),
                PaperItem("Table 2", "mean minimum / maximum cluster half-angles", ("caec_angles",)),
                PaperItem("Table 3", "maximum radius per class", ("caec_r_max_*",)),
                PaperItem("Table 4", "coverage per class", ("caec_coverage_*",)),
                PaperItem("Table 5", "cluster purity per data set, model and metric", ("caec_purity",)),
                PaperItem("Table 6", "mean cluster purity", ("caec_purity_mean_std",)),
                PaperItem("Table 7", "Rand index of the clusters", ("caec_ri",)),
                PaperItem("Table 8", "NMI of the clusters", ("caec_nmi",)),
                PaperItem("Table 9", "paired t-test p-values between distance measures", ("caec_ttest",),
                          needs="two or more `caec.metrics`", when="two_caec_metrics"),
                PaperItem("Tables 10-13", "top-3 infiltrated classes per cluster", ("caec_infiltration_*",)),
                PaperItem("Tables 14-16", "intrusive classes per cluster", ("caec_intrusion_*",)),
                PaperItem("Table 17", "Robinson-Foulds distance of the relation trees to WordNet", ("trees_rf_*",),
                          needs="a reference tree (`reference` / `reference_tree` on a data set)"),
                PaperItem("Table 18", "Deformity Index of the relation trees", ("trees_di_*",),
                          needs="a reference tree"),
                PaperItem("Sec. 3 (assumptions)", "assumption 2 (paired t-test of lambda_1 against lambda_2) and "
                          "the share of annular clusters", ("caec_assumptions",)),
                PaperItem("Fig. 1", "scatter plots of the embeddings (t-SNE)",
                          ("figures/projection/tsne_*", "figures/projection/projection_*"),
                          needs="`report.projections: [pca, tsne]` for t-SNE"),
                PaperItem("Fig. 2", "the cluster-growing algorithm", gap=_ILLUSTRATION),
                PaperItem("Fig. 3", "target and non-target classes against the unit radius",
                          ("figures/growth/growth_*",)),
                PaperItem("Fig. 4", "3-D and 2-D plots of two classes' clusters", ("figures/projection/*",),
                          gap="drawn in 2-D only (the projection maps with class centres, G^f and P)"),
                PaperItem("Fig. 5", "the structure of a cluster", gap=_ILLUSTRATION),
                PaperItem("Fig. 6", "cluster plot of CIFAR10 (Canberra, ViT)", ("figures/projection/*",)),
                PaperItem("Figs. 7-8", "dendrograms before and after clustering", ("figures/trees/before_after_*",),
                          needs="a reference tree; the paper's setting: canberra / manhattan in `caec.metrics`, "
                          "`trees.metrics: [euclidean]`"),
                PaperItem("Tables 17-18 (figures)", "the relation trees beside the reference", ("figures/trees/tree_*",),
                          needs="a reference tree"),
            ),
        ),
        Paper(
            "l2h",
            "From Logits to Hierarchies: Hierarchical Clustering made Simple (L2H)",
            "001_8a48f7b1a3322c91.txt",
            "CIFAR-10, CIFAR-100, Food-101 and ImageNet-1K; logits of a trained clustering model (TURTLE) or "
            "a supervised classifier; agglomerative baseline",
            "config/papers/l2h.yaml",
            (
                PaperItem("Table 1", "leaf purity, dendrogram purity, LHD, NMI / ARI / ACC per method and data set",
                          ("l2h",)),
                PaperItem("Table 2", "run time per data set (wall-clock seconds of the L2H / agglomerative jobs)",
                          ("l2h_runtime",)),
                PaperItem("Fig. 1", "the L2H algorithm", gap=_ILLUSTRATION),
                PaperItem("Figs. 2-3, 5-8", "the inferred hierarchies, circular and coloured by superclass above "
                          "60 leaves", ("figures/l2h/l2h_*",),
                          needs="`report.tree_figures` (layout, superclass_depth / superclasses, collapse_depth)"),
                PaperItem("Fig. 4", "the algorithm's Python listing", gap="code, not a result (embtree.l2h)"),
            ),
        ),
        Paper(
            "heads",
            "Scaling Up Deep Clustering Methods Beyond ImageNet-1K (TEMI, SCANv2)",
            "002_587aec13a9365807.txt",
            "ImageNet-1K and ImageNet-21K-P with class-frequency and fine-grained subsets; MAE-R / iBOT / "
            "DINO features; TEMI and SCANv2 heads, cosine k-means, linear probe",
            "config/papers/heads.yaml",
            (
                PaperItem("Table 1", "# samples, # classes, probing and the ACC of k-means, TEMI and SCANv2 on "
                          "(imbalanced) benchmarks", ("heads_summary", "heads"),
                          needs="`heads.methods`; `imbalance` on a data set for the imbalanced variants"),
                PaperItem("Table 2", "fine-grained benchmarks: leaf classes, coarse depths, leaf HZR, p-HZR",
                          ("heads_benchmarks",), needs="`heads.hierarchy_variants` and a reference tree",
                          gap="sub-classes are chosen by the nearest class mean in the encoder's space, not by "
                          "the paper's CLIP zero-shot; the variants score the GT-labels clustering"),
                PaperItem("Table 3", "model-based ImageNet-21K subsets (the classes a pretrained model predicts)",
                          gap="not built: the `imagenet21k` type loads the data, no job picks model-based subsets"),
                PaperItem("Table 4", "multi-label ACC against the semantic ancestors", ("heads_multilabel",),
                          needs="`heads.ancestor_labels: true` (and a reference tree) or `multi_labels` on a data set"),
                PaperItem("Table 5", "class-frequency subsets and coarse data sets", ("heads",),
                          needs="`imbalance: percentile` with `imbalance_percentiles` on a data set",
                          when="frequency_subsets"),
                PaperItem("Fig. 2 (left)", "ACC against the maximum hierarchy depth", ("figures/heads_coarse_depths",),
                          needs="`heads.coarse_depths` and a reference tree"),
                PaperItem("Fig. 3 (left, middle)", "calibration and ECE", ("figures/heads_calibration",)),
                PaperItem("Fig. 8", "confidence histogram and calibration", ("figures/heads_calibration",)),
                PaperItem("Figs. 1, 9-11", "samples reassessed by p-HZR", ("figures/heads_hzr_moves",),
                          needs="`heads.hierarchy_variants` and a reference tree with classes at internal nodes",
                          gap="drawn as the share of each class's samples per reassessed class, not as images"),
                PaperItem("Fig. 3 (right)", "TEMI - SCANv2 accuracy gap per encoder", ("figures/heads_gap",)),
                PaperItem("Fig. 4", "separability: L_align, Davies-Bouldin, R² against the linear probe",
                          ("heads_separability", "figures/heads_separability"), needs="`separability.enabled`"),
                PaperItem("Fig. 5", "ACC against the number of neighbours k", ("heads_knn_sweep", "figures/heads_knn_sweep"),
                          needs="`heads.knn` as a list (config/papers/offline/heads_sweeps.yaml)"),
                PaperItem("Fig. 6", "NMI against the number of clusters (over-clustering)",
                          ("heads_overclustering", "figures/heads_overclustering"),
                          needs="`heads.n_clusters` as a list, e.g. [1x, 2x, 4x]"),
                PaperItem("Fig. 7", "zero-shot OpenCLIP classification with the class names",
                          gap="zero-shot classification is outside embtree's scope (clustering of frozen features)"),
            ),
        ),
        Paper(
            "merge_expand",
            "Clustering image data with a fixed embedding (Merge & Expand)",
            "003_7912b0b5e4ac0eec.txt",
            "MNIST, MNIST-TRAN (t-SNE embedded) and CIFAR-10 (VGG-16 embedded); k-means and spectral baselines",
            "config/papers/merge_expand.yaml",
            (
                PaperItem("Table I", "ACC of ME (all / clean / unclean) beside k-means and spectral clustering",
                          ("merge_expand",)),
                PaperItem("Fig. 1", "the ME algorithm", gap=_ILLUSTRATION),
                PaperItem("Fig. 2", "the three pairwise scores", gap=_ILLUSTRATION),
                PaperItem("Figs. 3a-b", "t-SNE of the data (MNIST-TRAN: translated digits marked), the seed "
                          "regions and the merged clusters", ("figures/merge_expand/tsne_*",)),
                PaperItem("Fig. 3c", "pairwise score heat maps", ("figures/merge_expand/scores_*",)),
                PaperItem("Figs. 4a-b", "an example clean and unclean image", ("figures/merge_expand/examples_*",),
                          needs="a data set with images (not `features`)"),
                PaperItem("Fig. 4c", "numbers of consistent neighbours of clean / unclean samples",
                          ("figures/merge_expand/neighbours_*",)),
            ),
        ),
        Paper(
            "zs_ssl",
            "An Empirical Study into Clustering of Unseen Datasets with Self-Supervised Encoders (zs-ssl)",
            "004_3e02121c14430875.txt",
            "26 data sets in five domains; supervised and self-supervised ResNet-50 and ViT-B encoders; "
            "K-Means, Spectral, agglomerative (with / without C), Affinity Propagation, HDBSCAN on raw, PCA "
            "and UMAP-reduced embeddings; AMI",
            "config/papers/zs_ssl.yaml",
            (
                PaperItem("Tables 7, 9-14", "AMI per encoder, clusterer and data set",
                          ("flat_ami", "figures/flat_ami_heatmap")),
                PaperItem("Table 8", "ARI", ("flat_ari",)),
                PaperItem("Table 16", "share of samples left as noise", ("flat_noise_fraction",)),
                PaperItem("Tables 17-19", "number of clusters predicted", ("flat_n_clusters",)),
                PaperItem("Figs. 4, 10", "silhouette in the raw and the reduced space, and its correlation with AMI",
                          ("flat_silhouette", "flat_silhouette_ami")),
                PaperItem("Fig. 6", "ranking of clusterers (Wilcoxon signed-rank tests)", ("flat_ranking",)),
                PaperItem("Tables 3-4", "the dimensionality reduction and distance threshold chosen per encoder "
                          "on development data sets", ("flat_reducer_choice", "flat_threshold_choice"),
                          needs="`flat.selection.datasets` and several reducers / `agglomerative-threshold` variants",
                          gap="linkage x metric of AC with k: run as variants and shown in flat_ami, not chosen"),
                PaperItem("Table 1, Fig. 1", "data sets by domain; AMI and encoder ranks per domain",
                          ("flat_groups", "flat_group_ranks", "figures/flat_groups"),
                          needs="`group:` on the data sets"),
                PaperItem("Table 2", "AMI on original, foreground and background images",
                          gap="needs segmentation masks, which no configured data set type carries"),
            ),
        ),
    )
}


def outputs_matching(patterns, produced):
    """The report paths of ``produced`` that match any of the glob ``patterns``, in their order."""
    return [p for p in produced if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]


def paper_status(paper: Paper, produced, config=None) -> pd.DataFrame:
    """One row per item of ``paper``: ``label``, ``shows``, ``status`` (``produced`` / ``not in this
    run`` / ``not built``), ``outputs`` (the produced report paths matching the item, sorted) and
    ``note`` (what the run needs, or why embtree does not build it).

    ``produced``: report paths relative to ``results/report/`` without extension (duplicates and
    order do not matter). ``config``: the run's validated config; an item whose ``when`` condition
    (:data:`CONDITIONS`) it fails counts as not in this run even though its (empty) output exists.
    """
    produced = sorted(set(produced))
    rows = []
    for item in paper.items:
        hits = outputs_matching(item.outputs, produced) if item.outputs else []
        if item.when and config is not None and not CONDITIONS[item.when](config):
            hits = []
        if hits:
            status, note = "produced", item.gap
        elif item.gap and not item.outputs:
            status, note = "not built", item.gap
        else:
            status = "not in this run" if item.outputs else "not built"
            note = item.needs or item.gap or "a data set and encoder this run did not configure"
        rows.append({"label": item.label, "shows": item.shows, "status": status, "outputs": hits, "note": note})
    return pd.DataFrame(rows, columns=["label", "shows", "status", "outputs", "note"])


def _counts(status):
    n = status["status"].value_counts()
    return ", ".join(f"{int(n.get(s, 0))} {s}" for s in ("produced", "not in this run", "not built"))


def paper_markdown(paper: Paper, produced, datasets=(), config=None) -> str:
    """The paper's page as Markdown (see :func:`paper_status`)."""
    status = paper_status(paper, produced, config)
    lines = [f"# {paper.title}", "",
             f"Paper: `{paper.file}`; its setup: {paper.setup}. `{paper.config}` sets that experiment up.", "",
             f"This run's data sets: {', '.join(datasets) or 'none'}. Items: {_counts(status)}.", "",
             "| paper | shows | status | embtree output | note |", "|---|---|---|---|---|"]
    for r in status.itertuples():
        outs = ", ".join(f"`{o}`" for o in r.outputs) or "–"
        lines.append(f"| {r.label} | {r.shows} | {r.status} | {outs} | {r.note or ''} |")
    return "\n".join(lines) + "\n"


def paper_html(paper: Paper, produced, datasets=(), config=None) -> str:
    """The paper's page as HTML: produced outputs link to their files (relative to ``papers/``)."""
    status = paper_status(paper, produced, config)
    esc = html.escape

    def link(out):
        figure = out.startswith("figures/")
        name = esc(out.rsplit("/", 1)[-1]) + (" (figure)" if figure else "")
        return f'<a href="../{esc(out)}.{"png" if figure else "html"}">{name}</a>'

    def text(value):  # the catalogue's Markdown `code` spans as <code>
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(value))

    rows = "\n".join(
        f"<tr><td>{esc(r.label)}</td><td>{text(r.shows)}</td><td>{esc(r.status)}</td>"
        f"<td>{'<br>'.join(link(o) for o in r.outputs) or '–'}</td><td>{text(r.note or '')}</td></tr>"
        for r in status.itertuples()
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{esc(paper.title)}</title></head>'
        '<body style="font-family:system-ui,sans-serif;font-size:13px">\n'
        f"<p><b>{esc(paper.title)}</b></p>\n<p>Paper: <code>{esc(paper.file)}</code>; its setup: {esc(paper.setup)}. "
        f"<code>{esc(paper.config)}</code> sets that experiment up.</p>\n"
        f"<p>This run's data sets: {esc(', '.join(datasets) or 'none')}. Items: {esc(_counts(status))}.</p>\n"
        '<table border="1" style="border-collapse:collapse">\n'
        "<tr><th>paper</th><th>shows</th><th>status</th><th>embtree output</th><th>note</th></tr>\n"
        f"{rows}\n</table>\n</body></html>\n"
    )


def report_stem(path, report_dir="results/report"):
    """``results/report/figures/x/y.png`` -> ``figures/x/y``: the form :data:`PAPERS` matches."""
    rel = path[len(report_dir) + 1:] if path.startswith(report_dir + "/") else path
    return rel.rsplit(".", 1)[0]
