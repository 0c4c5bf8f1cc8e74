"""The report rules end to end: tables / figures from cached per-run outputs, partial reports,
report-from-cache (only report jobs after deleting results/report), the HTML report in a headless
browser (findings first, every section, no empty figure), and the default config."""

import json
import shutil
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

# Every test here runs Snakemake (20-60 s each on a shared 2-core machine; the full runs minutes).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
REPORT_RULES = ["report_tables", "report_caec_figures", "report_merge_expand_figures", "report_heads",
                "report_findings", "report_all"]
# The sections of the HTML report (its sidebar folders; report_common.smk REPORT_CATEGORIES). TINY has a
# reference (planted tree), so all of them.
SECTIONS = ["1. Findings", "2. CAEC clusters", "3. Relation trees", "4. L2H hierarchies", "5. Flat clustering",
            "6. Deep clustering heads", "7. Merge & Expand", "8. Comparison", "9. Run"]

TINY = {
    "datasets": {
        "planted": {"type": "planted-tree", "encoder_name": "planted", "depth": 2, "branching": 2,
                    "dim": 8, "samples_per_class": 30, "seed": 0},
    },
    "caec": {"metrics": ["euclidean", "manhattan"]},
    "trees": {"metrics": ["euclidean"], "points": ["G", "P"]},
    "l2h": {"sources": ["kmeans"], "seeds": [0, 1]},
    "flat": {"reducers": ["none"], "clusterers": ["kmeans"], "seeds": [0, 1]},
    "merge_expand": {"seeds": [0, 1]},
    "report": {"partial": False},
}
CLASSES = ["c0", "c1", "c2", "c3"]
TREE = "((c0:1,c1:1):1,(c2:1,c3:1):1);"


def _workdir(tmp_path, config):
    for name in ("workflow", "config", "resources", "profiles", "envs"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("cache", "__pycache__"))
        elif src.exists():
            shutil.copy(src, tmp_path / name)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def _tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)


