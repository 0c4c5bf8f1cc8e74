"""embtree.report.findings: sentences from known per-run numbers, the planted control, and every
kind of caution (degenerate run, small clusters, p >= 0.05, demo settings, random weights, missing
results); the Markdown / HTML page; captions on table pages."""

import pandas as pd
import pytest

from embtree.report.findings import (
    CAUTION_KINDS,
    build_findings,
    caption_html,
    findings_html,
    findings_markdown,
    fmt_p,
    run_facts,
    with_caption,
)

CONFIG = {
    "datasets": {
        "cifar": {"type": "features", "encoder_name": "resnet20", "reference_tree": "x.nwk"},
        "digits": {"type": "digits", "encoders": ["resnet18-random"]},
        "planted": {"type": "planted-tree", "encoder_name": "planted"},
    },
    "encoders": {"resnet18-random": {"type": "timm", "model": "resnet18", "pretrained": False}},
    "caec": {"metrics": ["euclidean"]},
    "trees": {"metrics": ["euclidean"], "points": ["G", "P"]},
}


def _facts(**kw):
    kw.setdefault("reference_clades", {"cifar": 7, "planted": 6})
    kw.setdefault("reference_names", {"cifar": "WordNet"})
    return run_facts(CONFIG, **kw)


def _tree(ds, enc, cm, pt, recall, chance, p, tm="euclidean"):
    return dict(dataset=ds, encoder=enc, cluster_metric=cm, tree_metric=tm, point=pt, rf=4, clade_recall=recall,
                clade_recall_chance=chance, clade_recall_p=p, di_norm=0.1)


def _summary(ds, enc, purity=0.9, n_small=0, degenerate=False, n_classes=10):
    return dict(dataset=ds, encoder=enc, metric="euclidean", purity=purity, coverage_mean=0.8, ri_all=0.6,
                n_classes=n_classes, n_small_clusters=n_small, min_cluster_size=5, degenerate=degenerate)


def _data(**extra):
    trees = pd.DataFrame([
        _tree("cifar", "resnet20", "before", "G", 5 / 7, 0.3, 0.004),
        _tree("cifar", "resnet20", "euclidean", "P", 4 / 7, 0.3, 0.02),
        _tree("planted", "planted", "before", "G", 1.0, 0.25, 0.001),
        _tree("planted", "planted", "euclidean", "P", 1.0, 0.25, 0.001),
    ])
    summary = pd.DataFrame([_summary("cifar", "resnet20"), _summary("digits", "resnet18-random"),
                            _summary("planted", "planted")])
    data = {"trees": trees, "summary": summary, "per_class": pd.DataFrame()}
    data.update(extra)
    return data


def test_run_facts_reads_runs_encoders_and_references():
    facts = _facts()
    assert facts["runs"] == [["cifar", "resnet20"], ["digits", "resnet18-random"], ["planted", "planted"]]
    assert facts["encoders"]["resnet18-random"]["pretrained"] is False
    assert facts["datasets"]["planted"]["reference"] == "planted tree"
    assert facts["datasets"]["cifar"]["reference"] == "WordNet"
    assert facts["datasets"]["digits"]["reference"] is None
    assert run_facts(CONFIG, runs=[("cifar", "resnet20")])["runs"] == [["cifar", "resnet20"]]
    with pytest.raises(ValueError, match="config"):
        run_facts([])


def test_clade_recall_sentence_with_chance_and_p():
    f = build_findings(_data(), {}, _facts())
    cifar = f.runs[0]
    text = " ".join(cifar.sentences)
    assert "resnet20's tree on the class means before clustering recovers 5 of 7 clades (chance 2.1, p < 0.01)" in text
    # the planted control: the same tree on the planted-tree run
    assert "the planted control: 6 of 6 clades (p < 0.01)" in text
    assert "euclidean clusters: 4 of 7 clades (chance 2.1, p = 0.02)" in text
    head = next(h for h in cifar.headlines if h.key == "tree:before:euclidean")
    assert head.value == pytest.approx(5 / 7) and head.chance == 0.3 and head.p == 0.004
    md = findings_markdown(f)
    row = "| UPGMA tree on class means before clustering (euclidean) | WordNet clades recovered | 5 of 7 clades | 2.1 of 7 clades "
    assert row in md
    assert md.index("## Cautions") < md.index("## cifar / resnet20")


