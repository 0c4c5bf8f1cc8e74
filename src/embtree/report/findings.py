"""The findings page: the headline numbers of every method per data set x encoder, in sentences
generated from the run's per-run tables, next to the chance level and the planted control, with
every caution the run raises.

Public names
------------
:func:`run_facts` (the small dict of facts about the run, from its config), :func:`build_findings`
(per-run tables + facts -> :class:`Findings`), :func:`findings_markdown`, :func:`findings_html`
(the page), :class:`Findings`, :class:`RunFindings`, :class:`Headline`, :class:`Caution`,
:data:`CAUTION_KINDS`; :func:`caption_html` and :func:`with_caption` (a report caption rendered into
a table's HTML page, so the report shows it beside the table).

Pure functions: the tables come in as the DataFrames :func:`embtree.report.load.load_families`
returns (families ``summary``, ``per_class``, ``trees``, ``l2h``, ``flat``, ``merge_expand``,
``heads``, ``probe``; any may be absent), the facts as the dict :func:`run_facts` builds; nothing
is read or written here. Every number of the page comes from those tables: the page holds no
number of its own.

What counts as a caution (:data:`CAUTION_KINDS`): a degenerate run (CAEC ``degenerate``: more
than half of the clusters below ``caec.min_cluster_size``; a heads run using fewer than two
clusters), small CAEC clusters (``small_cluster``, and classes whose cluster covers none of them),
settings that differ from the papers' (the embedded default config is a shortened tour;
:func:`embtree.settings.changed_settings`), an encoder with random weights (``pretrained: false``:
its clusters and trees are structural baselines), results missing from a partial report, and a
tree score that is not better than chance (``<score>_p >= 0.05`` against random trees).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embtree.report.common import CHANCE_ALPHA
from embtree.report.tables.heads import METHOD_LABELS, PROBE_LABEL
from embtree.report.tables.l2h import l2h_method_label

__all__ = ["CAUTION_KINDS", "Caution", "Findings", "Headline", "RunFindings", "build_findings", "caption_html",
           "findings_html", "findings_markdown", "fmt_p", "run_facts", "with_caption"]

#: Kinds of caution, in the order the page lists them, with their heading.
CAUTION_KINDS = {
    "settings": "Shortened (demo) settings",
    "random-weights": "Random-weight encoders",
    "degenerate": "Degenerate runs",
    "small-clusters": "Small CAEC clusters",
    "chance": "Not better than chance",
    "missing": "Missing results (partial report)",
}

#: What a changed settings section touches, in the words of the page.
_SECTION_WORDS = {
    "caec": "CAEC clusters and the relation trees built on them",
    "trees": "relation trees",
    "l2h": "L2H hierarchies",
    "flat": "flat clustering",
    "merge_expand": "Merge & Expand",
    "heads": "deep clustering heads (and the L2H trees on their outputs)",
    "probe": "the linear probe",
}


@dataclass
class Headline:
    """One headline number of a method on one run.

    ``key`` identifies the method and score across runs (the planted control is the same ``key``
    on the planted-tree run); ``value`` is the number, ``text`` how the page writes it;
    ``chance`` / ``p`` the chance level and p-value against random trees (tree scores only);
    ``n`` the number of seeds averaged (1 for one run); ``split`` ``"eval"`` when the number is
    the held-out set's; ``control`` the planted control's text, filled by :func:`build_findings`.
    """

    key: str
    method: str
    score: str
    value: float
    text: str
    chance: float | None = None
    p: float | None = None
    n: int = 1
    split: str | None = None
    control: str | None = None
    detail: str | None = None  # a short name the sentences use (cluster metric, flat pair, clean share)
    of: int | None = None  # clade recall: the reference's number of clades (value and chance print as counts)


@dataclass
class Caution:
    """A caution of ``kind`` (:data:`CAUTION_KINDS`), about ``run`` ((dataset, encoder)) or the whole run."""

    kind: str
    text: str
    run: tuple | None = None


@dataclass
class RunFindings:
    """The findings of one data set x encoder run: its headline numbers and sentences."""

    dataset: str
    encoder: str
    role: str | None = None  # e.g. "planted control", "random weights: structural baseline"
    headlines: list = field(default_factory=list)
    sentences: list = field(default_factory=list)


@dataclass
class Findings:
    """The findings page: an overview, the runs' findings and the cautions."""

    overview: list
    runs: list
    cautions: list


# ---------------------------------------------------------------------------------------- facts