def fabricate(root, ds="planted", enc="planted", metrics=("euclidean", "manhattan"), skip=()):
    """Hand-made per-run outputs of every stage for the TINY config (values known)."""
    rng = np.random.default_rng(0)
    base = root / "results" / ds / enc
    (root / "results" / ds).mkdir(parents=True, exist_ok=True)
    (root / "results" / ds / "reference.nwk").write_text(TREE + "\n")
    for i, m in enumerate(metrics):
        d = base / "caec" / m
        key = dict(dataset=ds, encoder=enc, metric=m)
        _tsv(d / "summary.tsv", [dict(**key, step=1.0, gamma=0.3, purity=0.9 - 0.1 * i, purity_mean=0.5, purity_std=0.05,
                                      coverage_mean=0.8, ri=0.95, nmi=0.7 + 0.1 * i, intrusion_count=3,
                                      intrusion_fraction=0.01, n_classes=4)])
        _tsv(d / "per_class.tsv", [dict(**key, **{"class": k, "class_name": c}, r_b=5.0, r_f=4.0,
                                        coverage=0.8 + 0.05 * k, purity=0.9, n_members=30, n_target=28,
                                        n_other=2, r_min=1.0, r_max=4.0 + k, theta_min_half=0.5,
                                        theta_max_half=1.5, annular=False, chi2=10.0, chi2_p=0.3)
                                   for k, c in enumerate(CLASSES)])
        _tsv(d / "infiltration.tsv", [dict(**key, class_name="c0", rank=1, other_class="c1", count=5),
                                      dict(**key, class_name="c2", rank=1, other_class="c3", count=2)])
        _tsv(d / "intrusion.tsv", [dict(**key, class_a="c0", class_b="c1", count=3)])
        np.savez(d / "growth.npz", target=rng.poisson(3, (4, 10)), other=rng.poisson(1, (4, 10)),
                 class_names=np.array(CLASSES))
    _tsv(base / "caec" / "ttest.tsv", [dict(dataset=ds, encoder=enc, metric_a="euclidean",
                                            metric_b="manhattan", t=2.0, p=0.004, significant=True)])
    for cm in [*metrics, "before"]:
        for pt in (["G0"] if cm == "before" else ["G", "P"]):
            stem = base / "trees" / ("before/euclidean" if cm == "before" else f"{cm}/euclidean/{pt}")
            _tsv(stem.with_suffix(".tsv"), [dict(dataset=ds, encoder=enc, cluster_metric=cm, tree_metric="euclidean",
                                                 point=pt, rf=2, rf_max=4, rf_norm=0.5, clade_recall=0.5,
                                                 clade_precision=0.8, di=1.0, di_norm=0.1, dp=0.8)])
            stem.with_suffix(".nwk").write_text(TREE + "\n")
    # TINY's l2h.seeds: kmeans one folder per seed; agglomerative (deterministic) one tree
    for src, seed in (("kmeans", 0), ("kmeans", 1), ("agglomerative", None)):
        d = base / "l2h" / src / ("" if seed is None else f"seed{seed}")
        _tsv(d / "metrics.tsv", [dict(dataset=ds, encoder=enc, source=src, seed=seed or 0, nmi=0.8 - 0.1 * (seed or 0),
                                      ari=0.7, acc=0.9, lp=0.9, dp=0.85, dp_se=0.01, lhd=0.2, rf=0, rf_norm=0.0,
                                      clade_recall=1.0, clade_precision=1.0, di=0.0, di_norm=0.0)])
        (d / "tree.nwk").write_text(TREE + "\n")
        _tsv(d / "leaves.tsv", [dict(leaf=c, purity=0.9) for c in CLASSES])
    _tsv(base / "flat" / "none" / "kmeans" / "metrics.tsv",
         [dict(dataset=ds, encoder=enc, reducer="none", clusterer="kmeans", seed=s, ami=0.5 + 0.1 * s, ari=0.4,
               nmi=0.5, acc=0.6, purity=0.6, silhouette=0.3, n_clusters=4, noise_fraction=0.0, seconds=0.1)
          for s in (0, 1)])
    np.savez(base / "projection.npz", xy=rng.normal(size=(40, 2)), labels=np.repeat(np.arange(4), 10),
             class_names=np.array(CLASSES), class_means=rng.normal(size=(4, 2)),
             **{f"{p}__{m}": rng.normal(size=(4, 2)) for m in metrics for p in ("G", "P")})
    for seed in (0, 1):  # TINY's merge_expand.seeds: one folder each
        me = base / "merge_expand" / f"seed{seed}"
        _tsv(me / "metrics.tsv", [dict(dataset=ds, encoder=enc, seed=seed, n_samples=120, n_classes=4, n_clusters=5,
                                       n_regions=20, n_seeds=7, n_clean=90, clean_fraction=0.75,
                                       acc_all=0.8 + 0.1 * seed, nmi_all=0.7, ari_all=0.6, ami_all=0.7, acc_clean=0.9,
                                       nmi_clean=0.8, ari_clean=0.8, ami_clean=0.8, acc_unclean=0.5, nmi_unclean=0.3,
                                       ari_unclean=0.2, ami_unclean=0.3, consistent_all=8.0, consistent_clean=9.0,
                                       consistent_unclean=5.0, n_iterations=3)])
        np.savez(me / "scores.npz", m1=rng.random((7, 7)), m2=rng.random((7, 7)), m3=rng.random((7, 7)),
                 partition=np.array([0, 0, 1, 2, 3, 3, 4]))
        _tsv(me / "neighbours.tsv", [dict(dataset=ds, encoder=enc, consistent=k, clean=k * 2, unclean=3,
                                          all=k * 2 + 3) for k in range(11)])
        np.savez(me / "labels.npz", labels=np.arange(120) % 5, clean=np.arange(120) % 4 > 0,
                 regions=np.arange(120) % 20, seeds=np.arange(7))
    # Figs. 3a/b's cached t-SNE map (planted: features only, so no figs. 4a/b examples)
    np.savez(base / "merge_expand" / "tsne.npz", index=np.arange(0, 120, 2), xy=rng.normal(size=(60, 2)),
             labels=np.arange(0, 120, 2) % 4, class_names=np.array(CLASSES), translated=np.zeros(60, bool))
    heads_seeds = (TINY.get("heads") or {}).get("seeds", [0, 1, 2])  # the schema's default
    for method in ("kmeans", "temi", "scanv2"):  # the heads stage (heads.methods: the schema's temi, scanv2)
        for seed in heads_seeds:
            d = base / "heads" / method / f"seed{seed}"
            _tsv(d / "metrics.tsv", [dict(dataset=ds, encoder=enc, method=method, granularity="classes", seed=seed,
                                          split="fit", n_samples=120, n_targets=4, n_clusters=4, acc=0.7 + 0.05 * seed,
                                          nmi=0.6, ari=0.5, ami=0.6, top5_acc=1.0, msp_mean=0.8, ece=0.1,
                                          n_nonempty=4, degenerate=False)])
            if method != "kmeans":
                _tsv(d / "heads.tsv", [dict(dataset=ds, encoder=enc, method=method, granularity="classes", split="fit",
                                            head=h, loss=-0.2 - 0.01 * h, acc=0.6 + 0.05 * h, nmi=0.5, ari=0.4,
                                            n_nonempty=4, selected=h == 1) for h in (0, 1)])
                soft = rng.dirichlet(np.ones(4), size=40)
                np.savez(d / "labels.npz", soft=soft, targets=np.repeat(np.arange(4), 10))
    _tsv(base / "probe" / "metrics.tsv", [dict(dataset=ds, encoder=enc, split="fit", protocol="5-fold CV",
                                               n_samples=120, n_classes=4, C=0.01, acc=0.95, top5_acc=1.0)])
    for rel in skip:
        (root / rel).unlink()