def test_numbers_follow_the_tables():
    """No number is hard-coded: other tables give other sentences."""
    data = _data()
    data["trees"].loc[0, ["clade_recall", "clade_recall_chance", "clade_recall_p"]] = [3 / 7, 0.41, 0.2]
    text = " ".join(build_findings(data, {}, _facts()).runs[0].sentences)
    assert "recovers 3 of 7 clades (chance 2.9, p = 0.20)" in text


def test_p_at_or_above_alpha_is_a_caution():
    data = _data()
    data["trees"].loc[1, "clade_recall_p"] = 0.05
    f = build_findings(data, {}, _facts())
    chance = [c for c in f.cautions if c.kind == "chance"]
    assert len(chance) == 1 and chance[0].run == ("cifar", "resnet20")
    assert "not better than chance" in chance[0].text and "p = 0.05" in chance[0].text
    assert not [c for c in build_findings(_data(), {}, _facts()).cautions if c.kind == "chance"]


def test_degenerate_and_small_cluster_runs_are_cautions():
    summary = pd.DataFrame([_summary("cifar", "resnet20", n_small=2),
                            _summary("digits", "resnet18-random", purity=0.96, n_small=8, degenerate=True)])
    per_class = pd.DataFrame([dict(dataset="digits", encoder="resnet18-random", metric="euclidean", coverage=c, r0=1.0,
                                   r_b=r_b) for c, r_b in [(0.0, 1.0)] * 5 + [(0.3, 1.5)] * 4 + [(0.3, 9.0)]])
    summary["step"] = 0.5
    f = build_findings(_data(summary=summary, per_class=per_class), {}, _facts())
    deg = [c for c in f.cautions if c.kind == "degenerate"]
    assert len(deg) == 1 and deg[0].run == ("digits", "resnet18-random")
    assert "8 of 10 clusters have fewer than 5 members" in deg[0].text
    assert "5 of 10 classes have coverage 0 %" in deg[0].text and "(purity 96.0 %, mean coverage 80.0 %" in deg[0].text
    assert "9 of 10 classes have the bounding radius within the first radius step" in deg[0].text
    small = [c for c in f.cautions if c.kind == "small-clusters"]
    assert len(small) == 1 and "2 of 10 clusters" in small[0].text and small[0].run == ("cifar", "resnet20")


def test_degenerate_heads_run_is_a_caution():
    heads = pd.DataFrame([dict(dataset="planted", encoder="planted", method="temi", granularity="classes", seed=0,
                               split="fit", acc=0.25, n_targets=4, degenerate=True)])
    f = build_findings(_data(heads=heads), {}, _facts())
    deg = [c for c in f.cautions if c.kind == "degenerate"]
    assert len(deg) == 1 and "TEMI" in deg[0].text and "fewer than two clusters" in deg[0].text


def test_demo_settings_and_random_weights_are_cautions():
    changed = {"heads": ["heads.overrides.cifar: num_heads = 2 (papers: 16), epochs = 10 (papers: 100)"],
               "caec": []}
    f = build_findings(_data(), {}, _facts(changed_settings=changed))
    settings = [c for c in f.cautions if c.kind == "settings"]
    assert len(settings) == 1 and "num_heads = 2 (papers: 16)" in settings[0].text
    assert "not the papers' setup" in settings[0].text
    rnd = [c for c in f.cautions if c.kind == "random-weights"]
    assert len(rnd) == 1 and "resnet18-random" in rnd[0].text and "structural baselines" in rnd[0].text
    digits = next(r for r in f.runs if r.dataset == "digits")
    assert "structural baseline" in digits.role
    assert [c.kind for c in f.cautions] == sorted((c.kind for c in f.cautions), key=list(CAUTION_KINDS).index)