def run_facts(config, changed_settings=None, reference_clades=None, reference_names=None, partial=False, runs=None):
    """The facts about a run that the per-run tables do not hold, from its (validated) config.

    Parameters
    ----------
    config : dict
        The workflow's config with defaults filled in (``datasets``, ``encoders``, ``caec``,
        ``trees``).
    changed_settings : dict, optional
        :func:`embtree.settings.changed_settings` of the config ({section: ["key = value
        (papers: default)", ...]}).
    reference_clades : dict, optional
        {dataset: number of clades of its reference tree} (the denominator of clade recall).
    reference_names : dict, optional
        {dataset: what the reference is, e.g. ``"WordNet"``}; default: ``"planted tree"`` for a
        planted-tree data set, else ``"reference"``.
    partial : bool
        ``report.partial``.
    runs : list of (dataset, encoder), optional
        The run's data set x encoder pairs as the workflow lists them; default: read from
        ``config["datasets"]`` (a features / planted-tree data set's ``encoder_name``, an image
        data set's ``encoders``).

    Returns
    -------
    dict
        ``runs`` (list of [dataset, encoder] in config order), ``datasets`` ({dataset: {type,
        reference, n_reference_clades}}), ``encoders`` ({encoder: {type, pretrained}}),
        ``changed_settings``, ``partial``, ``caec_metrics``, ``tree_metrics``, ``points``.
    """
    if not isinstance(config, dict) or "datasets" not in config:
        raise ValueError(f"config should be the workflow's config dict with 'datasets', got {type(config).__name__}")
    reference_clades = dict(reference_clades or {})
    reference_names = dict(reference_names or {})
    listed, datasets, encoders = [], {}, {}
    enc_cfg = config.get("encoders") or {}
    for ds, spec in config["datasets"].items():
        spec = spec or {}
        kind = spec.get("type")
        if kind in ("features", "planted-tree"):
            names = [spec.get("encoder_name") or ("planted" if kind == "planted-tree" else "features")]
        else:
            names = list(spec.get("encoders") or [])
        has_ref = kind == "planted-tree" or bool(spec.get("reference") or spec.get("reference_tree"))
        default_name = "planted tree" if kind == "planted-tree" else "reference"
        datasets[ds] = {
            "type": kind,
            "reference": reference_names.get(ds, default_name) if has_ref else None,
            "n_reference_clades": reference_clades.get(ds),
        }
        for enc in names:
            listed.append([ds, enc])
            if enc in enc_cfg:
                e = enc_cfg[enc] or {}
                pretrained = e.get("pretrained", True) if e.get("type") in ("timm", "open_clip") else None
                encoders[enc] = {"type": e.get("type"), "pretrained": pretrained}
            else:  # the features / planted data sets' own embeddings
                encoders.setdefault(enc, {"type": kind, "pretrained": None})
    if runs is not None:
        runs = [[str(ds), str(enc)] for ds, enc in runs]
        for ds, enc in runs:
            encoders.setdefault(enc, {"type": None, "pretrained": None})
    else:
        runs = listed
    return {
        "runs": runs,
        "datasets": datasets,
        "encoders": encoders,
        "changed_settings": {k: list(v) for k, v in (changed_settings or {}).items()},
        "partial": bool(partial),
        "caec_metrics": list((config.get("caec") or {}).get("metrics") or []),
        "tree_metrics": list((config.get("trees") or {}).get("metrics") or []),
        "points": list((config.get("trees") or {}).get("points") or []),
    }


# ---------------------------------------------------------------------------------------- helpers


def _rows(df, dataset, encoder, **eq):
    """Rows of ``df`` for one run (and the given column values); empty when ``df`` lacks them."""
    if df is None or not len(df) or "dataset" not in df.columns or "encoder" not in df.columns:
        return pd.DataFrame()
    mask = (df["dataset"].astype(str) == str(dataset)) & (df["encoder"].astype(str) == str(encoder))
    for col, value in eq.items():
        if col not in df.columns:
            return pd.DataFrame()
        mask &= df[col].astype(str) == str(value)
    return df[mask]


def _prefer_eval(df):
    """(rows, split): the held-out ``eval`` rows when there are any, else the ``fit`` rows."""
    if not len(df) or "split" not in df.columns:
        return df, None
    split = df["split"].astype(str)
    if split.eq("eval").any():
        return df[split.eq("eval")], "eval"
    return df[split.eq("fit")], None


def _num(df, col):
    """Finite values of column ``col`` as floats (empty when absent)."""
    if not len(df) or col not in df.columns:
        return np.array([])
    x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    return x[np.isfinite(x)]


