"""embtree.report.figures.heatmaps: table heatmaps mark the cells their tables flag, axes are named."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from embtree import report as R
from embtree.report.common import CHANCE_MARK, SMALL_CLUSTER_MARK
from embtree.report.figures.heatmaps import caec_heatmap_tables


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts] + [
        t.get_text() for lg in fig.legends for t in lg.get_texts()]


def _hatched(ax):
    """{(row, col): hatch} of the hatched cell marks drawn on ``ax``."""
    out = {}
    for p in ax.patches:
        gid = p.get_gid() or ""
        if ":" in gid:
            i, j = gid.split(":")[1].split(",")
            out[int(i), int(j)] = p.get_hatch()
    return out


@pytest.fixture
def flagged_summary():
    """Two encoders on one dataset; the random one has clusters below caec.min_cluster_size."""
    rows = [dict(dataset="digits", encoder=enc, metric=m, purity=p, purity_mean=p, ri=0.95, nmi=0.5,
                 n_small_clusters=5 if enc == "random" else 0, degenerate=enc == "random")
            for enc, p in (("pixels", 0.9), ("random", 0.97)) for m in ("euclidean", "cosine")]
    return pd.DataFrame(rows)


def test_caec_heatmap_marks_the_cells_the_tables_flag(flagged_summary):
    tables, _ = caec_heatmap_tables(flagged_summary)
    fig = R.plot_caec_heatmaps(flagged_summary)
    heat = [ax for ax in fig.axes if ax.images]
    assert len(heat) == 3
    for ax, t, value in zip(heat, tables, ("0.97", "0.95", "0.50")):
        flagged = {(i, j) for i, j in zip(*t.flagged.to_numpy().nonzero())}
        assert flagged == {(2, 0), (3, 0)}  # random / euclidean, random / cosine
        assert set(_hatched(ax)) == flagged and set(_hatched(ax).values()) == {"///"}
        marked = {t.get_text() for t in ax.texts if t.get_text().endswith(SMALL_CLUSTER_MARK)}
        assert marked == {f"{value}{SMALL_CLUSTER_MARK}"}
        assert ax.get_xlabel() == "dataset"
    assert heat[0].get_ylabel() == "encoder / metric"
    # The legend line is the table's own note for the mark.
    notes = [n for n in tables[0].notes if n.startswith(SMALL_CLUSTER_MARK)]
    assert notes and any(notes[0] in t for t in _texts(fig))
    plt.close(fig)


def test_caec_heatmap_without_flags_has_no_marks(caec_summary):
    fig = R.plot_caec_heatmaps(caec_summary)
    assert not any(_hatched(ax) for ax in fig.axes) and not fig.legends
    plt.close(fig)


def test_heatmap_marks_chance_cells_and_names_axes():
    values = pd.DataFrame([[0.5, 0.9], [0.7, 0.2]], index=pd.Index(["a", "b"], name="encoder"),
                          columns=pd.Index(["x", "y"], name="dataset"))
    t = R.ReportTable("t", "title", values)
    t.chance.iloc[1, 0] = True
    t.notes.append(f"{CHANCE_MARK} not better than chance")
    fig = R.plot_heatmap(t, value_label="score")
    ax = fig.axes[0]
    assert _hatched(ax) == {(1, 0): "\\\\\\"}
    assert f"0.70{CHANCE_MARK}" in _texts(fig) and any("not better than chance" in s for s in _texts(fig))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("dataset", "encoder")
    assert fig.axes[1].get_ylabel() == "score"  # the colour bar
    plt.close(fig)


def test_flat_heatmap_spans_the_full_score_range():
    flat = pd.DataFrame([dict(dataset="d", encoder="e", clusterer=c, reducer="none", seed=0, ami=a)
                         for c, a in (("kmeans", 0.50), ("spectral", 0.52))])
    fig = R.plot_flat_heatmap(flat)
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)  # 0.50 vs 0.52 is not drawn as black vs yellow
    assert fig.axes[0].get_xlabel() == "dataset / encoder" and fig.axes[0].get_ylabel() == "clusterer / reducer"
    plt.close(fig)


def test_flat_group_heatmap_draws_the_mean_over_clusterers_and_the_rank():
    flat = pd.DataFrame([dict(dataset=ds, encoder=e, clusterer=c, reducer="pca", seed=0, ami=a)
                         for e, c, ds, a in (("a", "kmeans", "d1", 0.6), ("a", "spectral", "d1", 0.4),
                                             ("b", "kmeans", "d1", 0.2), ("b", "spectral", "d1", 0.2),
                                             ("a", "kmeans", "d2", 0.1), ("a", "spectral", "d2", 0.1),
                                             ("b", "kmeans", "d2", 0.3), ("b", "spectral", "d2", 0.5))])
    fig = R.plot_flat_group_heatmap(flat, {"groups": {"d1": "in-domain", "d2": "far-ood"}})
    ax = fig.axes[0]
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["in-domain", "far-ood"]
    # a: in-domain (0.6 + 0.4) / 2 = 0.50, rank 1; far-ood 0.10, rank 2; b: 0.20 (2), 0.40 (1)
    assert {"0.50 (1)", "0.10 (2)", "0.20 (2)", "0.40 (1)"} <= set(_texts(fig))
    plt.close(fig)


@pytest.mark.parametrize("make", [
    lambda: R.plot_caec_heatmaps(pd.DataFrame()),
    lambda: R.plot_flat_heatmap(pd.DataFrame()),
    lambda: R.plot_flat_group_heatmap(pd.DataFrame()),
    lambda: R.plot_heatmap(pd.DataFrame()),
])
def test_empty_heatmaps_say_no_data(make):
    fig = make()
    assert any(s.startswith("no data:") for s in _texts(fig))
    assert not any(ax.images for ax in fig.axes)
    plt.close(fig)


def test_caec_heatmap_dots_the_rows_of_random_weights_encoders(flagged_summary):
    fig = R.plot_caec_heatmaps(flagged_summary, baselines=["random"])
    ax = fig.axes[0]
    dotted = {(int(g.split(":")[1].split(",")[0]), int(g.split(",")[1])) for p in ax.patches
              if (g := p.get_gid() or "").startswith("unranked:")}
    assert dotted == {(2, 0), (3, 0)}
    assert any("random weights" in t for t in _texts(fig))  # the table's note (mark_baselines)
    plt.close(fig)
