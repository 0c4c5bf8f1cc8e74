"""embtree.io: atomic writes and byte-identical figures."""

import os

import numpy as np
import pytest

from embtree.io import atomic_path, save_npz


def test_atomic_path_removes_temporary_on_error(tmp_path):
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_umask_permissions_not_mkstemp_0600(tmp_path):
    save_npz(tmp_path / "a.npz", x=np.zeros(2))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o666 & ~umask


def test_savefig_is_byte_identical_across_processes(tmp_path):
    # matplotlib draws SVG clip-path / glyph ids from a per-process random salt and stamps a
    # date; embtree.io.savefig fixes both, so two processes write the same bytes.
    import subprocess
    import sys

    code = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from embtree.io import savefig
fig, ax = plt.subplots()
ax.plot([0, 1, 2], [2, 0, 1]); ax.set_title("clip paths and text"); ax.set_xlim(0.5, 1.5)
for ext in ("svg", "png", "pdf"):
    savefig(fig, sys.argv[1] + "." + ext, dpi=40)
"""
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True, timeout=120)
    for ext in ("svg", "png", "pdf"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes(), ext
    svg = (tmp_path / "a.svg").read_text()
    assert "<dc:date>" not in svg and "clipPath" in svg