def _mean(df, col):
    x = _num(df, col)
    return (float(x.mean()), len(x)) if len(x) else (None, 0)


def _truthy(series):
    return series.astype(str).str.lower().isin(["true", "1", "1.0"])


def _fmt(x, decimals=2):
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{decimals}f}"


def _pct(x):
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f} %"


def fmt_p(p):
    """A p-value as the page writes it: ``p < 0.001``, ``p < 0.01``, else ``p = 0.03``."""
    if p is None or not math.isfinite(p):
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return "p < 0.01"
    return f"p = {p:.2f}"


def _seeds(n):
    return "" if n <= 1 else f", mean of {n} seeds"


def _clades(recall, n_clades):
    """Clade recall as ``5 of 7 clades`` when the reference's clade count is known."""
    if recall is None:
        return "n/a"
    if not n_clades:
        return f"clade recall {recall:.2f}"
    k = recall * n_clades
    if abs(k - round(k)) < 1e-6:
        return f"{int(round(k))} of {n_clades} clades"
    return f"{k:.1f} of {n_clades} clades on average"


def _run_label(dataset, encoder):
    return f"{dataset} / {encoder}"


# ---------------------------------------------------------------------------------------- methods


def _tree_headlines(trees, ds, enc, facts):
    """Clade recall (with chance and p) of the before-clustering tree and of each CAEC relation tree."""
    out = []
    df = _rows(trees, ds, enc)
    if not len(df):
        return out
    info = facts["datasets"].get(ds, {})
    n_clades, ref = info.get("n_reference_clades"), info.get("reference") or "reference"
    tree_metrics = facts.get("tree_metrics") or list(dict.fromkeys(df["tree_metric"].astype(str)))
    points = facts.get("points") or list(dict.fromkeys(df["point"].astype(str)))
    first_tm = next((m for m in tree_metrics if (df["tree_metric"].astype(str) == m).any()), None)
    picks = [("before", first_tm, None)]
    point = "P" if "P" in points else (points[0] if points else None)
    cms = [m for m in dict.fromkeys(df["cluster_metric"].astype(str)) if m != "before"]
    order = facts.get("caec_metrics") or cms
    for cm in [m for m in order if m in cms]:
        tm = cm if cm in tree_metrics else first_tm
        picks.append((cm, tm, point))
    for cm, tm, pt in picks:
        sel = df[(df["cluster_metric"].astype(str) == cm) & (df["tree_metric"].astype(str) == str(tm))]
        if pt is not None and "point" in sel.columns:
            sel = sel[sel["point"].astype(str) == pt]
        recall, n = _mean(sel, "clade_recall")
        if recall is None:
            continue
        chance, _ = _mean(sel, "clade_recall_chance")
        p_vals = _num(sel, "clade_recall_p")
        if cm == "before":
            key, method = f"tree:before:{tm}", f"UPGMA tree on class means before clustering ({tm})"
        else:
            key, method = f"tree:{cm}:{tm}:{pt}", f"CAEC relation tree ({cm} clusters, UPGMA {tm} on {pt})"
        out.append(Headline(key=key, method=method, score=f"{ref} clades recovered", value=recall,
                            text=_clades(recall, n_clades), chance=chance,
                            p=float(p_vals.max()) if len(p_vals) else None, n=n, detail=cm, of=n_clades))
    return out


def _l2h_headlines(l2h, ds, enc, facts):
    out = []
    df = _rows(l2h, ds, enc)
    if not len(df) or "source" not in df.columns:
        return out
    info = facts["datasets"].get(ds, {})
    n_clades, ref = info.get("n_reference_clades"), info.get("reference") or "reference"
    for src in dict.fromkeys(df["source"].astype(str)):
        rows, split = _prefer_eval(df[df["source"].astype(str) == src])
        label = l2h_method_label(src)
        recall, n = _mean(rows, "clade_recall")
        if recall is not None:
            chance, _ = _mean(rows, "clade_recall_chance")
            p_vals = _num(rows, "clade_recall_p")
            out.append(Headline(key=f"l2h:{src}:recall", method=label, score=f"{ref} clades recovered",
                                value=recall, text=_clades(recall, n_clades), chance=chance,
                                p=float(p_vals.max()) if len(p_vals) else None, n=n, of=n_clades))
        dp, n = _mean(rows, "dp")
        if dp is not None:
            out.append(Headline(key=f"l2h:{src}:dp", method=label, score="dendrogram purity", value=dp,
                                text=_pct(dp), n=n, split=split))
    return out