def test_missing_results_are_a_caution():
    missing = {"trees": pd.DataFrame([dict(dataset="cifar", encoder="resnet20", reason="file not found: a.tsv")])}
    f = build_findings(_data(), missing, _facts(partial=True))
    gap = [c for c in f.cautions if c.kind == "missing"]
    assert len(gap) == 1 and "partial report" in gap[0].text and "a.tsv" in gap[0].text
    assert "No per-run result" not in findings_markdown(f)


def test_heads_prefer_the_eval_split_and_average_seeds():
    rows = [dict(dataset="cifar", encoder="resnet20", method=m, granularity="classes", seed=s, split=sp, acc=acc,
                 n_targets=10, degenerate=False)
            for m, s, sp, acc in [("kmeans", 0, "fit", 0.9), ("kmeans", 0, "eval", 0.8), ("temi", 0, "eval", 0.5),
                                  ("temi", 1, "eval", 0.7), ("temi", 0, "fit", 0.99)]]
    probe = pd.DataFrame([dict(dataset="cifar", encoder="resnet20", split="fit", acc=0.84)])
    f = build_findings(_data(heads=pd.DataFrame(rows), probe=probe), {}, _facts())
    text = " ".join(f.runs[0].sentences)
    assert ("Clustering accuracy on the held-out eval split: k-means (cosine) 80.0 %, TEMI 60.0 % (mean of 2 seeds)"
            in text)
    assert "linear probe (supervised ceiling) 84.0 %" in text


def test_flat_l2h_and_merge_expand_headlines():
    flat = pd.DataFrame([dict(dataset="cifar", encoder="resnet20", reducer="none", clusterer=c, seed=s, ami=a)
                         for c, s, a in [("kmeans", 0, 0.6), ("kmeans", 1, 0.7), ("hdbscan", 0, 0.5)]])
    l2h = pd.DataFrame([dict(dataset="cifar", encoder="resnet20", source="classifier", split="fit", dp=0.62,
                             clade_recall=5 / 7, clade_recall_chance=0.3, clade_recall_p=0.001)])
    me = pd.DataFrame([dict(dataset="cifar", encoder="resnet20", seed=0, acc_all=0.73, acc_clean=0.88,
                            clean_fraction=0.55)])
    f = build_findings(_data(flat=flat, l2h=l2h, merge_expand=me), {}, _facts())
    text = " ".join(f.runs[0].sentences)
    assert "The best flat clustering, none + kmeans, reaches AMI 65.0 % (0 = chance, mean of 2 seeds)" in text
    assert "L2H (classifier) recovers 5 of 7 clades (chance 2.1, p < 0.01)" in text
    assert ("Merge & Expand reaches ACC 73.0 % on all samples and 88.0 % on the samples it calls clean "
            "(55.0 % of them)") in text


def test_html_page_escapes_and_lists_everything():
    settings = ["flat.seeds = [0] (papers: [0, 1])", "flat.note = <b> & co"]
    f = build_findings(_data(), {}, _facts(changed_settings={"flat": settings}))
    page = findings_html(f)
    assert page.startswith("<!DOCTYPE html>") and "<h1>Findings</h1>" in page
    assert "flat.note = &lt;b&gt; &amp; co" in page and "<b> & co" not in page  # text is escaped
    for run in f.runs:
        assert f"<h2>{run.dataset} / {run.encoder}</h2>" in page
    assert "flat.seeds = [0] (papers: [0, 1])" in page


def test_fmt_p():
    assert fmt_p(0.0004) == "p < 0.001" and fmt_p(0.004) == "p < 0.01" and fmt_p(0.25) == "p = 0.25"
    assert fmt_p(float("nan")) == "p n/a"


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="data"):
        build_findings([], {}, _facts())
    with pytest.raises(ValueError, match="facts"):
        build_findings({}, {}, None)


def test_caption_goes_on_the_table_page_once():
    page = '<!DOCTYPE html>\n<html><head></head><body>\n<p class="title">T</p>\n<table></table>\n</body></html>\n'
    cap = caption_html("Best is **bold**; ``x`` {{ n }} seeds.", {"n": 3})
    assert "<strong>bold</strong>" in cap and "3 seeds" in cap
    out = with_caption(page, cap)
    assert out.index("<table>") < out.index('class="caption"') < out.index("</body>")
    assert with_caption(out, cap) == out and with_caption(page, "") == page
