"""embtree.report.figures.growth: CAEC growth curves from the per-run arrays."""

import matplotlib
import numpy as np
import pytest

from embtree import report as R


def test_growth_curves_from_caec_arrays():
    # Layout of caec growth.npz: increments `target` / `other` padded with NaN, radii per class.
    target = np.array([[1, 3, 2, np.nan], [0, 5, 1, 1]], dtype=float)
    arrays = dict(target=target, other=np.zeros_like(target), radii=np.arange(8.0).reshape(2, 4),
                  Y=np.cumsum(np.nan_to_num(target), axis=1), Z=np.zeros_like(target),
                  class_names=np.array(["a", "b"]))
    c = R.growth_curves(arrays, n_classes=1)
    assert c["class_names"] == ["a"]
    np.testing.assert_array_equal(c["target"], target[:1])
    np.testing.assert_array_equal(c["radii"], [[0, 1, 2, 3]])
    # Only cumulative counts: differenced (Y_{r+1} - Y_r), radii shifted to the step's end.
    cum = R.growth_curves({k: arrays[k] for k in ("Y", "Z", "radii", "class_names")}, n_classes=0)
    np.testing.assert_array_equal(cum["target"], [[3, 2, 0], [5, 1, 1]])
    np.testing.assert_array_equal(cum["radii"][1], [5, 6, 7])
    with pytest.raises(ValueError, match="known count keys"):
        R.growth_curves({"foo": target})
    fig = R.plot_growth_grid([("euclidean", c), ("manhattan", c)], title="t")
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)  # 1 class x 2 runs: target + other
    # As the caption says: target blue, other red, r_b dashed and r_f dotted when known.
    marked = R.growth_curves({**arrays, "r_b": np.array([2.5, 6.0]), "r_f": np.array([1.0, 5.0])}, n_classes=2)
    fig = R.plot_growth_grid([("euclidean", marked)])
    ax = fig.axes[0]
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in ax.lines[:2]]
    assert colours == [matplotlib.colors.to_hex("tab:blue"), matplotlib.colors.to_hex("tab:red")]
    assert [(line.get_linestyle(), line.get_xdata()[0]) for line in ax.lines[2:]] == [("--", 2.5), (":", 1.0)]


def test_plot_growth_names_a_bad_shape():
    with pytest.raises(ValueError, match="target shape"):
        R.plot_growth(np.ones((2, 3)), np.ones((2, 4)), ["a", "b"])


def test_growth_grid_names_axes_and_notes_empty_panels():
    target = np.array([[1, 3, 2], [np.nan, np.nan, np.nan]])
    c = dict(target=target, other=np.zeros_like(target), class_names=["a", "b"], radii=np.arange(3.0))
    fig = R.plot_growth_grid([("euclidean", c)])
    top, bottom = fig.axes
    assert top.get_ylabel() == "class a\nnew embeddings per step" and bottom.get_xlabel().startswith("radius r")
    assert not bottom.lines and any(t.get_text().startswith("no data:") for t in bottom.texts)
    fig = R.plot_growth_grid([])
    assert any(t.get_text().startswith("no data:") for ax in fig.axes for t in ax.texts)