def _flat_headlines(flat, ds, enc):
    df = _rows(flat, ds, enc)
    if not len(df) or "ami" not in df.columns:
        return []
    df, split = _prefer_eval(df)
    keys = [c for c in ("reducer", "clusterer") if c in df.columns]
    if not keys:
        return []
    ami = df.assign(ami=pd.to_numeric(df["ami"], errors="coerce"))
    means = ami.groupby(keys, sort=False)["ami"].agg(["mean", "count"])
    means = means.dropna(subset=["mean"])
    if not len(means):
        return []
    best = means["mean"].idxmax()
    name = " + ".join(str(b) for b in best) if isinstance(best, tuple) else str(best)
    value, n = float(means.loc[best, "mean"]), int(means.loc[best, "count"])
    return [Headline(key="flat:best:ami", method=f"flat clustering, best pair ({name})", score="AMI (chance 0)",
                     value=value, text=_pct(value), chance=0.0, n=n, split=split, detail=name)]


def _heads_headlines(heads, probe, ds, enc):
    out = []
    df = _rows(heads, ds, enc)
    if len(df) and "method" in df.columns:
        if "granularity" in df.columns:
            df = df[df["granularity"].astype(str) == "classes"]
        for method in dict.fromkeys(df["method"].astype(str)):
            rows, split = _prefer_eval(df[df["method"].astype(str) == method])
            acc, n = _mean(rows, "acc")
            if acc is None:
                continue
            k, _ = _mean(rows, "n_targets")
            score = "clustering ACC" + (f" ({int(k)} classes)" if k else "")
            out.append(Headline(key=f"heads:{method}:acc", method=METHOD_LABELS.get(method, method), score=score,
                                value=acc, text=_pct(acc), n=n, split=split))
    pr = _rows(probe, ds, enc)
    if len(pr):
        rows, split = _prefer_eval(pr)
        acc, n = _mean(rows, "acc")
        if acc is not None:
            out.append(Headline(key="heads:probe:acc", method=f"{PROBE_LABEL} (supervised ceiling)", score="ACC",
                                value=acc, text=_pct(acc), n=n, split=split))
    return out


def _me_headlines(me, ds, enc):
    df = _rows(me, ds, enc)
    if not len(df):
        return []
    rows, split = _prefer_eval(df)
    out = []
    acc, n = _mean(rows, "acc_all")
    if acc is not None:
        out.append(Headline(key="me:acc_all", method="Merge & Expand", score="ACC, all samples", value=acc,
                            text=_pct(acc), n=n, split=split))
    clean, n = _mean(rows, "acc_clean")
    frac, _ = _mean(rows, "clean_fraction")
    if clean is not None:
        out.append(Headline(key="me:acc_clean", method="Merge & Expand",
                            score="ACC, clean samples" + (f" ({_pct(frac)} of them)" if frac is not None else ""),
                            value=clean, text=_pct(clean), n=n, split=split,
                            detail=_pct(frac) if frac is not None else None))
    return out


_CAEC_SCORES = (("purity", "purity"), ("coverage_mean", "mean coverage"), ("ri", "RI inside clusters"),
                ("ri_all", "RI over all embeddings"))


def _caec_headlines(summary, ds, enc, facts):
    out = []
    df = _rows(summary, ds, enc)
    if not len(df) or "metric" not in df.columns:
        return out
    order = facts.get("caec_metrics") or list(dict.fromkeys(df["metric"].astype(str)))
    for m in [m for m in order if (df["metric"].astype(str) == m).any()]:
        rows = df[df["metric"].astype(str) == m]
        for col, score in _CAEC_SCORES:
            v, _ = _mean(rows, col)
            if v is not None:
                out.append(Headline(key=f"caec:{m}:{col}", method=f"CAEC clusters ({m})", score=score, value=v,
                                    text=_pct(v)))
    return out


# ---------------------------------------------------------------------------------------- sentences


def _chance_text(h):
    """The chance level as the value prints: clades expected of random trees (``0.3`` of 7), else the score."""
    if h.chance is None or not math.isfinite(h.chance):
        return ""
    if h.of:
        return f"{h.chance * h.of:.1f}"
    return f"{100 * h.chance:.1f} %" if h.text.endswith("%") else f"{h.chance:.2f}"


def _chance_clause(h):
    parts = []
    if _chance_text(h):
        parts.append(f"chance {_chance_text(h)}")
    if h.p is not None:
        parts.append(fmt_p(h.p))
    return f" ({', '.join(parts)})" if parts else ""