def _snakemake(workdir, *args, check=True):
    cmd = [SNAKEMAKE, "--cores", "2", "--directory", str(workdir), "-s", str(workdir / "workflow" / "Snakefile"), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check and res.returncode != 0:
        raise AssertionError(f"snakemake failed ({' '.join(args)}):\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}")
    return res


def _report_only(workdir, *extra, check=True):
    # Only the report rules may run: every per-run output is the hand-made cache above.
    return _snakemake(workdir, "report_all", "--allowed-rules", *REPORT_RULES, *extra, check=check)


def test_report_from_hand_made_cache(tmp_path):
    wd = _workdir(tmp_path, TINY)
    fabricate(wd)
    _report_only(wd)
    rep = wd / "results" / "report"
    md = (rep / "caec_purity.md").read_text()
    # scores in [0, 1] print in % (embtree.report.formats); the CSV keeps fractions
    assert "| planted | euclidean | **90.0** |" in md and "|  | manhattan | 80.0 |" in md
    assert "| planted | 85.0 ± 5.0 |" in (rep / "caec_purity_mean_std.md").read_text()  # one row: not bold
    assert pd.read_csv(rep / "caec_nmi.csv")["planted"].tolist() == pytest.approx([0.7, 0.8])
    me = pd.read_csv(rep / "merge_expand.csv")  # mean ± std over merge_expand.seeds [0, 1]
    assert me.loc[0, "ACC all"] == pytest.approx(0.85)
    assert me.loc[0, "ACC all/std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert "| 85.0 ± 7.1 |" in (rep / "merge_expand.md").read_text()
    flat = pd.read_csv(rep / "flat_ami.csv")
    assert flat.loc[0, "planted"] == pytest.approx(0.55)
    assert flat.loc[0, "planted/std"] == pytest.approx(np.std([0.5, 0.6], ddof=1))
    l2h = pd.read_csv(rep / "l2h.csv")
    assert l2h["method"].tolist() == ["L2H (kmeans)", "agglomerative"]
    assert l2h["planted/NMI"].tolist() == pytest.approx([0.75, 0.8])  # kmeans: mean over l2h.seeds [0, 1]
    assert l2h.loc[0, "planted/NMI/std"] == pytest.approx(np.std([0.8, 0.7], ddof=1))
    cross = pd.read_csv(rep / "cross_method.csv")
    assert cross["method"].tolist() == [
        "CAEC euclidean (G)", "CAEC euclidean (P)", "UPGMA before (euclidean)", "L2H (kmeans)", "agglomerative"
    ]
    infiltration = (rep / "caec_infiltration_planted.md").read_text()
    assert "| c0 | 1 | c1 (5) | c1 (5) |" in infiltration
    for name in ("trees_rf_planted", "trees_di_planted", "trees_clade_recall_planted", "trees_clade_precision_planted",
                 "trees_di_norm_planted", "caec_coverage_planted", "caec_ttest", "caec_chi2"):
        for ext in ("csv", "md", "tex", "html"):
            assert (rep / f"{name}.{ext}").stat().st_size > 0
    figs = sorted((rep / "figures").rglob("*.png"))
    # 2 heatmaps, 1 growth, 1 scatter, 2 relation trees on P (cluster metric euclidean; manhattan is not
    # a tree metric so its tree is the euclidean UPGMA), 2 L2H dendrograms, 4 Merge & Expand figures
    # (t-SNE, scores, the example images' no-data note of a features data set, neighbours),
    # 1 heads calibration grid (no heads.coarse_depths: no coarse-depth figure), 2 before vs after
    # clustering pairs (CAEC fig. 7, one per cluster metric).
    assert len(figs) == 2 + 1 + 1 + 2 + 2 + 4 + 1 + 2, figs
    assert (rep / "figures" / "trees" / "tree_planted_planted_manhattan_euclidean_P.png").exists()
    assert (rep / "figures" / "trees" / "before_after_planted_planted_manhattan_euclidean_P.png").exists()
    # L2H table 2 (runtime) reads the jobs' benchmark files: a hand-made cache has none, so its cells
    # say missing and a note says why (no crash); table 1 written without n_leaves has no # leaves.
    runtime = (rep / "l2h_runtime.md").read_text()
    assert "| planted | L2H (kmeans) | missing |" in runtime and "No benchmark file for 3 job(s)" in runtime
    assert "# leaves" not in (rep / "l2h.md").read_text()
    assert all(f.stat().st_size > 2000 and f.with_suffix(".svg").stat().st_size > 2000 for f in figs)
    # Nothing left to do for the report target once it is built.
    assert "Nothing to be done" in _report_only(wd, "-n").stdout


def _planned_rules(stdout):
    """Rule names of the job-stats table a dry run prints."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats:"))
    rules = set()
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        rules.add(parts[0])
    return rules


def test_missing_table_fails_or_shows_gap(tmp_path):
    wd = _workdir(tmp_path, TINY)
    missing = "results/planted/planted/caec/manhattan/summary.tsv"
    fabricate(wd, skip=[missing])
    res = _report_only(wd, "--until", "report_tables", check=False)
    assert res.returncode != 0
    # Without the flag Snakemake refuses to plan a report over a missing per-run table, naming it.
    assert "manhattan/summary.tsv" in res.stdout + res.stderr
    assert not (wd / "results" / "report" / "caec_purity.md").exists()
    cfg = {**TINY, "report": {"partial": True}}
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    _report_only(wd, "--until", "report_tables")
    md = (wd / "results" / "report" / "caec_purity.md").read_text()
    assert "|  | manhattan | missing |" in md
    mean_std = (wd / "results" / "report" / "caec_purity_mean_std.md").read_text()
    assert "| planted | 90.0 ± 0.0 (incomplete) |" in mean_std


def test_tiny_full_run_then_report_from_cache(tmp_path):
    wd = _workdir(tmp_path, TINY)
    _snakemake(wd)  # every stage, real jobs
    rep = wd / "results" / "report"
    for name in ("caec_purity", "caec_purity_mean_std", "caec_ri", "caec_nmi", "caec_angles", "caec_chi2",
                 "caec_ttest", "caec_r_max_planted", "caec_coverage_planted", "caec_infiltration_planted",
                 "caec_intrusion_planted", "trees_rf_planted", "trees_di_planted", "trees_clade_recall_planted",
                 "trees_di_norm_planted", "l2h", "flat_ami",
                 "flat_silhouette", "cross_method"):
        for ext in ("csv", "md", "tex", "html"):
            assert (rep / f"{name}.{ext}").stat().st_size > 0, name
    assert "missing" not in "".join(p.read_text() for p in rep.glob("*.md"))
    before = {p: p.stat().st_mtime for p in (wd / "results").rglob("*") if p.is_file() and rep not in p.parents}
    shutil.rmtree(rep)
    dry = _snakemake(wd, "-n", "report_all")
    # Only the report jobs, every section's (heads and Merge & Expand included), nothing else.
    assert _planned_rules(dry.stdout) == set(REPORT_RULES), dry.stdout
    _snakemake(wd, "report_all")
    for name in ("caec_purity.md", "heads.md", "merge_expand.md", "findings.md", "findings.html", "run_config.yaml",
                 "run_config.html"):
        assert (rep / name).stat().st_size > 0, name
    after = {p: p.stat().st_mtime for p in before}
    assert after == before  # no per-run output was rewritten
    # The HTML report: every report(...) output with its caption, no RST errors.
    res = _snakemake(wd, "--report", "report.html")
    html = (wd / "report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "caec_purity.csv" in html
    assert "ERROR/" not in res.stderr, res.stderr[-2000:]
    _check_in_browser(wd / "report.html", rep, tmp_path)


def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _blank_png(path):
    """True for a PNG of one colour (a figure that drew nothing)."""
    import matplotlib.image

    img = matplotlib.image.imread(str(path))
    return float(np.ptp(img[..., :3])) == 0.0


def _check_in_browser(report_html, rep, tmp_path):
    """Open the report in headless chromium: the page renders (a screenshot that is not blank), the landing
    page and sidebar name every section, and no figure of the report is empty or blank."""
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed: the report cannot be checked in a browser")
    url = report_html.resolve().as_uri()
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
            "--window-size=1600,1200"]
    shot = tmp_path / "report.png"
    subprocess.run([*args, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.stat().st_size > 0, "chromium wrote no screenshot"
    assert not _blank_png(shot), "the report renders blank"
    dom = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False).stdout
    for name in SECTIONS:  # in the landing page's list and the sidebar (rendered by the report's JavaScript)
        assert dom.count(html_escape(name)) >= 2, f"{name!r} missing from the rendered report"
    # The report's own index of its items: every section, each item in a named folder (never "Other").
    source = report_html.read_text(errors="replace")
    at = source.index("categories = ") + len("categories = ")
    categories = json.JSONDecoder().raw_decode(source[at:])[0]
    assert sorted(categories) == SECTIONS, sorted(categories)
    assert not [(c, s) for c, subs in categories.items() for s in subs if s == "Other" or not s], categories
    figures = sorted(rep.rglob("*.png"))
    assert figures
    for f in figures:
        assert f.stat().st_size > 0 and not _blank_png(f), f"empty or blank figure: {f}"


def test_html_report_of_a_tiny_run_in_a_browser(tmp_path):
    """The HTML report of the hand-made tiny cache: findings first, every section reachable, captions on the
    table pages, the run's configuration stored, checked in headless chromium."""
    if _chromium() is None:
        pytest.skip("chromium is not installed: the report cannot be checked in a browser")
    wd = _workdir(tmp_path, TINY)
    fabricate(wd)
    _report_only(wd)
    rep = wd / "results" / "report"
    findings = (rep / "findings.md").read_text()
    # generated from the hand-made numbers: clade recall 0.5 of the 2 clades of TREE
    assert "planted's tree on the class means before clustering recovers 1 of 2 clades" in findings
    assert "## planted / planted" in findings and "## Cautions" in findings
    run_config = yaml.safe_load((rep / "run_config.yaml").read_text())
    assert run_config["config"]["l2h"]["seeds"] == [0, 1] and run_config["versions"]["embtree"]
    assert (rep / "run_config.html").stat().st_size > 0
    page = (rep / "caec_purity.html").read_text()
    assert page.index("</table>") < page.index('class="caption"')  # the caption beside the table
    res = _snakemake(wd, "--report", "report.html")
    assert "ERROR/" not in res.stderr, res.stderr[-2000:]
    _check_in_browser(wd / "report.html", rep, tmp_path)


def test_default_config_produces_every_table(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    wd = _workdir(tmp_path, config)
    _snakemake(wd)
    rep = wd / "results" / "report"
    datasets = list(config["datasets"])
    with_reference = ["cifar10-resnet20", "planted-tree"]
    names = ["caec_purity", "caec_purity_mean_std", "caec_ri", "caec_nmi", "caec_angles", "caec_chi2",
             "caec_ttest", "caec_assumptions", "l2h", "flat_ami", "flat_ari", "flat_silhouette", "flat_n_clusters",
             "flat_noise_fraction", "flat_ranking", "flat_silhouette_ami", "cross_method", "merge_expand"]
    names += [f"caec_{t}_{ds}" for ds in datasets for t in ("r_max", "coverage", "infiltration", "intrusion")]
    names += [f"trees_{v}_{ds}" for ds in with_reference
              for v in ("rf", "clade_recall", "clade_precision", "di", "di_norm")]
    for name in names:
        for ext in ("csv", "md", "tex", "html"):
            assert (rep / f"{name}.{ext}").stat().st_size > 0, name
    purity = pd.read_csv(rep / "caec_purity.csv")
    # Each encoder runs on one data set: the data set is a row level, not a column group.
    assert set(purity.columns) >= {"dataset", "encoder", "metric"} and set(purity["dataset"]) == set(datasets)
    metrics = (config.get("caec") or {}).get("metrics", ["euclidean", "manhattan", "canberra"])  # schema default
    assert len(purity) == 4 * len(metrics)  # pixels, resnet18-random, resnet20, planted
    l2h = pd.read_csv(rep / "l2h.csv")
    assert "L2H (classifier)" in set(l2h["method"])  # the CIFAR-10 features carry logits
    figs = list((rep / "figures").rglob("*.png"))
    assert figs and all(f.stat().st_size > 2000 for f in figs)