def _sentences(run, facts):
    """Plain sentences of one run's headlines."""
    s = []
    by = {}
    for h in run.headlines:
        by.setdefault(h.key.split(":")[0], []).append(h)
    who = run.encoder
    if not facts["datasets"].get(run.dataset, {}).get("reference"):
        s.append(f"{run.dataset} has no reference hierarchy: no tree of this run is scored against one.")
    trees = by.get("tree", [])
    before = [h for h in trees if h.key.startswith("tree:before")]
    for h in before:
        s.append(f"{who}'s tree on the class means before clustering recovers {h.text}{_chance_clause(h)}"
                 f"{_ctrl(h)}.")
    caec_trees = [h for h in trees if not h.key.startswith("tree:before")]
    if caec_trees:
        same_ctrl = len({h.control for h in caec_trees}) == 1
        parts = [f"{h.detail} clusters: {h.text}{_chance_clause(h)}{'' if same_ctrl else _ctrl(h)}"
                 for h in caec_trees]
        s.append("Its CAEC relation trees recover " + "; ".join(parts)
                 + (f"{_ctrl(caec_trees[0])} each" if same_ctrl and caec_trees[0].control else "") + ".")
    l2h = [h for h in by.get("l2h", []) if h.key.endswith(":recall")]
    for h in l2h:
        s.append(f"{h.method} recovers {h.text}{_chance_clause(h)}{_seeds_note(h)}{_ctrl(h)}.")
    dps = [h for h in by.get("l2h", []) if h.key.endswith(":dp")]
    if dps:
        s.append("Dendrogram purity: " + ", ".join(f"{h.method} {h.text}{_split_note(h)}" for h in dps) + ".")
    for h in by.get("flat", []):
        s.append(f"The best flat clustering, {h.detail}, reaches AMI {h.text} "
                 f"(0 = chance{_seeds(h.n)}){_split_note(h)}{_ctrl(h)}.")
    heads = by.get("heads", [])
    if heads:
        parts = [f"{h.method} {h.text}{_seeds_paren(h)}" for h in heads]
        split = " on the held-out eval split" if any(h.split == "eval" for h in heads) else ""
        demo = ""
        if (facts.get("changed_settings") or {}).get("heads") and any(h.key.split(":")[1] not in ("kmeans", "probe")
                                                                      for h in heads):
            demo = " (the heads trained with shortened settings: see Cautions)"
        s.append(f"Clustering accuracy{split}: " + ", ".join(parts) + demo + ".")
    me = by.get("me", [])
    if me:
        acc = next((h for h in me if h.key == "me:acc_all"), None)
        clean = next((h for h in me if h.key == "me:acc_clean"), None)
        text = "Merge & Expand"
        if acc is not None:
            text += f" reaches ACC {acc.text} on all samples"
        if clean is not None:
            text += f" and {clean.text} on the samples it calls clean" + (
                f" ({clean.detail} of them)" if clean.detail else "")
        s.append(text + f"{_split_note(acc or clean)}{_seeds_note(acc or clean)}.")
    caec = by.get("caec", [])
    metrics = list(dict.fromkeys(h.key.split(":")[1] for h in caec))
    for m in metrics:
        hs = {h.key.split(":")[2]: h for h in caec if h.key.split(":")[1] == m}
        parts = [f"{hs[c].score} {hs[c].text}" for c, _ in _CAEC_SCORES if c in hs]
        s.append(f"CAEC clusters ({m}): " + ", ".join(parts) + ".")
    return s


def _ctrl(h):
    return f"; the planted control: {h.control}" if h.control else ""


def _split_note(h):
    return " (held-out eval split)" if h is not None and h.split == "eval" else ""


def _seeds_note(h):
    return "" if h is None or h.n <= 1 else f" (mean of {h.n} seeds)"


def _seeds_paren(h):
    return "" if h.n <= 1 else f" (mean of {h.n} seeds)"


# ---------------------------------------------------------------------------------------- cautions


def _cautions(data, missing, facts, runs):
    out = []
    changed = facts.get("changed_settings") or {}
    for section, lines in changed.items():
        if lines:
            out.append(Caution("settings", f"{_SECTION_WORDS.get(section, section)}: " + "; ".join(lines)
                               + ". These numbers demonstrate the pipeline; they are not the papers' setup."))
    used = list(dict.fromkeys(enc for _, enc in facts["runs"]))
    for enc in used:
        if facts["encoders"].get(enc, {}).get("pretrained") is False:
            on = [ds for ds, e in facts["runs"] if e == enc]
            out.append(Caution("random-weights",
                               f"{enc} has random weights (pretrained: false): its clusters and trees on "
                               f"{', '.join(on)} are structural baselines (what the architecture alone gives), "
                               "not findings about a learned representation.", run=None))
    summary = data.get("summary")
    per_class = data.get("per_class")
    for ds, enc in facts["runs"]:
        rows = _rows(summary, ds, enc)
        for r in rows.to_dict("records"):
            m = r.get("metric")
            n_small = r.get("n_small_clusters")
            n_cls = r.get("n_classes")
            pc = _rows(per_class, ds, enc, metric=m)
            zero = int((_num(pc, "coverage") == 0).sum()) if len(pc) else 0
            n_total = len(pc) if len(pc) else n_cls
            stuck = _stopped_at_first_step(pc, _f(r.get("step")))
            stuck_text = (f"{stuck} of {n_total} classes {_have(stuck)} the bounding radius within the first "
                          "radius step (the growth curve stops at once)") if stuck else ""
            if str(r.get("degenerate")).lower() in ("true", "1", "1.0"):
                out.append(Caution("degenerate",
                                   f"{_run_label(ds, enc)}, CAEC {m}: DEGENERATE — {int(n_small)} of {int(n_cls)} "
                                   f"clusters {_have(n_small)} fewer than {int(r.get('min_cluster_size', 0))} members"
                                   + (f", {zero} of {n_total} classes {_have(zero)} coverage 0 %" if zero else "")
                                   + (f", {stuck_text}" if stuck else "")
                                   + "; its scores describe a handful of embeddings, whatever their values ("
                                   + ", ".join(f"{label} {_pct(_f(r.get(col)))}" for col, label in _CAEC_SCORES
                                               if _f(r.get(col)) is not None)
                                   + "; marked † in the tables).", run=(ds, enc)))
            elif (n_small is not None and _f(n_small) and _f(n_small) > 0) or zero or stuck:
                what = []
                if _f(n_small):
                    what.append(f"{int(_f(n_small))} of {int(n_cls)} clusters {_have(_f(n_small))} fewer than "
                                f"{int(r.get('min_cluster_size', 0))} members")
                if zero:
                    what.append(f"{zero} of {n_total} classes {_have(zero)} coverage 0.00")
                if stuck:
                    what.append(stuck_text)
                out.append(Caution("small-clusters", f"{_run_label(ds, enc)}, CAEC {m}: " + " and ".join(what)
                                   + " (marked † in the tables; never bold).", run=(ds, enc)))
    heads = data.get("heads")
    if heads is not None and len(heads) and "degenerate" in heads.columns:
        bad = heads[_truthy(heads["degenerate"])]
        for (ds, enc, method), g in bad.groupby(["dataset", "encoder", "method"], sort=False):
            where = ", ".join(sorted({f"{r.get('granularity', 'classes')}"
                                      + (f" seed {r['seed']}" if "seed" in r else "")
                                      + (f" ({r['split']})" if "split" in r else "") for r in g.to_dict("records")}))
            out.append(Caution("degenerate", f"{_run_label(ds, enc)}, {METHOD_LABELS.get(method, method)}: fewer than "
                               f"two clusters used ({where}); its ACC / NMI mean little.", run=(ds, enc)))
    for run in runs:
        for h in run.headlines:
            if h.p is not None and math.isfinite(h.p) and h.p >= CHANCE_ALPHA:
                out.append(Caution("chance", f"{_run_label(run.dataset, run.encoder)}: {h.method} recovers {h.text}"
                                   f"{_chance_clause(h)} — not better than chance (p >= {CHANCE_ALPHA}).",
                                   run=(run.dataset, run.encoder)))
    gaps = []
    for fam, miss in (missing or {}).items():
        if miss is not None and len(miss):
            for r in miss.to_dict("records"):
                gaps.append(str(r.get("reason", fam)))
    if gaps:
        shown = "; ".join(gaps[:8]) + (f"; and {len(gaps) - 8} more" if len(gaps) > 8 else "")
        out.append(Caution("missing", f"{len(gaps)} per-run result(s) are missing, so this is a partial report "
                           f"(report.partial: true) and the numbers cover only what exists: {shown}."))
    rank = list(CAUTION_KINDS)
    return sorted(out, key=lambda c: rank.index(c.kind))


def _stopped_at_first_step(per_class, step):
    """Classes whose bounding radius r_b lies within one radius step of the start r0 (CAEC eq. 1-4:
    the cluster stopped growing at its first step), from a run's per_class rows; 0 when unknown."""
    if step is None or not len(per_class) or not {"r_b", "r0"} <= set(per_class.columns):
        return 0
    grown = pd.to_numeric(per_class["r_b"], errors="coerce") - pd.to_numeric(per_class["r0"], errors="coerce")
    return int((grown <= step * (1 + 1e-9)).sum())


def _have(n):
    return "has" if n == 1 else "have"


def _f(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------- findings


def build_findings(data, missing=None, facts=None):
    """The findings of a run from its per-run tables.

    Parameters
    ----------
    data : dict of str -> DataFrame
        Per-run tables by family, as :func:`embtree.report.load.load_families` returns them:
        ``summary`` / ``per_class`` (CAEC), ``trees``, ``l2h``, ``flat``, ``merge_expand``,
        ``heads``, ``probe``. Absent or empty families are left out of the page.
    missing : dict of str -> DataFrame, optional
        The ``missing`` of ``load_families`` (partial report): each row a missing result.
    facts : dict
        :func:`run_facts`' result.

    Returns
    -------
    Findings
        ``runs``: one :class:`RunFindings` per run of ``facts["runs"]`` with its headline numbers
        (planted control filled in) and sentences; ``cautions``: every :class:`Caution`, ordered by
        :data:`CAUTION_KINDS`; ``overview``: the opening sentences.
    """
    if not isinstance(data, dict):
        raise ValueError(f"data should be a dict family -> DataFrame, got {type(data).__name__}")
    if not isinstance(facts, dict) or "runs" not in facts:
        raise ValueError("facts should be run_facts()' dict (with 'runs')")
    runs = []
    for ds, enc in facts["runs"]:
        role = None
        if facts["datasets"].get(ds, {}).get("type") == "planted-tree":
            role = "planted control: the tree is known, so the pipeline should recover it"
        elif facts["encoders"].get(enc, {}).get("pretrained") is False:
            role = "random weights: a structural baseline, not a finding"
        heads = _heads_headlines(data.get("heads"), data.get("probe"), ds, enc)
        run = RunFindings(ds, enc, role, headlines=(
            _tree_headlines(data.get("trees"), ds, enc, facts) + _l2h_headlines(data.get("l2h"), ds, enc, facts)
            + _flat_headlines(data.get("flat"), ds, enc) + heads + _me_headlines(data.get("merge_expand"), ds, enc)
            + _caec_headlines(data.get("summary"), ds, enc, facts)))
        runs.append(run)
    controls = [r for r in runs if facts["datasets"].get(r.dataset, {}).get("type") == "planted-tree"]
    if controls:
        ctrl = {h.key: h for h in controls[0].headlines}
        for run in runs:
            if run is controls[0]:
                continue
            for h in run.headlines:
                if h.key in ctrl:
                    c = ctrl[h.key]
                    h.control = c.text + (f" ({fmt_p(c.p)})" if c.p is not None else "")
    for run in runs:
        run.sentences = _sentences(run, facts)
    cautions = _cautions(data, missing, facts, runs)
    n_ds = len(dict.fromkeys(ds for ds, _ in facts["runs"]))
    overview = [f"This run covers {len(runs)} data set x encoder run(s) on {n_ds} data set(s). Every number on "
                "this page is read from the run's per-run result tables; the tables and figures of the other "
                "sections hold the rest."]
    if controls:
        c = controls[0]
        rec = next((h for h in c.headlines if h.key.startswith("tree:before")), None)
        if rec is not None:
            overview.append(f"Planted control ({c.dataset}): the tree on the class means recovers {rec.text} of the "
                            f"planted tree{_chance_clause(rec)}; a method that fails there fails on any data.")
    if cautions:
        kinds = [CAUTION_KINDS[k][0].lower() + CAUTION_KINDS[k][1:] for k in dict.fromkeys(c.kind for c in cautions)]
        overview.append(f"{len(cautions)} caution(s) below ({', '.join(kinds)}): read the numbers with them.")
    else:
        overview.append("The run raised no caution.")
    return Findings(overview=overview, runs=runs, cautions=cautions)


# ---------------------------------------------------------------------------------------- rendering


_COLUMNS = ["Method", "Score", "Value", "Chance", "p", "Planted control"]


def _cells(h):
    value = h.text + ("" if h.n <= 1 else f" (n={h.n})") + (" [eval]" if h.split == "eval" else "")
    chance = _chance_text(h) + (f" of {h.of} clades" if h.of and _chance_text(h) else "")
    p = "" if h.p is None or not math.isfinite(h.p) else fmt_p(h.p).replace("p ", "", 1).replace("= ", "")
    return [h.method, h.score, value, chance, p, h.control or ""]


def findings_markdown(findings):
    """The findings page as Markdown (``results/report/findings.md``)."""
    lines = ["# Findings", ""]
    lines += [*findings.overview, ""]
    lines += ["## Cautions", ""]
    if not findings.cautions:
        lines += ["None.", ""]
    for kind, heading in CAUTION_KINDS.items():
        items = [c for c in findings.cautions if c.kind == kind]
        if items:
            lines += [f"**{heading}**", ""] + [f"- {c.text}" for c in items] + [""]
    for run in findings.runs:
        lines += [f"## {_run_label(run.dataset, run.encoder)}", ""]
        if run.role:
            lines += [f"*{run.role[0].upper() + run.role[1:]}.*", ""]
        if not run.headlines:
            lines += ["No per-run result of this run was found.", ""]
            continue
        lines += [f"- {s}" for s in run.sentences] + [""]
        lines += ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(h)) + " |" for h in run.headlines]
        lines += [""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = ("body{font-family:system-ui,sans-serif;font-size:14px;margin:12px;max-width:75em}"
          "h1{font-size:22px}h2{font-size:17px;margin-top:1.4em;border-bottom:1px solid #ddd}"
          "table{border-collapse:collapse;margin:6px 0 12px}th,td{padding:2px 8px;border-bottom:1px solid #ddd;"
          "text-align:left}thead th{background:#f4f4f4}.cautions{background:#fff6e0;border-left:4px solid #e0a000;"
          "padding:4px 12px}.role{color:#555;font-style:italic}")


def findings_html(findings):
    """The findings page as a standalone HTML page (``results/report/findings.html``, the report's first item)."""
    esc = html.escape
    out = ['<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Findings</title>',
           f"<style>{_STYLE}</style></head><body>", "<h1>Findings</h1>"]
    out += [f"<p>{esc(s)}</p>" for s in findings.overview]
    out.append('<div class="cautions"><h2 id="cautions">Cautions</h2>')
    if not findings.cautions:
        out.append("<p>None.</p>")
    for kind, heading in CAUTION_KINDS.items():
        items = [c for c in findings.cautions if c.kind == kind]
        if items:
            out.append(f"<p><b>{esc(heading)}</b></p><ul>" + "".join(f"<li>{esc(c.text)}</li>" for c in items)
                       + "</ul>")
    out.append("</div>")
    for run in findings.runs:
        out.append(f"<h2>{esc(_run_label(run.dataset, run.encoder))}</h2>")
        if run.role:
            out.append(f'<p class="role">{esc(run.role[0].upper() + run.role[1:])}.</p>')
        if not run.headlines:
            out.append("<p>No per-run result of this run was found.</p>")
            continue
        out.append("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in run.sentences) + "</ul>")
        out.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in _COLUMNS) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(h)) + "</tr>" for h in run.headlines]
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------- captions


def caption_html(rst_text, context):
    """A report caption (``workflow/report/<name>.rst``: Jinja over reStructuredText, as Snakemake
    renders it behind a report item's ⓘ) rendered to an HTML fragment, so that a table page can show
    it beside its table. ``context``: the Jinja names, e.g. ``{"snakemake": <the job's snakemake>}``.
    """
    # Deferred: jinja2 and docutils come with Snakemake (the workflow extra), not with embtree.
    import docutils
    import jinja2
    from docutils.core import publish_parts

    text = jinja2.Template(rst_text).render(**context)
    # docutils 0.22 takes the writer's name as `writer` (writer_name is deprecated there).
    writer = {"writer": "html"} if docutils.__version_info__ >= (0, 22) else {"writer_name": "html"}
    settings = {"report_level": 5, "halt_level": 5, "warning_stream": False}
    return publish_parts(text, settings_overrides=settings, **writer)["body"].strip()


CAPTION_CLASS = "caption"


def with_caption(page, caption):
    """The standalone HTML ``page`` of a report table with ``caption`` (an HTML fragment) in a
    ``<div class="caption">`` under the table and its notes (at the end of its body); ``page``
    unchanged when it carries such a caption already (a table writer that adds its own) or
    ``caption`` is empty."""
    if f'class="{CAPTION_CLASS}"' in page or not caption:
        return page
    block = (f'<div class="{CAPTION_CLASS}" style="color:#333;max-width:70em;margin:12px 0;padding-top:4px;'
             f'border-top:1px solid #ddd;font-size:13px;white-space:normal">'
             f"<p><b>How to read this table</b></p>{caption}</div>\n")
    at = page.rfind("</body>")
    if at < 0:
        return page + block
    return page[:at] + block + page[at:]
